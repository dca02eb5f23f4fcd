"""The published population tables of a study, shared by ``run`` and ``score``:
aggregates by grouping, targeting strategies, scenarios and the demand forecast."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..population import (
    DisclosureRules,
    EstimatedEffect,
    Scenario,
    add_segments,
    aggregate,
    capacity_curve,
    compare_strategies,
    demand_forecast,
    family_keys,
    latest_profiles,
    parent_area,
    scenario_table,
    total_count_limits,
)
from ..schema import ColumnRoles, parse_profile_dates

__all__ = ["demand_forecasts", "expand_groupings", "planning_curve", "population_tables"]


def score_plan(
    frame: pd.DataFrame, roles: ColumnRoles, groupings: list[str]
) -> tuple[list[str], list[tuple[str, str]]]:
    """What ``score`` will write for ``frame`` and what it will not, with why: the same
    kind of plan ``run`` prints, made before any work."""
    seg = add_segments(frame.head(50), roles)
    writes = [
        f"population_by_{by}.csv" for by in expand_groupings(groupings, roles) if by in seg.columns
    ]
    writes += ["strategies.csv", "scenarios.csv", "capacity_curve.csv"]
    writes += [f"demand_forecast_by_{by}.csv" for by in demand_groupings(frame, roles, groupings)]
    skipped: list[tuple[str, str]] = []
    if not (roles.outcome and roles.outcome in frame.columns):
        skipped.append(
            (
                "observed escalations and observed-over-expected ratios",
                "the file has no outcome column",
            )
        )
    if not roles.area:
        skipped.append(("tables and forecasts by area", "the data has no 'area' role"))
    if not roles.deprivation:
        skipped.append(
            ("the most-deprived-areas-first strategy", "the data has no 'deprivation' role")
        )
    if not roles.think_family:
        skipped.append(("the 5+ indicators strategy", "the data has no Think Family indicators"))
    if not roles.lone_parent:
        skipped.append(("tables by family type", "the roles name no lone_parent column"))
    if not (roles.profile_date and roles.profile_date in frame.columns):
        skipped.append(("the latest year", "no profile dates: capacity figures cover every family"))
    return writes, skipped


def population_tables(
    frame: pd.DataFrame,
    roles: ColumnRoles,
    proba: Any,
    *,
    groupings: list[str],
    capacity: float | int,
    scenario: Scenario | None = None,
    oracle: Any = None,
    confidence: float = 0.95,
    random_state: int = 0,
    forecast: bool = True,
    rules: DisclosureRules | None = None,
) -> dict[str, pd.DataFrame]:
    """Every published population table for families ``frame`` with probabilities
    ``proba``: aggregates by each grouping, strategies, scenarios and (unless
    ``forecast=False``) the demand forecast. With outcomes, observed counts and ratios too.
    All pass disclosure control."""
    outcome = roles.outcome if roles.outcome and roles.outcome in frame.columns else None
    seg = add_segments(frame, roles)
    keys = family_keys(frame, roles)
    tables: dict[str, pd.DataFrame] = {}
    for by in expand_groupings(groupings, roles):
        if by in seg.columns:
            tables[f"population_by_{by}.csv"] = _named(
                aggregate(
                    seg,
                    proba,
                    by,
                    outcome=outcome,
                    confidence=confidence,
                    rules=rules,
                    keys=keys,
                    parent=parent_area(by, roles),
                ),
                by,
                roles,
            )
    tables["strategies.csv"] = compare_strategies(
        frame,
        roles,
        proba,
        capacity=capacity,
        oracle=oracle,
        confidence=confidence,
        random_state=random_state,
        rules=rules,
        estimated=(scenario or Scenario()).estimated,
    )
    tables["scenarios.csv"] = scenario_table(
        frame,
        roles,
        proba,
        scenario or Scenario(),
        capacity=capacity,
        oracle=oracle,
        confidence=confidence,
        random_state=random_state,
        rules=rules,
    )
    if forecast:
        tables["capacity_curve.csv"] = planning_curve(
            frame,
            roles,
            proba,
            capacity=capacity,
            risk_reduction=(scenario or Scenario()).risk_reduction,
            confidence=confidence,
            rules=rules,
        )
        tables.update(
            demand_forecasts(
                frame, roles, proba, groupings=groupings, confidence=confidence, rules=rules
            )
        )
    return tables


def expand_groupings(groupings: list[str], roles: ColumnRoles) -> list[str]:
    """The groupings with ``area`` replaced by the area columns, coarsest first.

    >>> expand_groupings(["area", "family_type"], ColumnRoles(area=("Ward", "LA")))
    ['LA', 'Ward', 'family_type']
    """
    out: list[str] = []
    for by in groupings:
        out += list(roles.area[::-1]) if by == "area" else [by]
    return list(dict.fromkeys(out))


def demand_forecasts(
    frame: pd.DataFrame,
    roles: ColumnRoles,
    proba: Any,
    *,
    groupings: list[str] | None = None,
    confidence: float = 0.95,
    calibration_se: float = 0.0,
    rules: DisclosureRules | None = None,
) -> dict[str, pd.DataFrame]:
    """The demand forecast by each area level, coarsest first, then by each family
    grouping in ``groupings`` that is not an area (who the demand is); none without
    profile dates (the latest year cannot be told)."""
    if not roles.profile_date:
        return {}
    seg = add_segments(frame, roles)
    by_group = demand_groupings(seg, roles, groupings or [], segmented=True)
    if not by_group:
        return {}
    # every grouping has the same families and total: the latest profiles, their record
    # keys and the total's limits once (at 8,000,000 families finding the latest
    # profiles took 0.5 s a grouping, the keys 0.3 s, the total's limits 0.6 s)
    recent = latest_profiles(seg, roles)
    keys = family_keys(seg.loc[recent], roles)
    total = total_count_limits(
        seg, proba, roles, confidence=confidence, calibration_se=calibration_se, recent=recent
    )
    return {
        f"demand_forecast_by_{by}.csv": _named(
            demand_forecast(
                seg,
                proba,
                by,
                roles,
                confidence=confidence,
                calibration_se=calibration_se,
                rules=rules,
                total_limits=total,
                recent=recent,
                keys=keys,
            ),
            by,
            roles,
        )
        for by in by_group
    }


def _named(table: pd.DataFrame, by: str, roles: ColumnRoles) -> pd.DataFrame:
    """An area table with the council's names beside the codes (``area_name``, empty
    for a code it did not name), where the roles give names; else as it is.

    >>> t = pd.DataFrame({"LA": ["A", "B"], "families": [10, 20]})
    >>> _named(t, "LA", ColumnRoles(area=("LA",), area_names={"A": "Northtown"}))
    ... # doctest: +NORMALIZE_WHITESPACE
      LA  area_name  families
    0  A  Northtown        10
    1  B        NaN        20
    """
    if by in roles.area and roles.area_names and by in table.columns:
        names = [roles.area_name(code) for code in table[by]]
        table.insert(int(table.columns.get_loc(by)) + 1, "area_name", names)
    return table


def demand_groupings(
    frame: pd.DataFrame, roles: ColumnRoles, groupings: list[str], *, segmented: bool = False
) -> list[str]:
    """The groupings a demand forecast is made by: each area level, coarsest first, then
    each family grouping that is not an area; none without profile dates."""
    if not roles.profile_date:
        return []
    seg = frame if segmented else add_segments(frame.head(50), roles)
    groups = [g for g in expand_groupings(groupings, roles) if g not in roles.area]
    return [*roles.area[::-1], *(g for g in groups if g in seg.columns)]


def planning_curve(
    frame: pd.DataFrame,
    roles: ColumnRoles,
    proba: Any,
    *,
    capacity: float | int,
    risk_reduction: Mapping[str, float],
    confidence: float = 0.95,
    calibration_se: float = 0.0,
    rules: DisclosureRules | None = None,
    otherwise: str = "given",
    estimated: EstimatedEffect | None = None,
) -> pd.DataFrame:
    """The capacity curve for the families a service plans for: each family's latest
    profile where there are profile dates, else every family given (``attrs["families"]``
    says which: "latest year's", or ``otherwise``; ``attrs["n_families"]`` how many, an
    exact count to publish through ``publish_count``; ``attrs["period"]`` the first and
    last profile dates they cover, where there are dates)."""
    period: tuple[str, str] | None = None
    if roles.profile_date and roles.profile_date in frame.columns and len(frame):
        recent, families = latest_profiles(frame, roles), "latest year's"
        dates = parse_profile_dates(frame, roles)[recent]
        period = (f"{dates.min():%d/%m/%Y}", f"{dates.max():%d/%m/%Y}")
    else:
        recent, families = np.ones(len(frame), dtype=bool), otherwise
    table = capacity_curve(
        np.asarray(proba, dtype=float)[recent],
        capacity=capacity,
        risk_reduction=dict(risk_reduction),
        confidence=confidence,
        calibration_se=calibration_se,
        rules=rules,
        keys=family_keys(frame, roles)[recent],
        estimated=estimated,
    )
    table.attrs["families"] = families
    table.attrs["n_families"] = int(recent.sum())
    table.attrs["period"] = period
    return table

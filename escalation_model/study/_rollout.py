"""The study's roll-out estimate: where the configuration names the date early help
started in each area, the staggered difference in differences by quarter of profile
(``impact.staggered_did``) on every labelled family. The file is read and checked with
the plan, before any work; what leaves is published (rates, the families rounded; no
cohort's own effect, only the event study and the overall effect)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from .._publish import DisclosureRules, publish_count
from ..config import RunConfig
from ..schema import ColumnRoles, Problem, parse_profile_dates

__all__ = ["ROLLOUT", "RolloutPlan", "estimate_rollout", "rollout_plan"]

#: The analysis as the plan's skipped lines name it.
ROLLOUT = "the roll-out estimate (difference in differences across areas)"


@dataclass(frozen=True)
class RolloutPlan:
    """The area column, each started area's first quarter, and the file they came from."""

    area: str
    started: dict[str, pd.Period]
    file: str


def rollout_plan(
    config: RunConfig, frame: pd.DataFrame, roles: ColumnRoles
) -> tuple[RolloutPlan | None, str | None, list[Problem]]:
    """``(plan, None, [])`` when the roll-out estimate runs; ``(None, why, [])`` when it
    is skipped; ``(None, None, problems)`` when the file cannot be used (every problem,
    with its fix)."""
    c = config.impact
    if c.rollout is None:
        return None, "no [impact] rollout file names the areas and the dates they started", []
    if not roles.outcome or roles.outcome not in frame.columns or not roles.profile_date:
        return None, "the data has no outcome or no profile dates", []
    area = c.rollout_area or (roles.area[0] if roles.area else None)
    if area is None or area not in frame.columns:
        fix = "set [impact] rollout_area to the column of the data holding the area codes"
        return None, None, [Problem("[impact] rollout_area", f"no area column {area!r}", fix)]
    table, problems = _read(c.rollout)
    if not {"area", "started"} <= set(table.columns):
        return None, None, problems
    codes = table["area"].astype(str).str.strip()
    known = set(frame[area].dropna().astype(str))
    unknown = sorted(set(codes) - known)
    if unknown:
        problems.append(
            Problem(
                "area",
                f"area codes not in the data's column '{area}'",
                f"use the codes of '{area}' (or set [impact] rollout_area to their column)",
                examples=tuple(unknown[:5]),
                n_rows=len(unknown),
                file=c.rollout,
            )
        )
    if codes.duplicated().any():
        problems.append(
            Problem("area", "areas listed twice", "give each area one start date", file=c.rollout)
        )
    if len(set(codes)) >= len(known):
        problems.append(
            Problem(
                "area",
                "every area started: there is no comparison area",
                "the estimate compares areas that started with areas that did not",
                file=c.rollout,
            )
        )
    if problems:
        return None, None, problems
    started = {a: d.to_period("Q") for a, d in zip(codes, table["started"], strict=True)}
    return RolloutPlan(area, started, c.rollout), None, []


def _read(path: str) -> tuple[pd.DataFrame, list[Problem]]:
    from ..returns._common import parse_return_dates, read_text_csv

    table, problems = read_text_csv(
        path,
        ("area", "started"),
        what="the roll-out file",
        fix="give a CSV with columns area and started, one row per area where early help started",
        missing_rule="the roll-out file lacks a column it must have",
        missing_fix="add {missing} (the area's code and the date early help started there)",
    )
    if problems:
        return table, problems  # unreadable, or without the columns
    table["started"], found = parse_return_dates(
        table["started"], file=path, column="started", required=True
    )
    return table, found


def estimate_rollout(
    frame: pd.DataFrame,
    roles: ColumnRoles,
    plan: RolloutPlan,
    rules: DisclosureRules,
    seed: int,
) -> tuple[dict[str, Any] | None, Any, list[str]]:
    """The published section, the estimate itself (for its figure, in memory) and notes."""
    from ..impact import staggered_did

    quarter = parse_profile_dates(frame, roles).dt.to_period("Q")
    data = pd.DataFrame(
        {
            "area": frame[plan.area].astype(str).to_numpy(),
            "quarter": quarter.to_numpy(),
            "y": frame[roles.outcome].to_numpy(),
        }
    ).dropna()
    try:
        est = staggered_did(
            data,
            unit="area",
            period="quarter",
            outcome="y",
            started=plan.started,
            random_state=seed,
        )
    except ValueError as exc:
        return None, None, [f"the roll-out estimate was not made: {str(exc).split(' Fix:')[0]}"]
    first, last = min(plan.started.values()), max(plan.started.values())
    section = {
        "area": plan.area,
        "periods": "quarters",
        "areas": est.units,
        "areas_started": est.treated_units,
        "start_dates": est.cohorts,
        "first_start": str(first),
        "last_start": str(last),
        "families": publish_count(len(data), rules),
        "att": est.att,
        "lower": est.lower,
        "upper": est.upper,
        "reduction": est.reduction,
        "reduction_lower": est.reduction_lower,
        "reduction_upper": est.reduction_upper,
        "pre_trend_p": est.pre_trend_p,
        "pre_trends_flat": est.pre_trends_flat,
        "event_study": est.event_study[
            ["event_time", "att", "lower", "upper", "band_lower", "band_upper"]
        ].to_dict(orient="records"),
    }
    return section, est, list(est.notes)

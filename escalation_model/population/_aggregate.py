"""Expected and observed escalations by area and segment, demand forecasts, monitoring."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2, poisson

from .._cellkey import cell_key, perturbation, record_keys
from .._limits import FIVE_OR_MORE, MOST_DEPRIVED_DECILE
from .._text import period_labels
from ..schema import ColumnRoles, parse_profile_dates
from ._disclosure import DisclosureRules, apply_disclosure_control
from ._poisson_binomial import chance_outside, count_limits, count_pmf, group_count_limits
from ._profile import count_indicators

__all__ = [
    "aggregate",
    "add_segments",
    "demand_forecast",
    "LATEST_YEAR_DAYS",
    "family_keys",
    "parent_area",
    "protected_total",
    "latest_profiles",
    "latest_year",
    "monitor",
    "observed_interval",
    "SEGMENTS",
]

#: Segments derived from the roles, usable as ``by`` in :func:`aggregate`.
SEGMENTS = ("n_think_family_band", "family_type", "deprivation_quintile", "most_deprived_areas")


def observed_interval(count: float, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson count."""
    a = 1 - confidence
    lo = 0.0 if count == 0 else chi2.ppf(a / 2, 2 * count) / 2
    hi = chi2.ppf(1 - a / 2, 2 * count + 2) / 2
    return float(lo), float(hi)


def family_keys(frame: pd.DataFrame, roles: ColumnRoles | None = None) -> np.ndarray:
    """The record key of each family of ``frame``, from its identifier (from its row
    position where the data has none: then a family's key changes with the file)."""
    roles = roles or ColumnRoles()
    if roles.family_id and roles.family_id in frame.columns:
        return record_keys(frame[roles.family_id])
    return record_keys(np.arange(len(frame)))


def parent_area(by: str | Sequence[str], roles: ColumnRoles) -> str | None:
    """The next coarser area column of a one-column area grouping (a ward's authority),
    or None.

    >>> parent_area("ward_code", ColumnRoles()), parent_area("authority_code", ColumnRoles())
    ('authority_code', None)
    """
    if not isinstance(by, str) or by not in roles.area:
        return None
    i = roles.area.index(by)
    return roles.area[i + 1] if i + 1 < len(roles.area) else None


def protected_total(
    value: float,
    keys: np.ndarray,
    rules: DisclosureRules | None = None,
    direction: str = "nearest",
) -> float:
    """A total of expected escalations as it may be published: moved by the cell key of
    all its families and rounded, as every expected figure is (an interval's lower end
    ``direction="down"``, its upper end ``"up"``, so it still holds its estimate).

    >>> protected_total(1886.54, np.zeros(3, dtype=int)), protected_total(1888.5, [0], None, "up")
    (1885.0, 1890.0)
    """
    rules = rules or DisclosureRules()
    return float(round_protected(value + int(perturbation(cell_key(keys))), rules, direction))


def round_protected(value: float, rules: DisclosureRules, direction: str = "nearest") -> float:
    """A protected figure rounded to the unit: to the nearest, or outwards for an
    interval's ends (``"down"``, ``"up"``)."""
    unit, v = rules.round_to, max(float(value), 0.0)
    if direction == "down":
        return math.floor(v / unit) * unit
    if direction == "up":
        return math.ceil(v / unit) * unit
    return float(rules.round(v))


def add_segments(frame: pd.DataFrame, roles: ColumnRoles | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with segment columns: number of Think Family indicators (banded
    0, 1-2, 3-4, 5+), family type (lone parent or couple), deprivation quintile and whether
    the area is among the most deprived fifth (deciles 1-2)."""
    roles = roles or ColumnRoles()
    out = frame.copy(deep=False)  # copy-on-write: the new columns never reach ``frame``
    n_tf = count_indicators(frame, roles.think_family).to_numpy()
    out["n_think_family_band"] = pd.Categorical.from_codes(
        np.select([n_tf == 0, n_tf <= 2, n_tf < FIVE_OR_MORE], [0, 1, 2], 3).astype(np.int8),
        categories=["0", "1-2", "3-4", "5+"],
        ordered=True,
    )
    if roles.lone_parent and roles.lone_parent in frame.columns:
        flag = frame[roles.lone_parent]
        out["family_type"] = np.where(flag == 1, "lone parent", "couple")
        out.loc[flag.isna().to_numpy(), "family_type"] = "not known"
    if roles.deprivation and roles.deprivation in frame.columns:
        decile = frame[roles.deprivation].to_numpy(dtype=float)
        out["deprivation_quintile"] = np.ceil(decile / 2).astype(int)
        deprived = decile <= MOST_DEPRIVED_DECILE
        out["most_deprived_areas"] = np.where(deprived, "most deprived fifth", "other areas")
    return out


def aggregate(
    frame: pd.DataFrame,
    proba: np.ndarray | pd.Series,
    by: str | Sequence[str],
    *,
    outcome: str | None = None,
    confidence: float = 0.95,
    rules: DisclosureRules | None = None,
    disclosure: bool = True,
    keys: np.ndarray | None = None,
    parent: str | None = None,
) -> pd.DataFrame:
    """Families, expected escalations with a Poisson-binomial interval, and (where outcomes
    are known) observed escalations and the observed/expected ratio, by group.

    Parameters
    ----------
    frame : pandas.DataFrame
        Families, with the grouping columns (see :func:`add_segments` for derived ones).
    proba : array
        Calibrated probability of escalation per family (kept in memory only).
    by : str or list of str
        Grouping columns, for example ``"ward_code"`` or ``["authority_code",
        "n_think_family_band"]``.
    outcome : str, optional
        Observed outcome column.
    disclosure : bool, default=True
        Pass the table through :func:`apply_disclosure_control`. Only set it to False for
        analysis that stays in memory.
    keys : array, optional
        The families' record keys (:func:`escalation_model._cellkey.record_keys`): each
        group's counts and expected figures are moved by its cell key's perturbation
        before rounding, so that two publications one family apart do not give back that
        family's score or outcome. Without them, figures are rounded only.
    parent : str, optional
        The coarser area column of a one-column area table (a ward's authority): a
        suppressed cell's partner is chosen within the same parent.

    Returns
    -------
    pandas.DataFrame
        ``by...``, ``families``, ``expected``, ``expected_lower``, ``expected_upper``, and
        with outcomes ``observed``, ``observed_lower``, ``observed_upper``, ``ratio``.
    """
    groups = [by] if isinstance(by, str) else list(by)
    missing = [k for k in groups if k not in frame.columns]
    if missing:
        raise ValueError(
            f"cannot aggregate by {missing}: not in the data. Fix: use a column of the data "
            f"or a segment from add_segments ({', '.join(SEGMENTS)})."
        )
    p = np.asarray(proba, dtype=float)
    if len(p) != len(frame):
        raise ValueError("proba must have one value per family")
    grouped = frame[groups].reset_index(drop=True).groupby(groups, observed=True, sort=True)
    rows: list[dict[str, Any]] = []
    y = frame[outcome].to_numpy(dtype=float) if outcome else None
    moved, parents = [], []
    parent_values = frame[parent].to_numpy() if parent and parent in frame.columns else None
    indices = grouped.indices
    limits = group_count_limits(p, list(indices.values()), confidence)
    for (key, idx), (lo, hi) in zip(indices.items(), limits, strict=True):
        key_t = key if isinstance(key, tuple) else (key,)
        moved.append(0 if keys is None else int(perturbation(cell_key(keys, idx))))
        parents.append(None if parent_values is None else parent_values[idx[0]])
        pg = p[idx]
        row: dict[str, Any] = dict(zip(groups, key_t, strict=True))
        row.update(
            families=len(idx), expected=float(pg.sum()), expected_lower=lo, expected_upper=hi
        )
        if y is not None:
            obs = float(np.nansum(y[idx]))
            olo, ohi = observed_interval(obs, confidence)
            row.update(
                observed=obs,
                observed_lower=olo,
                observed_upper=ohi,
                ratio=obs / row["expected"] if row["expected"] > 0 else np.nan,
                within_interval=bool(lo <= obs <= hi),
            )
        rows.append(row)
    table = pd.DataFrame(rows)
    if not disclosure:
        return table
    counts = ["families"] + (["observed"] if y is not None else [])
    derived = ["observed_lower", "observed_upper", "ratio"] if y is not None else []
    out = apply_disclosure_control(
        table,
        count_columns=counts,
        size_column="families",
        derived_columns=derived,
        group_columns=groups,
        rules=rules,
        expected_columns=["expected", "expected_lower", "expected_upper"],
        perturb=np.array(moved),
        parents=None if parent_values is None else np.array(parents, dtype=object),
    )
    if "within_interval" in out.columns:
        out = out.drop(columns="within_interval")
    if y is not None:
        _observed_from_published(out, confidence)
    out.attrs["dispersion"] = count_dispersion(p)
    out.attrs["round_to"] = (rules or DisclosureRules()).round_to
    return out


def _observed_from_published(
    table: pd.DataFrame,
    confidence: float,
    *,
    count: str = "observed",
    ratio: str | None = "ratio",
) -> None:
    """Recompute observed intervals (and ratios to expected) from the published, rounded
    counts in ``count``, so that they cannot be used to recover an unrounded count."""
    obs = table[count].to_numpy(dtype=float)
    known = ~np.isnan(obs)
    a = 1 - confidence
    lo = np.where(obs > 0, chi2.ppf(a / 2, 2 * np.where(known, obs, 0)) / 2, 0.0)
    hi = chi2.ppf(1 - a / 2, 2 * np.where(known, obs, 0) + 2) / 2
    # a suppressed count takes its interval and ratio with it: they would give it back
    table["observed_lower"] = np.where(known, lo, np.nan)
    table["observed_upper"] = np.where(known, hi, np.nan)
    if ratio is not None:
        e = table["expected"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            table[ratio] = np.where(known & (e > 0), obs / e, np.nan)


#: "The latest year": the profile dates in the 365 days ending on the latest one.
LATEST_YEAR_DAYS = 365


def latest_year(dates: pd.Series, window_days: int = LATEST_YEAR_DAYS) -> pd.Series:
    """Whether each profile date is in the latest year: ``(last - 365 days, last]``,
    half-open, so that yearly profile dates give one cohort. The one definition used by
    the forecast, the capacity curve, the card and ``score``.

    >>> d = pd.Series(pd.to_datetime(["2014-04-01", "2015-04-01", "2015-04-02"]))
    >>> latest_year(d).tolist(), latest_year(d[:2]).tolist()
    ([False, True, True], [False, True])
    """
    return dates > dates.max() - pd.Timedelta(days=window_days)


def latest_profiles(
    frame: pd.DataFrame, roles: ColumnRoles, window_days: int = LATEST_YEAR_DAYS
) -> np.ndarray:
    """The families a service plans for now: each family's most recent profile in the
    latest year (:func:`latest_year`; a boolean mask over ``frame``)."""
    if not roles.profile_date:
        raise ValueError("a forecast needs the 'profile_date' role")
    dates = parse_profile_dates(frame, roles)
    recent = latest_year(dates, window_days).to_numpy().copy()
    has_ids = roles.family_id and roles.family_id in frame.columns
    # one profile per family (one hash of the identifiers): each is its family's latest
    if has_ids and not frame[roles.family_id].is_unique:
        ids = frame[roles.family_id].to_numpy()
        order = np.argsort(dates.to_numpy(), kind="stable")[::-1]
        first = np.zeros(len(frame), dtype=bool)
        _, pos = np.unique(ids[order], return_index=True)
        first[order[pos]] = True
        recent &= first
    return recent


def demand_forecast(
    frame: pd.DataFrame,
    proba: np.ndarray | pd.Series,
    by: str | Sequence[str],
    roles: ColumnRoles | None = None,
    *,
    window_days: int = LATEST_YEAR_DAYS,
    confidence: float = 0.95,
    calibration_se: float = 0.0,
    rules: DisclosureRules | None = None,
    total_limits: tuple[int, int] | None = None,
    recent: np.ndarray | None = None,
    keys: np.ndarray | None = None,
) -> pd.DataFrame:
    """Expected escalations in the next period by group, from the latest profiles.

    Uses each family's most recent profile within ``window_days`` of the latest profile
    date: the families the service would be planning for now. The groups' intervals are
    the range of the count if the model's probabilities are right (Poisson-binomial);
    the total's (``attrs["total_lower"]``, ``attrs["total_upper"]``) is widened by the
    model's own uncertainty about its overall calibration, ``calibration_se`` (see
    :func:`monitor`). ``per_1000`` (with ``per_1000_lower``, ``per_1000_upper``) is the
    expected count per 1,000 families of the group, from its published family count.
    ``total_limits``, ``recent`` and ``keys``: the total's limits, the latest profiles
    (:func:`latest_profiles`) and their families' record keys (:func:`family_keys`),
    where already computed for the same frame (every grouping shares them).
    """
    roles = roles or ColumnRoles()
    if not roles.profile_date:
        raise ValueError("a demand forecast needs the 'profile_date' role")
    dates = parse_profile_dates(frame, roles)
    if recent is None:
        recent = latest_profiles(frame, roles, window_days)
    sub = frame.loc[recent]
    if keys is None:
        keys = family_keys(sub, roles)
    table = aggregate(
        sub,
        np.asarray(proba)[recent],
        by,
        confidence=confidence,
        rules=rules,
        keys=keys,
        parent=parent_area(by, roles),
    )
    lo, hi = total_limits or count_limits(
        np.asarray(proba, dtype=float)[recent], confidence, calibration_se
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        # rates from the published (rounded) family counts, so they give nothing back
        per = 1000 / table["families"].to_numpy(dtype=float)
    for col in ("expected", "expected_lower", "expected_upper"):
        table[col.replace("expected", "per_1000")] = table[col].to_numpy(dtype=float) * per
    table.attrs["total_families"] = int(recent.sum())
    total = float(np.asarray(proba, dtype=float)[recent].sum())
    table.attrs["total_expected"] = protected_total(total, keys, rules)
    table.attrs["total_lower"] = protected_total(lo, keys, rules, "down")
    table.attrs["total_upper"] = protected_total(hi, keys, rules, "up")
    table.attrs["calibration_se"] = float(calibration_se)
    table.attrs["profiles_from"] = str(dates[recent].min().date())
    table.attrs["profiles_to"] = str(dates[recent].max().date())
    return table


def total_count_limits(
    frame: pd.DataFrame,
    proba: np.ndarray | pd.Series,
    roles: ColumnRoles,
    *,
    window_days: int = LATEST_YEAR_DAYS,
    confidence: float = 0.95,
    calibration_se: float = 0.0,
    recent: np.ndarray | None = None,
) -> tuple[int, int]:
    """The limits of the total count of the families :func:`demand_forecast` plans for
    (the latest profiles, ``recent`` where already found), computed once for all its
    groupings."""
    if recent is None:
        recent = latest_profiles(frame, roles, window_days)
    return count_limits(np.asarray(proba, dtype=float)[recent], confidence, calibration_se)


def monitor(
    frame: pd.DataFrame,
    proba: np.ndarray | pd.Series,
    roles: ColumnRoles | None = None,
    *,
    period: str = "Q",
    confidence: float = 0.95,
    calibration_se: float = 0.0,
    rules: DisclosureRules | None = None,
) -> pd.DataFrame:
    """Risk-adjusted monitoring: observed against expected escalations by profiling period.

    The expected count for each period is what the model predicts for the families actually
    profiled then, so a change in case mix does not look like a change in services. A
    period is flagged where its observed count falls outside the control limits: the
    range of the count if nothing changed, from the distribution of the number of
    escalations among those families (Poisson-binomial: the Poisson's limits are too wide
    for these counts, whose variance is about 60% of their mean, so they flag too few
    periods and miss real changes), widened by the model's own uncertainty about its
    overall calibration (``calibration_se``: the standard deviation of the log of its
    calibration factor, estimated on held-out families; 0 takes the model as right).

    Returns
    -------
    pandas.DataFrame
        ``period``, ``families``, ``expected`` (Poisson-binomial interval), ``observed``,
        ``ratio`` (observed / expected), ``limit_lower`` and ``limit_upper`` (the ratio's
        control limits) and ``flag``.
    """
    roles = roles or ColumnRoles()
    if not roles.outcome or not roles.profile_date:
        raise ValueError("monitoring needs the 'outcome' and 'profile_date' roles")
    dates = parse_profile_dates(frame, roles)
    periods = period_labels(dates, period)
    table = aggregate(
        frame.assign(period=periods),
        proba,
        "period",
        outcome=roles.outcome,
        confidence=confidence,
        disclosure=False,
    ).drop(columns=["within_interval", "observed_lower", "observed_upper"])
    p = np.asarray(proba, dtype=float)
    keys = family_keys(frame, roles)
    limits = [count_limits(p[periods == k], confidence, calibration_se) for k in table.period]
    moved = [int(perturbation(cell_key(keys, periods == k))) for k in table.period]
    out = apply_disclosure_control(
        table,
        count_columns=["families", "observed"],
        size_column="families",
        derived_columns=["ratio"],
        rules=rules,
        expected_columns=["expected", "expected_lower", "expected_upper"],
        perturb=np.array(moved),
    )
    # limits, ratio and flag from the published (protected) counts: from the exact ones,
    # ratio x expected would give back a sum of scores, and the flag an unrounded count
    e = out["expected"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["limit_lower"] = np.array([lo for lo, _ in limits]) / e
        out["limit_upper"] = np.array([hi for _, hi in limits]) / e
    published = out["observed"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(np.isnan(published), np.nan, published / e)
    flag = np.where(
        ratio < out["limit_lower"],
        "fewer than expected",
        np.where(ratio > out["limit_upper"], "more than expected", "within limits"),
    )
    out["ratio"] = ratio
    out["flag"] = np.where(np.isnan(published), "not published", flag)
    typical = _median_period(periods, table.period)
    out.attrs["power_10_percent_fall"] = (
        monitoring_power(p[periods == typical], -0.1, confidence, calibration_se)
        if typical is not None
        else None
    )
    out.attrs["typical_period_expected"] = (
        float(p[periods == typical].sum()) if typical is not None else None
    )
    out.attrs["calibration_se"] = calibration_se
    return out


def _median_period(periods: np.ndarray, names: pd.Series) -> str | None:
    """The period whose number of families is the median (a typical period, not a
    partial one at either end)."""
    if names.empty:
        return None
    sizes = pd.Series(periods).value_counts().reindex(names.to_numpy())
    return str(sizes.sort_values(kind="stable").index[(len(sizes) - 1) // 2])


def calibration_uncertainty(
    p_heldout: np.ndarray, observed: float | None = None, fitted_to: float | None = None
) -> float:
    """How far the model's overall calibration may be off on new families: the standard
    deviation of the log of its calibration factor, which :func:`monitor` and the demand
    forecast add to their limits.

    An empirical-Bayes estimate, not the held-out count's own noise. A model's overall
    level is fitted to the escalations among the rows that set it (``fitted_to``: see
    :func:`escalation_model.models.level_rows`), so it is off by
    at least that count's chance variation: ``sqrt(phi / fitted_to)``, with ``phi`` the
    count's variance-to-mean ratio (:func:`count_dispersion` of ``p_heldout``). Where
    the held-out families' ``observed`` count departs from their expected count by more
    than its own chance variation explains, the excess (the squared log ratio less its
    sampling variance, ``phi / expected``) is the estimate instead. Without ``fitted_to``
    the held-out count's own noise stands in for the training count's (wider when, as
    usual, the model learned from more families than it was tested on).

    Over 20 models fitted as the run fits them, the log of the true calibration factor on
    each test year had a root mean square of 1.15%; this estimate averaged 1.39%, where the
    held-out count's noise alone averaged 1.82% (``evaluation/bench_coverage.py``).

    >>> p = np.full(60_000, 0.032)  # 1,920 expected escalations
    >>> round(calibration_uncertainty(p), 4)  # the held-out count's noise
    0.0225
    >>> round(calibration_uncertainty(p, observed=1_950, fitted_to=7_700), 4)  # within chance
    0.0112
    >>> round(calibration_uncertainty(p, observed=2_150, fitted_to=7_700), 4)  # beyond it
    0.1109
    """
    p = np.asarray(p_heldout, dtype=float)
    expected = float(p[np.isfinite(p)].sum())
    if expected <= 0:
        return 0.0
    phi = count_dispersion(p)
    floor = phi / (fitted_to if fitted_to else expected)
    if observed is None or observed <= 0:
        return float(np.sqrt(floor))
    excess = np.log(observed / expected) ** 2 - phi / expected
    return float(np.sqrt(max(floor, excess)))


def monitoring_power(
    p: np.ndarray, change: float, confidence: float = 0.95, calibration_se: float = 0.0
) -> float:
    """The chance that a period with these families is flagged when escalations truly
    change by ``change`` (relative: -0.1 is a 10% fall), under :func:`monitor`'s limits.

    Families who all have the same chance (a plain binomial count, the widest there is
    for its mean; real families differ, which narrows the limits and raises the power):

    >>> p = np.full(15_000, 0.032)
    >>> round(monitoring_power(p, -0.1), 2), round(monitoring_power(p, -0.1, 0.95, 0.0225), 2)
    (0.61, 0.53)
    """
    p = np.asarray(p, dtype=float)
    limits = count_limits(p, confidence, calibration_se)
    return chance_outside(count_pmf(np.clip(p * (1 + change), 0.0, 1.0), calibration_se), *limits)


def funnel_limits(
    expected: np.ndarray, confidence: float, dispersion: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Control limits of the observed/expected ratio for an area with ``expected``
    escalations (Spiegelhalter's funnel plot): quantiles of a Poisson count scaled to the
    count's variance-to-mean ratio ``dispersion`` (1: Poisson). The number of escalations
    among families whose probabilities differ varies less than a Poisson count with the
    same mean (:func:`count_dispersion`: about 0.6 here), so Poisson limits flag too few
    areas.

    >>> lo, hi = funnel_limits(np.array([100.0]), 0.95)
    >>> lo6, hi6 = funnel_limits(np.array([100.0]), 0.95, dispersion=0.6)
    >>> float(lo[0]), float(hi[0]), float(lo6[0]), float(hi6[0])
    (0.81, 1.2, 0.852, 1.152)
    """
    a = (1 - confidence) / 2
    e = np.asarray(expected, dtype=float)
    phi = float(dispersion) if dispersion > 0 else 1.0
    return phi * poisson.ppf(a, e / phi) / e, phi * poisson.ppf(1 - a, e / phi) / e


def count_dispersion(p: np.ndarray) -> float:
    """The variance-to-mean ratio of the number of escalations among families with
    probabilities ``p`` (Poisson-binomial: ``sum p(1 - p) / sum p``).

    >>> count_dispersion(np.array([0.5, 0.5, 0.0]))
    0.5
    """
    p = np.asarray(p, dtype=float)
    p = p[np.isfinite(p)]
    return float((p * (1 - p)).sum() / p.sum()) if p.sum() > 0 else 1.0

"""Area roll-out: where early help started at different dates in different areas, its
effect on the escalation rate by difference in differences for staggered adoption.

Each cohort (the areas that started in one period) is compared with the areas that had
not started by the end of the data ("never treated"), period by period, against the
period before the cohort started: the group-time effects of Callaway and Sant'Anna
(2021), with their unit-level multiplier bootstrap. This avoids the two-way fixed-effects
regression, which under staggered timing compares late adopters with early ones already
treated and can even reverse the sign of an effect. The group-time effects are averaged
into an event study (effect by periods since the start; period -1 is the reference) and
into one overall effect after the start; the periods before the start check the
parallel-trends assumption the whole estimate rests on.

Areas are the units of inference: each area's families are its outcome, each area is
resampled as a whole, and an area's weight is its number of families.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

__all__ = ["StaggeredEffect", "staggered_did"]

#: A pre-start event-study coefficient further from 0 than this (jointly, sup-t) is a
#: violation of parallel trends at this level.
PRE_TREND_ALPHA = 0.05


@dataclass(frozen=True)
class StaggeredEffect:
    """The staggered-adoption estimate.

    ``att`` is the average effect on the escalation rate of the areas after they started
    (a difference in rates: negative when early help lowers escalations), with its
    interval; ``reduction`` the same as a share of the rate those areas would have had.
    ``event_study`` has one row per period relative to the start (``event_time``, -1 the
    reference, absent), with the pointwise interval and the simultaneous band (all
    periods together); ``group_time`` the effect of each cohort in each period.
    ``pre_trend_p`` tests that every pre-start coefficient is 0 (sup-t, from the
    bootstrap); ``pre_trends_flat`` is that test passing at 5%.
    """

    att: float
    lower: float
    upper: float
    reduction: float
    reduction_lower: float
    reduction_upper: float
    event_study: pd.DataFrame
    group_time: pd.DataFrame
    pre_trend_p: float
    pre_trends_flat: bool
    units: int
    treated_units: int
    cohorts: int
    notes: tuple[str, ...] = ()


def _panel(
    frame: pd.DataFrame, unit: str, period: str, outcome: str, periods: list[Any]
) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Families and outcome rate per unit (rows) and period (columns)."""
    grouped = frame.groupby([unit, period], observed=True)[outcome].agg(["size", "mean"])
    n = grouped["size"].unstack(period).reindex(columns=periods)
    y = grouped["mean"].unstack(period).reindex(columns=periods)
    return n.fillna(0).to_numpy(dtype=float), y.to_numpy(dtype=float), n.index


def _cells(
    y: np.ndarray, w: np.ndarray, cohort: np.ndarray, n_periods: int
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Each (cohort, period) effect against the never-treated units, with every unit's
    influence on it (columns of the returned matrix)."""
    control = cohort < 0
    rows, influence = [], []
    for g in np.unique(cohort[cohort > 0]):
        treated = cohort == g
        for t in range(n_periods):
            if t == g - 1:
                continue
            d = y[:, t] - y[:, g - 1]
            ok = np.isfinite(d)
            tr, co = treated & ok, control & ok
            wt, wc = w * tr, w * co
            if wt.sum() == 0 or wc.sum() == 0:
                continue
            mt, mc = (wt @ np.nan_to_num(d)) / wt.sum(), (wc @ np.nan_to_num(d)) / wc.sum()
            psi = np.where(tr, wt * (d - mt) / wt.sum(), 0.0)
            psi -= np.where(co, wc * (d - mc) / wc.sum(), 0.0)
            rows.append({"cohort": int(g), "period": t, "event_time": t - int(g), "att": mt - mc})
            influence.append(np.nan_to_num(psi))
    return rows, np.array(influence).T


def _aggregate(
    cells: pd.DataFrame, psi: np.ndarray, size: Mapping[int, float]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """The event study (cohorts weighted by their families) and the overall post-start
    effect (every post-start cell weighted by its cohort's families): estimates and
    influence functions."""
    weight = cells["cohort"].map(size).to_numpy(dtype=float)
    events, columns = [], []
    for e, idx in cells.groupby("event_time").indices.items():
        pi = weight[idx] / weight[idx].sum()
        events.append({"event_time": int(e), "att": float(pi @ cells["att"].to_numpy()[idx])})
        columns.append(psi[:, idx] @ pi)
    post = np.flatnonzero(cells["event_time"].to_numpy() >= 0)
    pi = weight[post] / weight[post].sum()
    overall = np.array([float(pi @ cells["att"].to_numpy()[post])])
    return pd.DataFrame(events), np.array(columns).T, overall, psi[:, post] @ pi


def staggered_did(
    frame: pd.DataFrame,
    *,
    unit: str,
    period: str,
    outcome: str,
    started: Mapping[Any, Any],
    n_bootstrap: int = 999,
    confidence: float = 0.95,
    random_state: int = 0,
) -> StaggeredEffect:
    """Staggered difference in differences from family-level rows.

    Parameters
    ----------
    frame : DataFrame
        One row per family (and profile), with its area (``unit``), its period
        (``period``, any sortable values: quarters, years) and its outcome (0/1).
    started : mapping
        Each area's first period with early help; an area not in it, or starting after
        the last period, is a comparison area (never treated in the data). Areas that
        started in the first period have no period before to compare with and are left
        out (said in ``notes``).
    n_bootstrap, confidence, random_state
        The multiplier bootstrap over areas (Rademacher weights), its level and seed.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> f = pd.DataFrame({"area": np.repeat(np.arange(60), 400), "q": np.tile(np.arange(8), 3000)})
    >>> start = {a: 4 for a in range(30)}
    >>> treated = f["area"].lt(30) & f["q"].ge(4)
    >>> f["y"] = (rng.random(len(f)) < np.where(treated, 0.07, 0.10)).astype(int)
    >>> est = staggered_did(f, unit="area", period="q", outcome="y", started=start)
    >>> est.lower < -0.03 < est.upper, est.pre_trends_flat
    (True, True)
    """
    periods = sorted(frame[period].dropna().unique())
    index = {p: i for i, p in enumerate(periods)}
    n, y, units = _panel(frame, unit, period, outcome, periods)
    cohort = np.array([index.get(started.get(u), -1) for u in units])
    notes = []
    first = cohort == 0
    if first.any():
        notes.append(f"{int(first.sum())} areas started in the first period: left out")
    keep = ~first
    n, y, units, cohort = n[keep], y[keep], units[keep], cohort[keep]
    if not (cohort > 0).any() or not (cohort < 0).any():
        raise ValueError(
            "staggered difference in differences needs areas that started after the first "
            "period and areas that never started in the data. Fix: check the start dates "
            "against the periods of the data."
        )
    w = n.sum(axis=1)
    rows, psi = _cells(y, w, cohort, len(periods))
    cells = pd.DataFrame(rows)
    size = {int(g): float(w[cohort == g].sum()) for g in np.unique(cohort[cohort > 0])}
    events, psi_e, overall, psi_o = _aggregate(cells, psi, size)
    xi = np.random.default_rng(random_state).choice([-1.0, 1.0], size=(n_bootstrap, len(w)))
    z = norm.ppf(0.5 + confidence / 2)
    boot_e, boot_o = xi @ psi_e, xi @ psi_o
    cells = _with_intervals(cells, xi @ psi, z)
    events = _with_intervals(events, boot_e, z, band=confidence)
    se_o = _se(boot_o[:, None])[0]
    att, lower, upper = float(overall[0]), overall[0] - z * se_o, overall[0] + z * se_o
    p_pre = _pre_trend_p(events, boot_e)
    rate = _treated_rate(n, y, cohort, cells)
    return StaggeredEffect(
        att=att,
        lower=float(lower),
        upper=float(upper),
        reduction=-att / (rate - att),
        reduction_lower=-float(upper) / (rate - float(upper)),
        reduction_upper=-float(lower) / (rate - float(lower)),
        event_study=events,
        group_time=cells,
        pre_trend_p=p_pre,
        pre_trends_flat=bool(p_pre >= PRE_TREND_ALPHA),
        units=int(len(w)),
        treated_units=int((cohort > 0).sum()),
        cohorts=len(size),
        notes=tuple(notes),
    )


def _se(boot: np.ndarray) -> np.ndarray:
    """Bootstrap standard errors from the interquartile range (robust to a few wild
    draws, as in Callaway and Sant'Anna's implementation)."""
    q75, q25 = np.percentile(boot, [75, 25], axis=0)
    return (q75 - q25) / (norm.ppf(0.75) - norm.ppf(0.25))


def _with_intervals(
    table: pd.DataFrame, boot: np.ndarray, z: float, band: float | None = None
) -> pd.DataFrame:
    """Pointwise intervals; with ``band`` also the simultaneous band (sup-t critical value
    over the rows)."""
    se = _se(boot)
    out = table.assign(se=se, lower=table["att"] - z * se, upper=table["att"] + z * se)
    if band is not None:
        crit = float(np.quantile(np.abs(boot / np.where(se > 0, se, np.inf)).max(axis=1), band))
        out = out.assign(band_lower=out["att"] - crit * se, band_upper=out["att"] + crit * se)
    return out


def _pre_trend_p(events: pd.DataFrame, boot: np.ndarray) -> float:
    """P-value of 'every pre-start coefficient is 0' (sup-t against the bootstrap); 1 when
    there are no pre-start periods to test. (A test of a linear drift beside it, doubled
    for the two, raised false alarms to 10% in simulation without finding more drifts.)"""
    pre = events["event_time"].to_numpy() < -1
    if not pre.any():
        return 1.0
    se = events["se"].to_numpy()[pre]
    se = np.where(se > 0, se, np.inf)
    observed = np.abs(events["att"].to_numpy()[pre] / se).max()
    draws = np.abs(boot[:, pre] / se).max(axis=1)
    return float((1 + (draws >= observed).sum()) / (1 + len(draws)))


def _treated_rate(n: np.ndarray, y: np.ndarray, cohort: np.ndarray, cells: pd.DataFrame) -> float:
    """The observed escalation rate of the started areas after their start (families
    weighted): with the effect, the rate they would have had without it."""
    post = cells[cells["event_time"] >= 0]
    families = escalations = 0.0
    for g, t in zip(post["cohort"], post["period"], strict=True):
        rows = cohort == g
        families += n[rows, t].sum()
        escalations += np.nansum(n[rows, t] * y[rows, t])
    return escalations / families


def true_staggered_att(
    frame: pd.DataFrame,
    effect: np.ndarray,
    *,
    unit: str,
    period: str,
    started: Mapping[Any, Any],
) -> tuple[float, pd.Series]:
    """What :func:`staggered_did` estimates, from each family's true change in risk
    (``effect``, known in a synthetic world): the overall post-start effect and the
    effect by event time, aggregated with the estimator's weights."""
    periods = sorted(frame[period].dropna().unique())
    index = {p: i for i, p in enumerate(periods)}
    n, e, units = _panel(frame.assign(_effect=effect), unit, period, "_effect", periods)
    cohort = np.array([index.get(started.get(u), -1) for u in units])
    keep = cohort != 0
    n, e, cohort = n[keep], e[keep], cohort[keep]
    w = n.sum(axis=1)
    rows = []
    for g in np.unique(cohort[cohort > 0]):
        treated = cohort == g
        for t in range(g, len(periods)):
            ok = treated & np.isfinite(e[:, t])
            rows.append(
                {
                    "cohort": int(g),
                    "event_time": t - int(g),
                    "truth": float(w[ok] @ e[ok, t] / w[ok].sum()),
                    "size": float(w[treated].sum()),
                }
            )
    cells = pd.DataFrame(rows)
    overall = float(np.average(cells["truth"], weights=cells["size"]))
    by_event = cells.groupby("event_time").apply(
        lambda c: float(np.average(c["truth"], weights=c["size"])), include_groups=False
    )
    return overall, by_event

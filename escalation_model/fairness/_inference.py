"""The audit's inference: which gaps are findings, under a controlled error rate.

One test per comparison ("the true gap lies outside the tolerance band", :func:`_p_outside`),
Holm's weighted step-down adjustment across the family (:func:`holm`, :func:`adjust_family`),
the gaps each comparison could have detected with 80% power (:func:`_detectable`, and
:func:`detectable_when_small` for groups too small to assess), and intervals that do not
collapse for small groups (:func:`_floor_se`, :func:`_score_hull`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest, norm

from .._publish import DisclosureRules
from ._engine import _RATIO_METRICS, Tolerances

__all__ = ["PRIORITY_SHARE", "holm", "adjust_family", "detectable_when_small", "finding"]

#: The share of the audit's error rate given to its headline question: the prioritised
#: criterion for each characteristic on its own (see ``FairnessAudit._test_differences``).
PRIORITY_SHARE = 0.5


def adjust_family(
    d: pd.DataFrame, tolerances: Tolerances, prioritised: str, confidence: float
) -> tuple[int, bool]:
    """The family of comparisons and the findings, under a controlled error rate.

    Every comparison with a tolerance band whose groups are large enough to assess is
    one test of "the true gap lies outside the band" (a z-test of the distance beyond
    the nearer edge, with the bootstrap standard error, ratios on the log scale; its
    p-value is exact at the band's edges, see :func:`_p_outside`).
    "Outside tolerance" is declared where the weighted Holm step-down adjustment
    across the whole family keeps the p-value under ``1 - confidence``: the chance
    that an audit reports any comparison outside tolerance whose truth lies inside
    the band is then at most 5% (at the default confidence), whatever the dependence
    between comparisons. Holm rather than simultaneous bootstrap intervals: it needs
    only each comparison's p-value, is valid under any dependence and never less
    powerful than Bonferroni; the max-statistic alternative would need the tail of
    the maximum of some 150 statistics from 1,000 replicates.

    The weights are stated in advance, not chosen from the data: half the error rate
    (``PRIORITY_SHARE``) goes to the prioritised criterion for each characteristic on
    its own (the audit's headline question), the other half to every other criterion
    and to the intersections. With equal weights the few comparisons that matter
    most would share 5% with about 150 others: on synthetic data with a planted
    referral bias (odds ratio 3; about 900 affected families among 60,000), the
    affected group was found in 90% of 100 audits with these weights (81% of 700 in
    an independent measurement of another design), and at most 5% of audits had any
    false finding (4% and 5% of 100; 2.6% of 700 independently; see the README's
    "Do the intervals mean what they say?"). The same audits
    under Benjamini-Hochberg found it in 99% but 11-12% had a false finding: the
    false discovery rate would not keep the promise made above. "Within
    tolerance" stays per comparison (the unadjusted interval inside the band); the
    unadjusted intervals are the ``lower`` and ``upper`` columns.

    ``detectable_low`` and ``detectable_high`` are the gaps (differences, or ratios)
    beyond which this comparison would have been found with 80% power at its first
    step of the adjustment (its weighted Bonferroni level): what the audit could
    have seen.

    Adds ``p_value``, ``tested``, ``p_adjusted``, ``level``, ``detectable_low`` and
    ``detectable_high`` to ``d``; returns the number of comparisons tested and whether
    the error rate was split between the prioritised criterion and the rest.
    """
    bands = [tolerances.band(m) for m in d.metric]
    p = np.array([_p_outside(r.value, r.se, b) for r, b in zip(d.itertuples(), bands, strict=True)])
    # the false negative rate is one minus the true positive rate: its test is the
    # same test, so it is not counted twice in the family (it takes the TPR's result)
    mirror = (d.metric == "false_negative_rate").to_numpy()
    family = ~d.too_small.to_numpy() & np.isfinite(p) & ~mirror
    shares, split = family_weights(d, tolerances, prioritised)
    weights = np.where(family, shares, 0.0)
    adjusted = np.full(len(d), np.nan)
    adjusted[family] = holm(p[family], weights[family])
    level = (1 - confidence) * weights / max(weights.sum(), 1e-300)
    d["p_value"], d["tested"] = p, family
    d["p_adjusted"], d["level"] = _from_tpr(d, adjusted), _from_tpr(d, level)
    reach = [
        _detectable(b, r.se, _power_z(r.level)) for r, b in zip(d.itertuples(), bands, strict=True)
    ]
    d["detectable_low"] = [r[0] for r in reach]
    d["detectable_high"] = [r[1] for r in reach]
    return int(family.sum()), split


def family_weights(
    d: pd.DataFrame, tolerances: Tolerances, prioritised: str
) -> tuple[np.ndarray, bool]:
    """Each comparison's share of the error rate before any is rejected: half
    (``PRIORITY_SHARE``) to the prioritised criterion's comparisons of single
    characteristics, the rest to the others, equally within each part. A part with
    no comparisons gives its share to the other. Returns the shares and whether the
    family was split."""
    tested = ~d.too_small.to_numpy() & (d.metric != "false_negative_rate").to_numpy()
    tested &= np.array([tolerances.band(m) is not None for m in d.metric])
    headline = (d.metric == prioritised).to_numpy() & ~d.characteristic.str.contains(
        " x ", regex=False
    ).to_numpy()
    parts = [tested & headline, tested & ~headline]
    shares = [PRIORITY_SHARE, 1.0 - PRIORITY_SHARE]
    split = bool(parts[0].any() and parts[1].any())
    if not split:
        shares = [1.0, 1.0]
    w = np.zeros(len(d))
    for part, share in zip(parts, shares, strict=True):
        if part.any():
            w[part] = share / part.sum()
    return w, split


def detectable_when_small(
    d: pd.DataFrame,
    tolerances: Tolerances,
    sizes: pd.Series,
    rates: dict[str, float],
    rules: DisclosureRules,
    confidence: float,
) -> None:
    """For groups too small to assess, the gap a group of their size could have shown:
    a design-based power calculation from the published (rounded) family counts
    (``sizes``, by characteristic and group) and the whole population's ``rates``
    (:func:`_population_rates`, :func:`_design_se`), never from the small group's own
    outcomes (which would give back a count under the threshold), at the level the
    group's comparison would have had in the family (the smallest level of its
    criterion's tested comparisons, or an equal share had it joined the family)."""
    small = d.too_small.to_numpy() & (d.metric != "roc_auc").to_numpy()
    if not small.any():
        return
    tested = d[d.tested]
    levels = tested.groupby("metric")["level"].min()
    # with no tested comparison of its criterion: its share had it joined the family
    fallback = (1 - confidence) / (len(tested) + 1)
    for i in np.flatnonzero(small):
        r = d.iloc[i]
        n = rules.round(float(r.n_families))
        n_ref = rules.round(float(sizes.get((r.characteristic, r.reference), 0)))
        if n < rules.min_cell:
            continue
        se = _design_se(str(r.metric), n, n_ref, rates)
        z = _power_z(float(levels.get(r.metric, fallback)))
        lo, hi = _detectable(tolerances.band(str(r.metric)), se, z)
        d.iloc[i, d.columns.get_loc("detectable_low")] = lo
        d.iloc[i, d.columns.get_loc("detectable_high")] = hi


def finding(row: Any, band: tuple[float, float, str] | None, confidence: float) -> str:
    """A comparison's finding: outside tolerance only when its adjusted p-value is under
    ``1 - confidence`` and its printed interval lies wholly outside the band."""
    if row.too_small:
        return "too small to assess"
    if band is None:
        return "reported only"
    lo_tol, hi_tol, _ = band
    if not (np.isfinite(row.lower) and np.isfinite(row.upper)):
        return "too uncertain to say"
    # the printed interval must agree: it lies wholly outside the band too
    if row.p_adjusted < 1 - confidence and (row.lower > hi_tol or row.upper < lo_tol):
        return "outside tolerance"
    if row.lower >= lo_tol and row.upper <= hi_tol:
        return "within tolerance"
    return "too uncertain to say"


def holm(p: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control under any
    dependence); with ``weights``, the weighted version (Holm 1979): each hypothesis
    starts with its share of the error rate, and a rejected one passes its share on.

    >>> holm(np.array([0.01, 0.04, 0.03])).round(3).tolist()
    [0.03, 0.06, 0.06]
    >>> holm(np.array([0.01, 0.04, 0.03]), np.array([0.5, 0.25, 0.25])).round(3).tolist()
    [0.02, 0.06, 0.06]
    """
    p = np.asarray(p, dtype=float)
    m = p.size
    w = np.full(m, 1.0 / max(m, 1)) if weights is None else np.asarray(weights, dtype=float)
    w = w / w.sum() if m else w
    order = np.argsort(p / w, kind="stable")
    remaining = np.cumsum(w[order][::-1])[::-1]
    stepped = np.maximum.accumulate(p[order] / w[order] * remaining)
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out


def _p_outside(value: float, se: float, band: tuple[float, float, str] | None) -> float:
    """p-value of "the true gap is outside the band" (the null: it lies inside). The
    statistic is the estimate's distance beyond the nearer edge, in standard errors; its
    largest chance under the null is at an edge: the tail beyond the near edge plus the
    tail beyond the far one (``sf(z) + sf(z + width / se)``). Exact for a normal
    estimate, and never more than twice the one-sided p-value (small groups, whose band is
    narrow against their standard error) nor less than it (large ones).

    >>> round(_p_outside(1.5, 0.1, (0.8, 1.25, "ratio")), 4)
    0.0341
    >>> round(_p_outside(1.5, 2.0, (0.8, 1.25, "ratio")), 3)  # tiny group: about doubled
    0.84
    """
    if band is None or not (np.isfinite(value) and np.isfinite(se)) or se <= 0:
        return float("nan")
    lo, hi, kind = band
    if kind == "ratio":
        if value <= 0:
            return float("nan")
        value, lo, hi = np.log(value), np.log(lo), np.log(hi)
    z = max(value - hi, lo - value) / se
    return float(min(1.0, norm.sf(z) + norm.sf(z + (hi - lo) / se)))


def _from_tpr(d: pd.DataFrame, values: np.ndarray) -> np.ndarray:
    """``values`` with each false-negative-rate row given its group's true-positive-rate
    value (the same test)."""
    keys = ["characteristic", "group"]
    out = np.asarray(values, dtype=float).copy()
    tpr, fnr = (
        (d.metric == "true_positive_rate").to_numpy(),
        (d.metric == "false_negative_rate").to_numpy(),
    )
    by_group = pd.Series(out[tpr], index=pd.MultiIndex.from_frame(d.loc[tpr, keys]))
    out[fnr] = by_group.reindex(pd.MultiIndex.from_frame(d.loc[fnr, keys])).to_numpy()
    return out


def _population_rates(
    y: np.ndarray, selected: np.ndarray, rules: DisclosureRules
) -> dict[str, float]:
    """The whole population's rates a design-based power calculation assumes every group
    has (escalation, selection, and the rates at capacity), as ratios of rounded counts so
    that nothing derived from them gives an unrounded count back."""
    y = np.asarray(y, dtype=float)
    sel = np.asarray(selected, dtype=float)

    def ratio(num: float, den: float) -> float:
        return float(rules.round(num)) / max(float(rules.round(den)), 1.0)

    hits = float((y * sel).sum())
    return {
        "escalation": ratio(y.sum(), y.size),
        "selection": ratio(sel.sum(), sel.size),
        "true_positive_rate": ratio(hits, y.sum()),
        "false_positive_rate": ratio(((1 - y) * sel).sum(), (1 - y).sum()),
        "precision": ratio(hits, sel.sum()),
    }


def _design_se(metric: str, n: float, n_ref: float, rates: dict[str, float]) -> float:
    """The standard error a comparison of a group of ``n`` families with a reference of
    ``n_ref`` would have if both had the population's rates (log scale for a ratio).

    >>> rates = {"escalation": 0.03, "selection": 0.05}
    >>> round(_design_se("calibration_ratio", 40, 20_000, rates), 2)
    0.91
    """
    if n <= 0 or n_ref <= 0:
        return float("nan")
    ybar, s = rates["escalation"], rates["selection"]
    if metric == "calibration_ratio":  # observed over expected: Poisson on each side
        return float(np.sqrt(1 / (n * ybar) + 1 / (n_ref * ybar)))
    if metric == "selection_rate":
        return float(np.sqrt((1 - s) / (n * s) + (1 - s) / (n_ref * s)))
    denominators = {
        "true_positive_rate": ybar,
        "false_negative_rate": ybar,
        "false_positive_rate": 1 - ybar,
        "precision": s,
    }
    if metric not in denominators:
        return float("nan")
    q = rates.get(metric, 1 - rates.get("true_positive_rate", 0.0))
    share = denominators[metric]
    return float(np.sqrt(q * (1 - q) * (1 / (n * share) + 1 / (n_ref * share))))


def _power_z(level: float) -> float:
    """Standard errors beyond the band's edge at which a gap is found with 80% power by
    the test of :func:`_p_outside` at ``level`` (its far-edge tail neglected)."""
    return float(norm.ppf(1 - level) + norm.ppf(0.8)) if level > 0 else float("inf")


def _detectable(band: tuple[float, float, str] | None, se: float, z: float) -> tuple[float, float]:
    """The gaps below and above which a finding would be made with the power behind
    ``z`` (see :func:`adjust_family`)."""
    if band is None or not np.isfinite(se):
        return float("nan"), float("nan")
    lo, hi, kind = band
    if not np.isfinite(z):
        return float("nan"), float("nan")
    if kind == "ratio":
        return float(np.exp(np.log(lo) - z * se)), float(np.exp(np.log(hi) + z * se))
    return lo - z * se, hi + z * se


def _successes(point: dict[str, np.ndarray], gi: int, metric: str) -> tuple[int, int] | None:
    """(successes, trials) behind a group's rate at capacity, from its point statistics;
    None for a metric that is not a proportion."""
    n = float(point["count"][0, gi])
    events = float(point["observed_rate"][0, gi]) * n
    selected = float(point["selection_rate"][0, gi]) * n
    hits = float(np.nan_to_num(point["true_positive_rate"][0, gi])) * events
    basis = {
        "selection_rate": (selected, n),
        "true_positive_rate": (hits, events),
        "false_negative_rate": (events - hits, events),
        "false_positive_rate": (selected - hits, n - events),
        "precision": (hits, selected),
    }.get(metric)
    return None if basis is None else (round(basis[0]), round(basis[1]))


def _floor_se(point: dict[str, np.ndarray], gi: int, ref: int, metric: str) -> float:
    """The smallest standard error a rate's difference (or a selection ratio's log) can
    have: the Agresti-Coull one (two successes and two failures added to each group),
    which, unlike a bootstrap, cannot collapse to zero when a small group's rate is 0
    or 1 (all 10 of its escalations reached gives [1, 1] in every replicate)."""
    a, b = _successes(point, gi, metric), _successes(point, ref, metric)
    if a is None or b is None:
        return 0.0
    var = []
    for x, n in (a, b):
        p = (x + 2) / (n + 4)
        v = p * (1 - p) / (n + 4)
        var.append(v / p**2 if metric in _RATIO_METRICS else v)
    return float(np.sqrt(sum(var)))


def _widened(
    value: float, lo: float, hi: float, se: float, kind: str, z: float
) -> tuple[float, float]:
    """The bootstrap interval, at least ``value +/- z * se`` wide (on the log scale for
    a ratio)."""
    if se <= 0 or not np.isfinite(value):
        return lo, hi
    if kind == "ratio":
        if value <= 0:
            return lo, hi
        return float(np.fmin(lo, value * np.exp(-z * se))), float(
            np.fmax(hi, value * np.exp(z * se))
        )
    return float(np.fmin(lo, value - z * se)), float(np.fmax(hi, value + z * se))


def _score_hull(
    point: dict[str, np.ndarray],
    gi: int,
    metric: str,
    interval: tuple[float, float],
    confidence: float,
) -> tuple[float, float]:
    """A group's rate interval, at least as wide as the Wilson score interval, which
    does not collapse at 0 or 1 as a small group's bootstrap does."""
    basis = _successes(point, gi, metric)
    if basis is None or basis[1] <= 0:
        return interval
    ci = binomtest(min(max(basis[0], 0), basis[1]), basis[1]).proportion_ci(
        confidence_level=confidence, method="wilson"
    )
    return float(np.fmin(interval[0], ci.low)), float(np.fmax(interval[1], ci.high))

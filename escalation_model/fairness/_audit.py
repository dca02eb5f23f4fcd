"""The fairness audit: group metrics at the service's capacity, with intervals and findings.

Point estimates come from per-group confusion counts and sums, and equal fairlearn's
``MetricFrame`` on the same data (tested); ``FairnessAudit.metric_frame(name)`` builds that
``MetricFrame`` for anyone who wants fairlearn's own object. Intervals use a Poisson
bootstrap on cells (group x outcome x selected x score bin): exact for the threshold
metrics and calibration, binned for ROC AUC, so they scale to millions of families.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest, norm

from .._limits import MIN_AUDIT_GROUP_SIZE
from .._publish import DisclosureRules
from .._selection import select_at_capacity

__all__ = [
    "AUDIT_METRICS",
    "FairnessAudit",
    "Tolerances",
    "families_needed",
    "holm",
    "select_at_capacity",
]

#: Metrics per group, with plain-English names.
AUDIT_METRICS: dict[str, str] = {
    "selection_rate": "share of the group offered early help",
    "true_positive_rate": "share of the group's future escalations reached",
    "false_positive_rate": "share of the group's non-escalating families offered help",
    "false_negative_rate": "share of the group's future escalations missed",
    "precision": "share of the group's offered families who go on to escalate",
    "roc_auc": "ranking quality within the group",
    "mean_predicted": "mean predicted probability",
    "observed_rate": "observed escalation rate",
    "calibration_ratio": "observed over expected escalations (1 = right on average)",
    "brier": "Brier score within the group",
}
_RATIO_METRICS = ("selection_rate", "calibration_ratio")

#: The share of the audit's error rate given to its headline question: the prioritised
#: criterion for each characteristic on its own (see ``FairnessAudit._test_differences``).
PRIORITY_SHARE = 0.5


@dataclass(frozen=True)
class Tolerances:
    """How large a gap from the reference group counts as a concern.

    Differences (group minus reference) for rates and AUC; ratios (group over reference)
    for the selection rate and for calibration (observed over expected).
    """

    true_positive_rate: float = 0.10
    false_positive_rate: float = 0.02
    false_negative_rate: float = 0.10
    precision: float = 0.10
    roc_auc: float = 0.05
    selection_rate_ratio: tuple[float, float] = (0.8, 1.25)
    calibration_ratio: tuple[float, float] = (0.8, 1.25)

    def band(self, metric: str) -> tuple[float, float, str] | None:
        """``(low, high, kind)`` of the acceptable band, kind ``difference`` or ``ratio``."""
        if metric == "selection_rate":
            lo, hi = self.selection_rate_ratio
            return lo, hi, "ratio"
        if metric == "calibration_ratio":
            lo, hi = self.calibration_ratio
            return lo, hi, "ratio"
        value = getattr(self, metric, None)
        if value is None:
            return None
        return -float(value), float(value), "difference"


def _reselected(wc: np.ndarray, b: np.ndarray, n_bins: int, capacity: float) -> np.ndarray:
    """Each cell's selected weight when every replicate takes its own highest-scoring
    families up to the capacity (bins from the top, the boundary bin shared): the
    threshold's own sampling variation, which a fixed selection would leave out of the
    intervals of the threshold metrics. ``capacity`` below 1 is a share."""
    per_bin = np.zeros((wc.shape[0], n_bins))
    np.add.at(per_bin.T, b, wc.T)
    k = capacity * per_bin.sum(axis=1) if capacity < 1 else np.full(wc.shape[0], capacity)
    top = per_bin[:, ::-1]
    before = np.cumsum(top, axis=1) - top
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(top > 0, np.clip((k[:, None] - before) / top, 0.0, 1.0), 0.0)
    return wc * frac[:, ::-1][:, b]


def _group_stats(
    w: np.ndarray,
    cells: pd.DataFrame,
    n_groups: int,
    n_bins: int,
    capacity: float | None = None,
) -> dict[str, np.ndarray]:
    """Metrics per group from cell weights ``w`` (B, C); returns arrays (B, G). With
    ``capacity`` the selection is made again in each replicate (:func:`_reselected`);
    without, it is the cells' own (the exact selection)."""
    g = cells["group"].to_numpy()
    y = cells["y"].to_numpy()
    b = cells["bin"].to_numpy()
    count = cells["count"].to_numpy()
    wc = w * count  # weighted family counts per cell
    if capacity is None:
        chosen = wc * cells["selected"].to_numpy()
    else:
        chosen = _reselected(wc, b, n_bins, capacity)

    def per_group(mask: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
        vals = wc if values is None else values
        out = np.zeros((w.shape[0], n_groups))
        for gi in range(n_groups):
            sel = mask & (g == gi)
            out[:, gi] = vals[:, sel].sum(axis=1)
        return out

    everyone = np.ones_like(y, dtype=bool)
    tp = per_group(y == 1, chosen)
    fp = per_group(y == 0, chosen)
    fn = per_group(y == 1, wc - chosen)
    tn = per_group(y == 0, wc - chosen)
    n = tp + fp + fn + tn
    psum = per_group(everyone, w * cells["sum_p"].to_numpy())
    sq = per_group(everyone, w * cells["sum_sq"].to_numpy())
    # AUC per group over score bins
    auc = np.full((w.shape[0], n_groups), np.nan)
    for gi in range(n_groups):
        w1 = np.zeros((w.shape[0], n_bins))
        w0 = np.zeros((w.shape[0], n_bins))
        for yy, target in ((1, w1), (0, w0)):
            sel = (g == gi) & (y == yy)
            if sel.any():
                np.add.at(target.T, b[sel], wc[:, sel].T)
        below0 = np.cumsum(w0, axis=1) - w0
        with np.errstate(invalid="ignore", divide="ignore"):
            auc[:, gi] = (w1 * (below0 + 0.5 * w0)).sum(1) / (w1.sum(1) * w0.sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        pos = tp + fn
        return {
            "selection_rate": (tp + fp) / n,
            "true_positive_rate": tp / pos,
            "false_positive_rate": fp / (fp + tn),
            "false_negative_rate": fn / pos,
            "precision": tp / (tp + fp),
            "roc_auc": auc,
            "mean_predicted": psum / n,
            "observed_rate": pos / n,
            "calibration_ratio": pos / psum,
            "brier": sq / n,
            "count": n,
        }


@dataclass(eq=False)
class _Characteristic:
    name: str
    groups: list[str]
    codes: np.ndarray  # group code per family, -1 = missing


def _characteristic(name: str, values: Any) -> _Characteristic:
    s = pd.Series(values).astype("string")
    cats = sorted(s.dropna().unique().tolist(), key=_natural)
    lookup = {c: i for i, c in enumerate(cats)}
    codes = s.map(lookup).fillna(-1).astype(int).to_numpy()
    return _Characteristic(name=name, groups=[str(c) for c in cats], codes=codes)


def _natural(value: str) -> tuple[int, float | str]:
    try:
        return (0, float(value))
    except ValueError:
        return (1, value)


@dataclass(eq=False)
class FairnessAudit:
    """Group metrics for every characteristic, differences and ratios to a reference group
    with bootstrap intervals, and findings in plain words.

    Computed on construction; results are properties (as in fairlearn).

    Parameters
    ----------
    y_true : array of 0/1
    y_proba : array of float
        The model's probability of escalation (for calibration, Brier score, ROC AUC).
    sensitive_features : DataFrame or mapping of name to array
        One column per characteristic (protected characteristics, deprivation quintile,
        lone-parent household, ...). Never features of the model unless the analyst chose.
    intersections : sequence of tuples of names, optional
        Characteristics to cross, for example ``[("child_ethnicity", "deprivation_quintile")]``.
    y_score : array, optional
        Ranking score for selection (defaults to ``y_proba``).
    capacity : float or int, default=0.05
        Places in the service: the highest-scoring families are selected.
    reference : mapping of characteristic to group, optional
        Reference group per characteristic; default the largest group.
    min_group_size : int, default=50
        Smaller groups are kept in every table, marked "too small to assess".
    min_escalations : int, default=10
        (see below)
    min_auc_escalations : int, default=50
        A group's ROC AUC is compared only with at least this many escalations: with
        fewer, a high AUC's bootstrap interval collapses towards 1 and under-states its
        uncertainty (in simulation, groups of ~15 escalations gave every false finding at
        60,000 test families). Below it the AUC comparison is "too small to assess".
        Groups with fewer observed escalations are also too small to assess: their error
        rates and calibration rest on a handful of events.
    tolerances : Tolerances, optional
    prioritised : str, default="calibration_ratio"
        The criterion the audit prioritises when base rates differ (see ``trade_offs``).
    n_bootstrap, confidence, random_state : bootstrap settings.
    labels : mapping of str to str, optional
        Plain-English names of the characteristics, for the summary sentences.
    rules : DisclosureRules, optional
        The disclosure rules of the published tables (:meth:`published_by_group`).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0, 0.2, 2000); y = (rng.random(2000) < p).astype(int)
    >>> audit = FairnessAudit(y, p, sensitive_features={"sex": rng.choice(["F", "M"], 2000)},
    ...                       n_bootstrap=100)
    >>> sorted(audit.by_group.group.unique())
    ['F', 'M']
    """

    y_true: Any
    y_proba: Any
    sensitive_features: Any
    intersections: Sequence[tuple[str, ...]] = ()
    y_score: Any = None
    capacity: float | int = 0.05
    reference: Mapping[str, str] | None = None
    min_group_size: int = MIN_AUDIT_GROUP_SIZE
    min_escalations: int = 10
    min_auc_escalations: int = 50
    tolerances: Tolerances = field(default_factory=Tolerances)
    prioritised: str = "calibration_ratio"
    n_bootstrap: int = 1000
    confidence: float = 0.95
    random_state: int = 0
    n_bins: int = 200
    labels: Mapping[str, str] = field(default_factory=dict)
    rules: DisclosureRules = field(default_factory=DisclosureRules)

    def _named(self, characteristic: str) -> str:
        """A characteristic (or an intersection "a x b") by its plain-English label."""
        return " x ".join(self.labels.get(c, c) for c in characteristic.split(" x "))

    def __post_init__(self) -> None:
        y = np.asarray(self.y_true).astype(int)
        p = np.clip(np.asarray(self.y_proba, dtype=float), 1e-9, 1 - 1e-9)
        score = p if self.y_score is None else np.asarray(self.y_score, dtype=float)
        if not (len(y) == len(p) == len(score)):
            raise ValueError("y_true, y_proba and y_score must have the same length")
        if self.prioritised not in AUDIT_METRICS:
            raise ValueError(f"prioritised must be one of {sorted(AUDIT_METRICS)}")
        sf = (
            self.sensitive_features
            if isinstance(self.sensitive_features, pd.DataFrame)
            else pd.DataFrame(dict(self.sensitive_features))
        )
        if len(sf) != len(y):
            raise ValueError("sensitive_features must have one row per family")
        sf = sf.reset_index(drop=True)
        for combo in self.intersections:
            missing = [c for c in combo if c not in sf.columns]
            if missing:
                raise ValueError(
                    f"intersection {combo}: unknown characteristic(s) {missing}; "
                    f"available: {list(sf.columns)}"
                )
            parts = [sf[c].astype("string") for c in combo]
            joined = parts[0]
            for part in parts[1:]:
                joined = joined + " | " + part
            sf[" x ".join(combo)] = joined
        self._y, self._p, self._score = y, p, score
        self.selected_ = select_at_capacity(score, self.capacity, self.random_state)
        self._capacity = float(self.capacity)
        self._sf = sf
        self._chars = [_characteristic(c, sf[c]) for c in sf.columns]
        edges = np.unique(np.quantile(score, np.linspace(0, 1, self.n_bins + 1)[1:-1]))
        self._bin = np.searchsorted(edges, score, side="right")
        self._n_bins_used = int(edges.size + 1)
        self._compute()

    # ------------------------------------------------------------------ computation
    def _cells(self, char: _Characteristic) -> pd.DataFrame:
        keep = char.codes >= 0
        df = pd.DataFrame(
            {
                "group": char.codes[keep],
                "y": self._y[keep],
                "selected": self.selected_[keep],
                "bin": self._bin[keep],
                "p": self._p[keep],
                "sq": (self._p[keep] - self._y[keep]) ** 2,
            }
        )
        cells = (
            df.groupby(["group", "y", "selected", "bin"], sort=True)
            .agg(count=("p", "size"), sum_p=("p", "sum"), sum_sq=("sq", "sum"))
            .reset_index()
        )
        return cells

    def _compute(self) -> None:
        rng = np.random.default_rng(self.random_state)
        alpha = (1 - self.confidence) / 2
        group_rows, diff_rows = [], []
        for char in self._chars:
            cells = self._cells(char)
            n_groups = len(char.groups)
            ones = np.ones((1, len(cells)))
            point = _group_stats(ones, cells, n_groups, self._n_bins_used)
            binned = _group_stats(ones, cells, n_groups, self._n_bins_used, self._capacity)
            exact_auc = self._exact_auc(char)
            sizes = point["count"][0]
            ref_name = (self.reference or {}).get(char.name)
            ref = char.groups.index(ref_name) if ref_name in char.groups else int(np.argmax(sizes))
            rep = self._replicates(cells, n_groups, rng)
            events = point["observed_rate"][0] * sizes
            for gi, group in enumerate(char.groups):
                small = sizes[gi] < self.min_group_size or events[gi] < self.min_escalations
                few = (
                    events[gi] < self.min_auc_escalations or events[ref] < self.min_auc_escalations
                )
                for m in AUDIT_METRICS:
                    est = exact_auc[gi] if m == "roc_auc" else float(point[m][0, gi])
                    shift = est - float(binned[m][0, gi])
                    lo, hi = _score_hull(
                        point, gi, m, _quantiles(rep[m][:, gi], alpha, shift), self.confidence
                    )
                    group_rows.append((char.name, group, int(sizes[gi]), small, m, est, lo, hi))
                    if gi == ref:
                        continue
                    kind = "ratio" if m in _RATIO_METRICS else "difference"
                    ref_est = exact_auc[ref] if m == "roc_auc" else float(point[m][0, ref])
                    with np.errstate(invalid="ignore", divide="ignore"):
                        if kind == "ratio":
                            value = est / ref_est if ref_est else np.nan
                            r = rep[m][:, gi] / rep[m][:, ref]
                            centre = binned[m][0, gi] / binned[m][0, ref]
                        else:
                            value = est - ref_est
                            r = rep[m][:, gi] - rep[m][:, ref]
                            centre = binned[m][0, gi] - binned[m][0, ref]
                    lo, hi = _quantiles(r, alpha, value - centre)
                    floor = _floor_se(point, gi, ref, m)
                    lo, hi = _widened(value, lo, hi, floor, kind, norm.ppf(1 - alpha))
                    diff_rows.append(
                        (
                            char.name,
                            group,
                            char.groups[ref],
                            int(sizes[gi]),
                            small or (m == "roc_auc" and few),
                            m,
                            kind,
                            value,
                            lo,
                            hi,
                            max(_standard_error(r, kind), floor),
                        )
                    )
        self._by_group = pd.DataFrame(
            group_rows,
            columns=[
                "characteristic",
                "group",
                "n_families",
                "too_small",
                "metric",
                "estimate",
                "lower",
                "upper",
            ],
        )
        self._differences = pd.DataFrame(
            diff_rows,
            columns=[
                "characteristic",
                "group",
                "reference",
                "n_families",
                "too_small",
                "metric",
                "kind",
                "value",
                "lower",
                "upper",
                "se",
            ],
        )
        self._test_differences()

    def _replicates(
        self, cells: pd.DataFrame, n_groups: int, rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Every metric per group in each Poisson-bootstrap replicate, (B, G) arrays; the
        selection at capacity made again in each (in chunks of 200 replicates)."""
        count = cells["count"].to_numpy(dtype=float)
        reps: dict[str, list[np.ndarray]] = {m: [] for m in AUDIT_METRICS}
        done = 0
        while done < self.n_bootstrap:
            b = min(200, self.n_bootstrap - done)
            w = rng.poisson(np.broadcast_to(count, (b, count.size))) / count
            stats = _group_stats(w, cells, n_groups, self._n_bins_used, self._capacity)
            for m in AUDIT_METRICS:
                reps[m].append(stats[m])
            done += b
        return {m: np.concatenate(v) for m, v in reps.items()}

    def _exact_auc(self, char: _Characteristic) -> list[float]:
        from sklearn.metrics import roc_auc_score

        out = []
        for gi in range(len(char.groups)):
            sel = char.codes == gi
            y = self._y[sel]
            out.append(
                float(roc_auc_score(y, self._score[sel])) if 0 < y.sum() < len(y) else float("nan")
            )
        return out

    def _test_differences(self) -> None:
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
        """
        d = self._differences
        bands = [self.tolerances.band(m) for m in d.metric]
        p = np.array(
            [_p_outside(r.value, r.se, b) for r, b in zip(d.itertuples(), bands, strict=True)]
        )
        # the false negative rate is one minus the true positive rate: its test is the
        # same test, so it is not counted twice in the family (it takes the TPR's result)
        mirror = (d.metric == "false_negative_rate").to_numpy()
        family = ~d.too_small.to_numpy() & np.isfinite(p) & ~mirror
        weights = np.where(family, self._weights(d), 0.0)
        adjusted = np.full(len(d), np.nan)
        adjusted[family] = holm(p[family], weights[family])
        level = (1 - self.confidence) * weights / max(weights.sum(), 1e-300)
        self.n_comparisons_ = int(family.sum())
        d["p_value"], d["tested"] = p, family
        d["p_adjusted"], d["level"] = _from_tpr(d, adjusted), _from_tpr(d, level)
        reach = [
            _detectable(b, r.se, _power_z(r.level))
            for r, b in zip(d.itertuples(), bands, strict=True)
        ]
        d["detectable_low"] = [r[0] for r in reach]
        d["detectable_high"] = [r[1] for r in reach]
        self._detectable_when_small(d, bands)
        d["finding"] = [
            self._finding(r, b) for r, b in zip(d.itertuples(index=False), bands, strict=True)
        ]

    def _detectable_when_small(
        self, d: pd.DataFrame, bands: list[tuple[float, float, str] | None]
    ) -> None:
        """For groups too small to assess, the gap a group of their size could have shown:
        a design-based power calculation from the published (rounded) family counts and
        the whole population's rates (:func:`_design_se`), never from the small group's
        own outcomes (which would give back a count under the threshold), at the level
        the group's comparison would have had in the family (the smallest level of its
        criterion's tested comparisons, or an equal share had it joined the family)."""
        small = d.too_small.to_numpy() & (d.metric != "roc_auc").to_numpy()
        if not small.any():
            return
        sizes = self._by_group.drop_duplicates(["characteristic", "group"]).set_index(
            ["characteristic", "group"]
        )["n_families"]
        tested = d[d.tested]
        levels = tested.groupby("metric")["level"].min()
        # with no tested comparison of its criterion: its share had it joined the family
        fallback = (1 - self.confidence) / (len(tested) + 1)
        rates = _population_rates(self._y, self.selected_, self.rules)
        for i in np.flatnonzero(small):
            r = d.iloc[i]
            n = self.rules.round(float(r.n_families))
            n_ref = self.rules.round(float(sizes.get((r.characteristic, r.reference), 0)))
            if n < self.rules.min_cell:
                continue
            se = _design_se(str(r.metric), n, n_ref, rates)
            z = _power_z(float(levels.get(r.metric, fallback)))
            lo, hi = _detectable(bands[i], se, z)
            d.iloc[i, d.columns.get_loc("detectable_low")] = lo
            d.iloc[i, d.columns.get_loc("detectable_high")] = hi

    def _weights(self, d: pd.DataFrame) -> np.ndarray:
        """Each comparison's share of the error rate before any is rejected: half
        (``PRIORITY_SHARE``) to the prioritised criterion's comparisons of single
        characteristics, the rest to the others, equally within each part. A part with
        no comparisons gives its share to the other."""
        tested = ~d.too_small.to_numpy() & (d.metric != "false_negative_rate").to_numpy()
        tested &= np.array([self.tolerances.band(m) is not None for m in d.metric])
        headline = (d.metric == self.prioritised).to_numpy() & ~d.characteristic.str.contains(
            " x ", regex=False
        ).to_numpy()
        parts = [tested & headline, tested & ~headline]
        shares = [PRIORITY_SHARE, 1.0 - PRIORITY_SHARE]
        self.split_family_ = bool(parts[0].any() and parts[1].any())
        if not self.split_family_:
            shares = [1.0, 1.0]
        w = np.zeros(len(d))
        for part, share in zip(parts, shares, strict=True):
            if part.any():
                w[part] = share / part.sum()
        return w

    def _finding(self, row: Any, band: tuple[float, float, str] | None) -> str:
        if row.too_small:
            return "too small to assess"
        if band is None:
            return "reported only"
        lo_tol, hi_tol, _ = band
        if not (np.isfinite(row.lower) and np.isfinite(row.upper)):
            return "too uncertain to say"
        # the printed interval must agree: it lies wholly outside the band too
        if row.p_adjusted < 1 - self.confidence and (row.lower > hi_tol or row.upper < lo_tol):
            return "outside tolerance"
        if row.lower >= lo_tol and row.upper <= hi_tol:
            return "within tolerance"
        return "too uncertain to say"

    def family_statement(self) -> str:
        """One sentence: how many comparisons were tested, and what "outside tolerance"
        means across them."""
        by_char = self.comparisons().groupby("characteristic", sort=False)["comparisons"].sum()
        listed = "; ".join(f"{self._named(c)} {n}" for c, n in by_char.items())
        return (
            f"The audit tested {self.n_comparisons_} comparisons (groups x metrics with a "
            f"tolerance, by characteristic: {listed}). A comparison is called outside "
            "tolerance only when it stays so after Holm's adjustment across all of them, "
            f"so the chance of any false such finding in this audit is at most "
            f"{1 - self.confidence:.0%}"
            + (
                ". Half of that is reserved, in advance, for "
                f"{AUDIT_METRICS[self.prioritised]} by characteristic on its own (the "
                "prioritised criterion), half for everything else"
                if self.split_family_
                else ""
            )
            + "; the intervals shown are each comparison's own."
        )

    def comparisons(self) -> pd.DataFrame:
        """The family of comparisons the audit tested: how many, by characteristic and
        metric (those with a tolerance band and groups large enough to assess)."""
        d = self._differences
        tested = d[d.tested]
        return (
            tested.groupby(["characteristic", "metric"], sort=False)
            .size()
            .rename("comparisons")
            .reset_index()
        )

    # ------------------------------------------------------------------ results
    @property
    def by_group(self) -> pd.DataFrame:
        """Tidy: ``characteristic, group, n_families, too_small, metric, estimate, lower,
        upper``. Small groups stay visible, flagged ``too_small``."""
        return self._by_group.copy()

    @property
    def differences(self) -> pd.DataFrame:
        """Each group against its reference: a difference, or a ratio for the selection
        rate and calibration, with its interval and finding."""
        return self._differences.copy()

    @property
    def characteristics(self) -> list[str]:
        return [c.name for c in self._chars]

    def findings(self) -> pd.DataFrame:
        """The differences with a tolerance, one row per group and metric, with wording:
        the unadjusted interval, the p-value adjusted across the family of comparisons
        (Holm) and the gaps the group's size could have detected."""
        d = self._differences
        d = d[d.finding != "reported only"].copy()
        d["tolerance"] = [_band_text(self.tolerances.band(m)) for m in d.metric]
        return d[
            [
                "characteristic",
                "group",
                "reference",
                "metric",
                "kind",
                "value",
                "lower",
                "upper",
                "tolerance",
                "p_adjusted",
                "detectable_low",
                "detectable_high",
                "finding",
            ]
        ].reset_index(drop=True)

    def published_by_group(self, rules: DisclosureRules | None = None) -> pd.DataFrame:
        """``by_group`` as it may be published: a figure is withheld ("too small to
        publish") wherever its numerator or denominator is a count under the threshold,
        and a rate is the ratio of the published counts
        (see :mod:`escalation_model.fairness._publish`)."""
        from ._publish import publish_by_group

        return publish_by_group(self._by_group, rules or self.rules)

    def published_findings(self, rules: DisclosureRules | None = None) -> pd.DataFrame:
        """:meth:`findings` as they may be published (both groups' figures publishable)."""
        from ._publish import publish_findings

        return publish_findings(self.findings(), self._by_group, rules or self.rules)

    def counted_findings(self, rules: DisclosureRules | None = None) -> pd.DataFrame:
        """The published findings every count and list of findings is made of: criteria
        with a tolerance, the false negative rate left out (it is one minus the true
        positive rate, whose test it repeats). The card's counts, its list of findings
        outside tolerance and MLflow's counts all read this one table."""
        f = self.published_findings(rules)
        keep = [self.tolerances.band(m) is not None for m in f.metric]
        return f[
            np.array(keep, dtype=bool) & (f.metric != "false_negative_rate").to_numpy()
        ].reset_index(drop=True)

    def finding_counts(self, rules: DisclosureRules | None = None) -> pd.DataFrame:
        """How many comparisons of each criterion with a tolerance ended in each finding
        (published findings; single characteristics and intersections together): one row
        per criterion audited, the prioritised one first.

        >>> rng = np.random.default_rng(0)
        >>> p = rng.uniform(0, 0.2, 5000); y = (rng.random(5000) < p).astype(int)
        >>> audit = FairnessAudit(y, p, {"g": rng.choice(["A", "B"], 5000)}, n_bootstrap=50)
        >>> audit.finding_counts().columns.tolist()[:3]
        ['metric', 'criterion', 'outside tolerance']
        """
        f = self.counted_findings(rules)
        kinds = [
            "outside tolerance",
            "within tolerance",
            "too uncertain to say",
            "too small to assess",
            "too small to publish",
        ]
        counts = pd.crosstab(f.metric, f.finding).reindex(columns=kinds, fill_value=0)
        order = [self.prioritised] + [m for m in AUDIT_METRICS if m != self.prioritised]
        counts = counts.reindex([m for m in order if m in counts.index])
        counts.insert(0, "criterion", [AUDIT_METRICS[m] for m in counts.index])
        return counts.rename_axis(columns=None).reset_index()

    def outside_tolerance(self, metric: str | None = None) -> pd.DataFrame:
        """Rows whose whole interval lies outside the tolerance band."""
        f = self.findings()
        f = f[f.finding == "outside tolerance"]
        if metric is not None:
            f = f[f.metric == metric]
        return f.reset_index(drop=True)

    def trade_offs(self) -> str:
        """Which fairness criteria cannot all hold here, and which the audit prioritised."""
        rates = self._by_group[self._by_group.metric == "observed_rate"]
        spread = rates.groupby("characteristic", sort=False)["estimate"].agg(["min", "max"])
        differing = [c for c, r in spread.iterrows() if r["max"] > 1.25 * max(r["min"], 1e-9)]
        text = (
            "When groups have different base rates of escalation, a model that is calibrated "
            "within every group cannot also give every group equal true and false positive "
            "rates (Kleinberg, Mullainathan and Raghavan 2016; Chouldechova 2017), nor equal "
            "selection rates. "
        )
        if differing:
            text += (
                "Base rates differ here by characteristic: "
                + ", ".join(self._named(c) for c in differing)
                + ". "
            )
        text += (
            f"This audit prioritises {AUDIT_METRICS[self.prioritised]} "
            f"('{self.prioritised}'), because the library's outputs are expected counts for "
            "commissioning: they are right for every group only if the model is calibrated "
            "within groups. Differences in error and selection rates are reported beside it "
            "so that their size is visible."
        )
        return text

    def summary(self) -> list[str]:
        """Plain-English findings for the model card, prioritised criterion first; only
        figures that may be published (:meth:`published_findings`)."""
        lines = []
        f = self.published_findings()
        main = f[f.metric == self.prioritised]
        for finding in ("outside tolerance", "too uncertain to say"):
            rows = main[main.finding == finding]
            for r in rows.itertuples(index=False):
                lines.append(
                    f"{self._named(r.characteristic)} = {r.group}: {AUDIT_METRICS[r.metric]} "
                    f"relative to {r.reference} is {r.value:.2f}, "
                    f"{_in_words(r, self.tolerances.band(r.metric), self.confidence)}; {finding}"
                    + (_could_detect(r) if finding == "too uncertain to say" else "")
                    + "."
                )
        n_within = int((main.finding == "within tolerance").sum())
        lines.insert(
            0,
            f"{n_within} of {len(main)} group comparisons are within tolerance on "
            f"{AUDIT_METRICS[self.prioritised]}; "
            f"{int((main.finding == 'outside tolerance').sum())} outside; "
            f"{int((main.finding == 'too uncertain to say').sum())} too uncertain to say; "
            f"{int((main.finding == 'too small to assess').sum())} too small to assess; "
            f"{int((main.finding == 'too small to publish').sum())} too small to publish.",
        )
        lines.insert(1, self.family_statement())
        small = self._by_group[self._by_group.too_small][["characteristic", "group"]]
        small = small.drop_duplicates()
        if len(small):
            lines.append(
                f"Too small to assess (under {self.min_group_size} families or "
                f"{self.min_escalations} escalations), with what a group of its size could "
                f"have shown on {AUDIT_METRICS[self.prioritised]}: "
                + "; ".join(
                    f"{self._named(c)} = {g}{self._small_could_detect(c, g)}"
                    for c, g in small.itertuples(index=False)
                )
                + "."
            )
        return lines

    def _small_could_detect(self, characteristic: str, group: str) -> str:
        """' (about 40 families: only a ratio below 0.1 or above 6.6 could have been
        detected)', from the design-based detectable gap and the rounded family count;
        empty where the group is too small to publish."""
        d = self._differences
        row = d[
            (d.characteristic == characteristic)
            & (d.group == group)
            & (d.metric == self.prioritised)
        ]
        if row.empty:
            return ""
        r = row.iloc[0]
        n = self.rules.round(float(r.n_families))
        if n < self.rules.min_cell or not np.isfinite(r.detectable_high):
            return ""
        detect = _could_detect(r).removeprefix("; with this group's size, ")
        return f" (about {n:,.0f} families: {detect})"

    def metric_frame(self, characteristic: str, *, kind: str = "threshold") -> Any:
        """fairlearn's own ``MetricFrame`` for one characteristic.

        ``kind="threshold"`` gives the metrics at the capacity threshold (``y_pred`` is the
        selection); ``kind="probability"`` gives ROC AUC, Brier score and mean prediction.
        """
        from fairlearn.metrics import (
            MetricFrame,
            false_negative_rate,
            false_positive_rate,
            selection_rate,
            true_positive_rate,
        )
        from sklearn.metrics import brier_score_loss, precision_score, roc_auc_score

        sf = self._sf[characteristic].astype("string")
        keep = sf.notna().to_numpy()
        if kind == "threshold":
            metrics = {
                "selection_rate": selection_rate,
                "true_positive_rate": true_positive_rate,
                "false_positive_rate": false_positive_rate,
                "false_negative_rate": false_negative_rate,
                "precision": lambda yt, yp: precision_score(yt, yp, zero_division=np.nan),
            }
            y_pred = self.selected_.astype(int)
        else:
            metrics = {
                "roc_auc": roc_auc_score,
                "brier": brier_score_loss,
                "mean_predicted": lambda yt, yp: float(np.mean(yp)),
            }
            y_pred = self._p
        return MetricFrame(
            metrics=metrics,
            y_true=self._y[keep],
            y_pred=y_pred[keep],
            sensitive_features=sf[keep].to_numpy(),
        )

    def plot(self, metric: str = "calibration_ratio", characteristic: str | None = None) -> Any:
        """Each group's estimate of ``metric`` with its interval, one panel a characteristic."""
        from ._plots import plot_group_metric

        return plot_group_metric(self, metric, characteristic)

    def __repr__(self) -> str:
        n_out = len(self.outside_tolerance(self.prioritised))
        return (
            f"FairnessAudit(characteristics={self.characteristics}, capacity={self.capacity}, "
            f"prioritised='{self.prioritised}', outside_tolerance={n_out})"
        )


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


def _standard_error(replicates: np.ndarray, kind: str) -> float:
    """The bootstrap standard error of a difference, or of a ratio's logarithm."""
    r = replicates[np.isfinite(replicates)]
    if kind == "ratio":
        r = np.log(r[r > 0])
    return float(np.std(r, ddof=1)) if r.size >= 10 else float("nan")


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
    ``z`` (see :meth:`FairnessAudit._test_differences`)."""
    if band is None or not np.isfinite(se):
        return float("nan"), float("nan")
    lo, hi, kind = band
    if not np.isfinite(z):
        return float("nan"), float("nan")
    if kind == "ratio":
        return float(np.exp(np.log(lo) - z * se)), float(np.exp(np.log(hi) + z * se))
    return lo - z * se, hi + z * se


def families_needed(
    audit: FairnessAudit, characteristic: str, group: str, metric: str, gap: float
) -> float:
    """How many families the group would need for the audit to detect ``gap`` (a
    difference, or a ratio) on ``metric`` with 80% power, at this audit's size of family
    of comparisons: the standard error shrinks as one over the square root of the
    group's size. Infinite where the gap is inside the tolerance band.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0, 0.2, 20000); y = (rng.random(20000) < p).astype(int)
    >>> g = rng.choice(["A", "B"], 20000, p=[0.9, 0.1])
    >>> audit = FairnessAudit(y, p, sensitive_features={"g": g}, n_bootstrap=200)
    >>> need = families_needed(audit, "g", "B", "calibration_ratio", 1.5)
    >>> 1000 < need < 20000
    True
    """
    d = audit.differences
    row = d[(d.characteristic == characteristic) & (d.group == group) & (d.metric == metric)]
    band = audit.tolerances.band(metric)
    if row.empty or band is None:
        raise ValueError(
            f"no comparison of {characteristic} = {group} on {metric} with a tolerance. "
            "Fix: pick a row of audit.findings()."
        )
    r = row.iloc[0]
    lo, hi, kind = band
    if kind == "ratio":
        gap, lo, hi = np.log(gap), np.log(lo), np.log(hi)
    beyond = max(gap - hi, lo - gap)
    if beyond <= 0:
        return float("inf")
    z = _power_z(float(r.level))
    return float(r.n_families * (z * r.se / beyond) ** 2)


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


def _quantiles(values: np.ndarray, alpha: float, shift: float) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size < 10:
        return float("nan"), float("nan")
    lo, hi = np.quantile(finite, [alpha, 1 - alpha])
    return float(lo + shift), float(hi + shift)


def _could_detect(row: Any) -> str:
    """ "; with 310 families, only a ratio below 0.5 or above 1.9 could have been
    detected" (from the published row)."""
    lo, hi = row.detectable_low, row.detectable_high
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    gap = (
        f"a ratio below {lo:.2f} or above {hi:.2f}"
        if row.kind == "ratio"
        else f"a difference beyond {lo:+.2f} or {hi:+.2f}"
    )
    return f"; with this group's size, only {gap} could have been detected"


def _in_words(row: Any, band: tuple[float, float, str] | None, confidence: float = 0.95) -> str:
    """What a comparison's interval shows against no difference and against the band:
    "higher, by between 11% and 34% (95% interval): possibly beyond the tolerance of a
    ratio between 0.8 and 1.25".

    >>> from types import SimpleNamespace as Row
    >>> print(_in_words(Row(kind="ratio", lower=1.11, upper=1.34), (0.8, 1.25, "ratio")))
    ... # doctest: +NORMALIZE_WHITESPACE
    higher, by between 11% and 34% (95% interval): possibly beyond the tolerance
    (ratio between 0.8 and 1.25)
    >>> print(_in_words(Row(kind="difference", lower=-0.03, upper=0.02), (-0.1, 0.1, "x")))
    ... # doctest: +NORMALIZE_WHITESPACE
    between 3.0 points lower and 2.0 points higher (95% interval), no clear difference:
    within the tolerance (difference within +/-0.1)
    """
    lo, hi = float(row.lower), float(row.upper)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "its interval could not be estimated"
    if row.kind == "ratio":
        up, down = f"{hi - 1:.0%}", f"{1 - lo:.0%}"
        low_gap, high_gap, null = f"{1 - hi:.0%}", f"{lo - 1:.0%}", 1.0
    else:
        up, down = f"{100 * hi:.1f} points", f"{-100 * lo:.1f} points"
        low_gap, high_gap, null = f"{-100 * hi:.1f}", f"{100 * lo:.1f}", 0.0
    if lo > null:
        text = f"higher, by between {high_gap} and {up}"
    elif hi < null:
        text = f"lower, by between {low_gap} and {down}"
    else:
        text = f"between {down} lower and {up} higher"
    text += f" ({confidence:.0%} interval)"
    if lo <= null <= hi:
        text += ", no clear difference"
    if band is None:
        return text
    b_lo, b_hi, _ = band
    if lo > b_hi or hi < b_lo:
        where = "beyond the tolerance"
    elif lo >= b_lo and hi <= b_hi:
        where = "within the tolerance"
    else:
        where = "possibly beyond the tolerance"
    return f"{text}: {where} ({_band_text(band)})"


def _band_text(band: tuple[float, float, str] | None) -> str:
    if band is None:
        return ""
    lo, hi, kind = band
    if kind == "ratio":
        return f"ratio between {lo:g} and {hi:g}"
    return f"difference within +/-{hi:g}"

"""The fairness audit's result object: group metrics at the service's capacity, with
intervals and findings.

Its engine (cells, group statistics, bootstrap replicates) is :mod:`._engine`, its
inference (tests, Holm's adjustment, power) :mod:`._inference`, its sentences
:mod:`._wording`.

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
from scipy.stats import norm

from .._limits import MIN_AUDIT_GROUP_SIZE
from .._publish import DisclosureRules
from .._selection import select_at_capacity
from . import _wording as wording
from ._engine import (
    _RATIO_METRICS,
    AUDIT_METRICS,
    Tolerances,
    _Characteristic,
    _characteristic,
    _group_stats,
    _quantiles,
    _standard_error,
    exact_auc,
    group_cells,
    replicates,
)
from ._inference import (
    PRIORITY_SHARE,
    _floor_se,
    _population_rates,
    _power_z,
    _score_hull,
    _widened,
    adjust_family,
    detectable_when_small,
    finding,
    holm,
)

__all__ = [
    "AUDIT_METRICS",
    "PRIORITY_SHARE",
    "FairnessAudit",
    "Tolerances",
    "families_needed",
    "holm",
    "select_at_capacity",
]


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
        self._published: dict[tuple[str, DisclosureRules], pd.DataFrame] = {}
        self._compute()

    # ------------------------------------------------------------------ computation
    def _cells(self, char: _Characteristic) -> pd.DataFrame:
        return group_cells(char.codes, self._y, self.selected_, self._bin, self._p)

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
            exact = exact_auc(char.codes, n_groups, self._y, self._score)
            sizes = point["count"][0]
            ref_name = (self.reference or {}).get(char.name)
            ref = char.groups.index(ref_name) if ref_name in char.groups else int(np.argmax(sizes))
            rep = replicates(
                cells, n_groups, self._n_bins_used, self._capacity, self.n_bootstrap, rng
            )
            events = point["observed_rate"][0] * sizes
            for gi, group in enumerate(char.groups):
                small = sizes[gi] < self.min_group_size or events[gi] < self.min_escalations
                few = (
                    events[gi] < self.min_auc_escalations or events[ref] < self.min_auc_escalations
                )
                for m in AUDIT_METRICS:
                    est = exact[gi] if m == "roc_auc" else float(point[m][0, gi])
                    shift = est - float(binned[m][0, gi])
                    lo, hi = _score_hull(
                        point, gi, m, _quantiles(rep[m][:, gi], alpha, shift), self.confidence
                    )
                    group_rows.append((char.name, group, int(sizes[gi]), small, m, est, lo, hi))
                    if gi == ref:
                        continue
                    kind = "ratio" if m in _RATIO_METRICS else "difference"
                    ref_est = exact[ref] if m == "roc_auc" else float(point[m][0, ref])
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

    def _test_differences(self) -> None:
        """Each comparison tested, adjusted across the family and given its finding
        (:func:`~escalation_model.fairness._inference.adjust_family`)."""
        d = self._differences
        self.n_comparisons_, self.split_family_ = adjust_family(
            d, self.tolerances, self.prioritised, self.confidence
        )
        sizes = self._by_group.drop_duplicates(["characteristic", "group"]).set_index(
            ["characteristic", "group"]
        )["n_families"]
        rates = _population_rates(self._y, self.selected_, self.rules)
        detectable_when_small(d, self.tolerances, sizes, rates, self.rules, self.confidence)
        d["finding"] = [
            finding(r, self.tolerances.band(r.metric), self.confidence)
            for r in d.itertuples(index=False)
        ]

    def family_statement(self) -> str:
        """One sentence: how many comparisons were tested, and what "outside tolerance"
        means across them."""
        by_char = self.comparisons().groupby("characteristic", sort=False)["comparisons"].sum()
        return wording.family_statement(
            self.n_comparisons_,
            {self._named(c): int(n) for c, n in by_char.items()},
            self.confidence,
            self.prioritised,
            self.split_family_,
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
        d["tolerance"] = [wording._band_text(self.tolerances.band(m)) for m in d.metric]
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

        key = ("by_group", rules or self.rules)
        if key not in self._published:  # the audit does not change once computed
            self._published[key] = publish_by_group(self._by_group, key[1])
        return self._published[key].copy()

    def published_findings(self, rules: DisclosureRules | None = None) -> pd.DataFrame:
        """:meth:`findings` as they may be published (both groups' figures publishable)."""
        from ._publish import publish_findings

        key = ("findings", rules or self.rules)
        if key not in self._published:
            self._published[key] = publish_findings(self.findings(), self._by_group, key[1])
        return self._published[key].copy()

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

    def finding_counts(
        self, rules: DisclosureRules | None = None, by: str = "metric"
    ) -> pd.DataFrame:
        """How many comparisons of each criterion (``by="metric"``) or of each
        characteristic (``by="characteristic"``) ended in each finding, among criteria
        with a tolerance (published findings; single characteristics and intersections
        together): one row per criterion, the prioritised one first, or per
        characteristic, in the audit's order.

        >>> rng = np.random.default_rng(0)
        >>> p = rng.uniform(0, 0.2, 5000); y = (rng.random(5000) < p).astype(int)
        >>> audit = FairnessAudit(y, p, {"g": rng.choice(["A", "B"], 5000)}, n_bootstrap=50)
        >>> audit.finding_counts().columns.tolist()[:3]
        ['metric', 'criterion', 'outside tolerance']
        >>> audit.finding_counts(by="characteristic").columns.tolist()[:3]
        ['characteristic', 'label', 'outside tolerance']
        """
        f = self.counted_findings(rules)
        kinds = [
            "outside tolerance",
            "within tolerance",
            "too uncertain to say",
            "too small to assess",
            "too small to publish",
        ]
        counts = pd.crosstab(f[by], f.finding).reindex(columns=kinds, fill_value=0)
        if by == "metric":
            order = [self.prioritised] + [m for m in AUDIT_METRICS if m != self.prioritised]
            counts = counts.reindex([m for m in order if m in counts.index])
            counts.insert(0, "criterion", [AUDIT_METRICS[m] for m in counts.index])
        else:
            counts = counts.reindex([c for c in self.characteristics if c in counts.index])
            counts.insert(0, "label", [self._named(c) for c in counts.index])
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
        return wording.trade_offs([self._named(c) for c in differing], self.prioritised)

    def summary(self) -> list[str]:
        """Plain-English findings for the model card, prioritised criterion first; only
        figures that may be published (:meth:`published_findings`)."""
        f = self.published_findings()
        small = self._by_group[self._by_group.too_small][["characteristic", "group"]]
        return wording.summary_lines(
            f[f.metric == self.prioritised],
            named=self._named,
            tolerances=self.tolerances,
            confidence=self.confidence,
            prioritised=self.prioritised,
            statement=self.family_statement(),
            small=[
                (c, g, self._small_could_detect(c, g))
                for c, g in small.drop_duplicates().itertuples(index=False)
            ],
            thresholds=(self.min_group_size, self.min_escalations),
        )

    def _small_could_detect(self, characteristic: str, group: str) -> str:
        """What a group too small to assess could have shown on the prioritised
        criterion, from its rounded size (empty where too small to publish)."""
        d = self._differences
        row = d[
            (d.characteristic == characteristic)
            & (d.group == group)
            & (d.metric == self.prioritised)
        ]
        if row.empty:
            return ""
        r = row.iloc[0]
        return wording.small_could_detect(
            r, self.rules.round(float(r.n_families)), self.rules.min_cell
        )

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

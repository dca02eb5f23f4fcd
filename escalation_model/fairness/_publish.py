"""The audit's tables as they may be published: a rate only where its numerator and its
denominator are both counts of at least the disclosure threshold.

The audit itself uses every family in memory. What leaves it is checked here: for each
group the counts behind each metric are rebuilt from the group's exact point estimates
(families, escalations, families offered help, escalations among them) and a figure is
withheld, with the words "too small to publish", wherever rate x size would give back a
count under the threshold (for example 7 offered help among the 11 who escalated).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._limits import DISCLOSURE_MIN_CELL
from .._publish import DisclosureRules, publish_share

__all__ = ["TOO_SMALL_TO_PUBLISH", "publish_by_group", "publish_findings", "publishable_rows"]

TOO_SMALL_TO_PUBLISH = "too small to publish"


def _counts(by_group: pd.DataFrame) -> pd.DataFrame:
    """Per characteristic and group: families, escalations, offered, escalations offered."""
    wide = by_group.pivot_table(
        index=["characteristic", "group"], columns="metric", values="estimate", sort=False
    )
    n = by_group.groupby(["characteristic", "group"], sort=False)["n_families"].first()
    out = pd.DataFrame({"n": n.astype(float)})
    out["esc"] = wide["observed_rate"].reindex(out.index) * out["n"]
    out["sel"] = wide["selection_rate"].reindex(out.index) * out["n"]
    out["sel_esc"] = wide["true_positive_rate"].reindex(out.index).fillna(0) * out["esc"]
    return out


def _numerator_denominator(c: pd.DataFrame, metric: str) -> tuple[pd.Series, pd.Series]:
    non = c["n"] - c["esc"]
    pairs = {
        "selection_rate": (c["sel"], c["n"]),
        "true_positive_rate": (c["sel_esc"], c["esc"]),
        "false_negative_rate": (c["esc"] - c["sel_esc"], c["esc"]),
        "false_positive_rate": (c["sel"] - c["sel_esc"], non),
        "precision": (c["sel_esc"], c["sel"]),
        "observed_rate": (c["esc"], c["n"]),
        "calibration_ratio": (c["esc"], c["n"]),
        "mean_predicted": (c["n"], c["n"]),
        "roc_auc": (np.minimum(c["esc"], non), c["n"]),
        "brier": (np.minimum(c["esc"], non), c["n"]),
    }
    return pairs.get(metric, (c["esc"], c["n"]))


def publishable_rows(by_group: pd.DataFrame, min_cell: int = DISCLOSURE_MIN_CELL) -> np.ndarray:
    """For each row of ``by_group``, whether its figures may be published.

    >>> t = pd.DataFrame({
    ...     "characteristic": "c", "group": ["a"] * 3, "n_families": 200,
    ...     "metric": ["observed_rate", "selection_rate", "true_positive_rate"],
    ...     "estimate": [11 / 200, 20 / 200, 7 / 11]})
    >>> publishable_rows(t).tolist()  # 7 offered help among 11 who escalated: withheld
    [True, True, False]
    """
    counts = _counts(by_group)
    ok = np.zeros(len(by_group), dtype=bool)
    for metric, idx in by_group.groupby("metric", sort=False).indices.items():
        num, den = _numerator_denominator(counts, str(metric))
        rows = by_group.iloc[idx]
        key = pd.MultiIndex.from_arrays([rows["characteristic"], rows["group"]])
        n_, d_ = num.reindex(key).to_numpy(), den.reindex(key).to_numpy()
        # counts rebuilt from rates carry float error: round before comparing
        ok[idx] = (np.round(n_, 6) >= min_cell) & (np.round(d_, 6) >= min_cell)
    return _with_complements(by_group, ok)


#: Metrics that are one minus the other, of the same families: one is published only
#: where both may be, or the published one gives back the other by subtraction.
COMPLEMENTS = (("true_positive_rate", "false_negative_rate"),)


def _with_complements(by_group: pd.DataFrame, ok: np.ndarray) -> np.ndarray:
    """``ok`` with each metric of a complementary pair withheld where the other is."""
    ok = ok.copy()
    key = by_group["characteristic"].astype(str) + "\x1f" + by_group["group"].astype(str)
    for a, b in COMPLEMENTS:
        rows_a = (by_group["metric"] == a).to_numpy()
        rows_b = (by_group["metric"] == b).to_numpy()
        ok_a = dict(zip(key[rows_a], ok[rows_a], strict=True))
        ok_b = dict(zip(key[rows_b], ok[rows_b], strict=True))
        ok[rows_a] = [ok_a[k] and ok_b.get(k, True) for k in key[rows_a]]
        ok[rows_b] = [ok_b[k] and ok_a.get(k, True) for k in key[rows_b]]
    return ok


#: Metrics that are a ratio of two counts of families: published as the ratio of the
#: published counts (``publish_share``), so that rate x size gives back no unrounded count.
COUNT_RATIOS = frozenset(
    {
        "selection_rate",
        "true_positive_rate",
        "false_negative_rate",
        "false_positive_rate",
        "precision",
        "observed_rate",
    }
)


def _published_estimates(by_group: pd.DataFrame, rules: DisclosureRules) -> np.ndarray:
    """Each row's point estimate as it may be published: a ratio of counts from the
    published counts; the calibration ratio with the published count of escalations."""
    counts = _counts(by_group)
    est = by_group["estimate"].to_numpy(dtype=float).copy()
    for metric, idx in by_group.groupby("metric", sort=False).indices.items():
        rows = by_group.iloc[idx]
        key = pd.MultiIndex.from_arrays([rows["characteristic"], rows["group"]])
        num, den = (
            np.round(v.reindex(key).to_numpy(dtype=float))
            for v in _numerator_denominator(counts, str(metric))
        )
        if metric in COUNT_RATIOS:
            est[idx] = publish_share(num, den, rules)
        elif metric == "mean_predicted":
            # the group's expected count, rounded as a count is, over its published size:
            # with exact figures, calibration ratio x mean prediction gave its exact size
            expected = est[idx] * den
            with np.errstate(invalid="ignore", divide="ignore"):
                est[idx] = np.where(
                    rules.round(den) > 0, rules.round(expected) / rules.round(den), np.nan
                )
        elif metric == "calibration_ratio":
            # observed / expected, both as published (expected rounded as a count is)
            published = rules.round(num)
            with np.errstate(invalid="ignore", divide="ignore"):
                expected = np.where(est[idx] > 0, num / est[idx], np.nan)
                rounded = rules.round(expected)
                ratio = np.where(rounded > 0, published / rounded, np.nan)
                est[idx] = np.where(num > 0, ratio, est[idx])
    return est


def publish_by_group(by_group: pd.DataFrame, rules: DisclosureRules | None = None) -> pd.DataFrame:
    """``by_group`` as it may be published: every figure that could give back a small
    count withheld (with a ``published`` column saying so), and every rate a ratio of the
    published counts."""
    rules = rules or DisclosureRules()
    out = by_group.copy()
    ok = publishable_rows(by_group, rules.min_cell) & ~out["too_small"].to_numpy(dtype=bool)
    out["estimate"] = _published_estimates(by_group, rules)
    for col in ("estimate", "lower", "upper"):
        out[col] = np.where(ok, out[col].to_numpy(dtype=float), np.nan)
    out["published"] = np.where(ok, "published", TOO_SMALL_TO_PUBLISH)
    return out


def publish_findings(
    findings: pd.DataFrame, by_group: pd.DataFrame, rules: DisclosureRules | None = None
) -> pd.DataFrame:
    """Findings (a group against its reference) published only where both groups' figures
    for that metric are; otherwise the finding reads "too small to publish". A published
    finding's value is the ratio (or difference) of the two groups' published figures;
    its interval is the audit's bootstrap interval."""
    rules = rules or DisclosureRules()
    ok_rows = publishable_rows(by_group, rules.min_cell) & ~by_group["too_small"].to_numpy(bool)
    ok = pd.Series(
        ok_rows, index=pd.MultiIndex.from_frame(by_group[["characteristic", "group", "metric"]])
    )
    ok = ok[~ok.index.duplicated()]

    def lookup(group_col: str) -> np.ndarray:
        key = pd.MultiIndex.from_arrays(
            [findings["characteristic"], findings[group_col], findings["metric"]]
        )
        return ok.reindex(key).fillna(False).to_numpy(dtype=bool)

    both = lookup("group") & lookup("reference")
    out = findings.copy()
    est = pd.Series(
        _published_estimates(by_group, rules),
        index=pd.MultiIndex.from_frame(by_group[["characteristic", "group", "metric"]]),
    )
    est = est[~est.index.duplicated()]
    g, r = (
        est.reindex(
            pd.MultiIndex.from_arrays(
                [findings["characteristic"], findings[col], findings["metric"]]
            )
        ).to_numpy(dtype=float)
        for col in ("group", "reference")
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        out["value"] = np.where(
            findings["kind"].to_numpy() == "ratio", np.where(r != 0, g / r, np.nan), g - r
        )
    for col in ("value", "lower", "upper", "p_adjusted", "detectable_low", "detectable_high"):
        if col in out.columns:
            out[col] = np.where(both, out[col].to_numpy(dtype=float), np.nan)
    kept = both | (out["finding"] == "too small to assess").to_numpy()
    out["finding"] = np.where(kept, out["finding"], TOO_SMALL_TO_PUBLISH)
    return out

"""The audit's engine: per-group statistics from cells, and their bootstrap replicates.

Families are grouped into cells (group x outcome x selected x score bin) holding counts
and sums; every metric per group is a ratio of cell sums, so a Poisson bootstrap
reweights cells, not families, and scales to millions of families. The selection at
capacity is made again in each replicate (:func:`_reselected`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._audit_metrics import AUDIT_METRICS

__all__ = ["AUDIT_METRICS", "Tolerances", "group_cells", "replicates"]

_RATIO_METRICS = ("selection_rate", "calibration_ratio")


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


def group_cells(
    codes: np.ndarray, y: np.ndarray, selected: np.ndarray, bins: np.ndarray, p: np.ndarray
) -> pd.DataFrame:
    """Cells (group x outcome x selected x score bin) with their family count, sum of
    predictions and sum of squared errors; families with a missing group (code -1) are
    left out."""
    keep = codes >= 0
    df = pd.DataFrame(
        {
            "group": codes[keep],
            "y": y[keep],
            "selected": selected[keep],
            "bin": bins[keep],
            "p": p[keep],
            "sq": (p[keep] - y[keep]) ** 2,
        }
    )
    return (
        df.groupby(["group", "y", "selected", "bin"], sort=True)
        .agg(count=("p", "size"), sum_p=("p", "sum"), sum_sq=("sq", "sum"))
        .reset_index()
    )


def replicates(
    cells: pd.DataFrame,
    n_groups: int,
    n_bins: int,
    capacity: float,
    n_bootstrap: int,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Every metric per group in each Poisson-bootstrap replicate, (B, G) arrays; the
    selection at capacity made again in each (in chunks of 200 replicates)."""
    count = cells["count"].to_numpy(dtype=float)
    reps: dict[str, list[np.ndarray]] = {m: [] for m in AUDIT_METRICS}
    done = 0
    while done < n_bootstrap:
        b = min(200, n_bootstrap - done)
        w = rng.poisson(np.broadcast_to(count, (b, count.size))) / count
        stats = _group_stats(w, cells, n_groups, n_bins, capacity)
        for m in AUDIT_METRICS:
            reps[m].append(stats[m])
        done += b
    return {m: np.concatenate(v) for m, v in reps.items()}


def exact_auc(codes: np.ndarray, n_groups: int, y: np.ndarray, score: np.ndarray) -> list[float]:
    """Each group's ROC AUC from its families' own scores (NaN without both outcomes)."""
    from sklearn.metrics import roc_auc_score

    out = []
    for gi in range(n_groups):
        sel = codes == gi
        yg = y[sel]
        out.append(float(roc_auc_score(yg, score[sel])) if 0 < yg.sum() < len(yg) else float("nan"))
    return out


def _quantiles(values: np.ndarray, alpha: float, shift: float) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size < 10:
        return float("nan"), float("nan")
    lo, hi = np.quantile(finite, [alpha, 1 - alpha])
    return float(lo + shift), float(hi + shift)


def _standard_error(replicates: np.ndarray, kind: str) -> float:
    """The bootstrap standard error of a difference, or of a ratio's logarithm."""
    r = replicates[np.isfinite(replicates)]
    if kind == "ratio":
        r = np.log(r[r > 0])
    return float(np.std(r, ddof=1)) if r.size >= 10 else float("nan")

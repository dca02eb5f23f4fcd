"""Bootstrap confidence intervals that scale to millions of families.

The Poisson bootstrap gives every family an independent Poisson(1) weight per replicate.
A sum of ``n`` Poisson(1) weights is Poisson(``n``), so for families that share a score
(one "bin") the replicate only needs one Poisson draw per bin and outcome, not one per
family. Every metric here is a function of per-bin sums (counts, sums of ``p``, of
``log p``, of squared errors, of ``logit p``), so one sort and ``O(bins)`` work per
replicate replace ``O(families)``.

* Where scores take few distinct values (the rules), bins are the distinct values and the
  bootstrap is the exact Poisson bootstrap.
* Where scores are continuous (the models), bins are quantiles of the score (a few
  thousand), and families within a bin are treated as exchangeable. Replicates then vary
  slightly less than a row-level bootstrap would within a bin; the tests compare the
  intervals with a row-level bootstrap on small data.
* Point estimates are always exact (``_metrics.point_estimates``); an interval is the
  percentile interval of the replicates, shifted by the difference between the exact and
  the binned estimate, so binning never moves the centre.

Paired differences between two models resample the same families for both: cells are the
combinations of the two models' bins, so each replicate's weights apply jointly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import logit

from .._selection import resolve_capacity
from ._metrics import _EPS, METRICS, NO_INTERVAL, _newton_logistic

__all__ = ["bootstrap_metrics", "bootstrap_differences"]

_SUMS = ("p1", "p0", "ll1", "ll0", "br1", "br0", "lg1", "lg0")


def _bin_scores(score: np.ndarray, n_bins: int) -> tuple[np.ndarray, int]:
    """Bin index of each row, ascending in score; ties always share a bin."""
    uniq = np.unique(score)
    if uniq.size <= n_bins:
        return np.searchsorted(uniq, score), int(uniq.size)
    edges = np.unique(np.quantile(score, np.linspace(0.0, 1.0, n_bins + 1)[1:-1]))
    return np.searchsorted(edges, score, side="right"), int(edges.size + 1)


@dataclass(eq=False)
class _Model:
    """Per-cell sums of one model and the map from cells to its score bins."""

    sums: dict[str, np.ndarray]  # each (C,)
    to_bin: sp.csr_matrix | None  # (C, M); None when cells are the bins
    n_bins: int


def _cell_sums(cell: np.ndarray, n_cells: int, y: np.ndarray, p: np.ndarray) -> dict:
    p = np.clip(p, _EPS, 1 - _EPS)
    lg = logit(p)
    pos = y == 1
    neg = ~pos

    def s(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.bincount(cell[mask], weights=values[mask], minlength=n_cells)

    return {
        "p1": s(p, pos),
        "p0": s(p, neg),
        "ll1": s(-np.log(p), pos),
        "ll0": s(-np.log1p(-p), neg),
        "br1": s((1 - p) ** 2, pos),
        "br0": s(p**2, neg),
        "lg1": s(lg, pos),
        "lg0": s(lg, neg),
    }


# a replicate of a small test set may draw no escalations: its ratios are NaN or infinite
# and are dropped from the intervals (see _interval), so numpy need not warn about them
@np.errstate(invalid="ignore", divide="ignore")
def _metrics_from_bins(
    w1: np.ndarray,
    w0: np.ndarray,
    agg: dict[str, np.ndarray],
    x: np.ndarray,
    ece_groups: np.ndarray,
    k_share: float | None,
    k_count: float,
    calibration: bool = True,
) -> dict[str, np.ndarray]:
    """Every metric from per-bin weighted sums; arrays are (B, M), bins ascending. With
    ``calibration=False`` the calibration intercept and slope (the costly logistic fits)
    are left as NaN."""
    tot1 = w1.sum(-1)
    tot0 = w0.sum(-1)
    n = tot1 + tot0
    below0 = np.cumsum(w0, axis=-1) - w0
    auc = (w1 * (below0 + 0.5 * w0)).sum(-1) / (tot1 * tot0)
    d1 = w1[..., ::-1]
    dall = (w1 + w0)[..., ::-1]
    cum1 = np.cumsum(d1, axis=-1)
    cumall = np.cumsum(dall, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = np.where(cumall > 0, cum1 / cumall, 0.0)
    ap = (d1 * prec).sum(-1) / tot1
    brier = (agg["br1"].sum(-1) + agg["br0"].sum(-1)) / n
    ll = (agg["ll1"].sum(-1) + agg["ll0"].sum(-1)) / n
    if calibration:
        intercept = _newton_logistic(x, w1, w0, slope=False)[..., 0]
        slope = _newton_logistic(x, w1, w0, slope=True)[..., 1]
    else:
        intercept = slope = np.full(n.shape, np.nan)
    psum = agg["p1"] + agg["p0"]
    n_groups = int(ece_groups.max()) + 1
    ece = np.zeros(n.shape)
    for g in range(n_groups):
        sel = ece_groups == g
        ece += np.abs(w1[..., sel].sum(-1) - psum[..., sel].sum(-1)) / n
    # capacity: take bins from the top until k places are filled; share the boundary bin
    kk = np.broadcast_to(k_share * n if k_share is not None else k_count, n.shape)
    full = cumall <= kk[..., None]
    taken = (dall * full).sum(-1)
    reached = (d1 * full).sum(-1)
    nxt = full.sum(-1)
    idx = np.minimum(nxt, dall.shape[-1] - 1)
    bnd_all = np.take_along_axis(dall, idx[..., None], -1)[..., 0]
    bnd_pos = np.take_along_axis(d1, idx[..., None], -1)[..., 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where((nxt < dall.shape[-1]) & (bnd_all > 0), (kk - taken) / bnd_all, 0.0)
    reached = reached + np.clip(frac, 0.0, 1.0) * bnd_pos
    precision = reached / kk
    return {
        "roc_auc": auc,
        "average_precision": ap,
        "brier": brier,
        "log_loss": ll,
        "calibration_intercept": intercept,
        "calibration_slope": slope,
        "ece": ece,
        "precision_at_capacity": precision,
        "recall_at_capacity": reached / tot1,
        "lift_at_capacity": precision / (tot1 / n),
    }


class _Engine:
    """Cells shared by one or more models, with their Poisson-bootstrap replicates."""

    def __init__(
        self,
        y: np.ndarray,
        probas: list[np.ndarray],
        scores: list[np.ndarray],
        n_bins: int,
        capacity: float | int,
        calibration: bool = True,
    ):
        y = np.asarray(y).astype(int)
        self.calibration = calibration
        self.k_count = resolve_capacity(capacity, len(y))
        self.k_share = float(capacity) if capacity < 1 else None
        binned = [_bin_scores(np.asarray(s, dtype=float), n_bins) for s in scores]
        if len(binned) == 1:
            cell, n_cells = binned[0]
        else:
            key = np.zeros(len(y), dtype=np.int64)
            for b, m in binned:
                key = key * m + b
            _, cell = np.unique(key, return_inverse=True)
            n_cells = int(cell.max()) + 1
        self.n1 = np.bincount(cell[y == 1], minlength=n_cells).astype(float)
        self.n0 = np.bincount(cell[y == 0], minlength=n_cells).astype(float)
        self.models: list[_Model] = []
        for (b, m), p in zip(binned, probas, strict=True):
            sums = _cell_sums(cell, n_cells, y, np.asarray(p, dtype=float))
            if len(binned) == 1:
                to_bin = None
            else:
                cell_bin = np.zeros(n_cells, dtype=np.int64)
                cell_bin[cell] = b
                to_bin = sp.csr_matrix(
                    (np.ones(n_cells), (np.arange(n_cells), cell_bin)), shape=(n_cells, m)
                )
            self.models.append(_Model(sums=sums, to_bin=to_bin, n_bins=m))

    def _per_bin(self, model: _Model, cells: np.ndarray) -> np.ndarray:
        if model.to_bin is None:
            return cells
        return np.asarray((model.to_bin.T @ cells.T).T)

    def _static(self, model: _Model) -> tuple[np.ndarray, np.ndarray]:
        n1 = self._per_bin(model, self.n1[None, :])[0]
        n0 = self._per_bin(model, self.n0[None, :])[0]
        lg = self._per_bin(model, (model.sums["lg1"] + model.sums["lg0"])[None, :])[0]
        count = n1 + n0
        x = np.where(count > 0, lg / np.maximum(count, 1), 0.0)
        cum = np.cumsum(count) / count.sum()
        ece_groups = np.minimum((cum * 10 - 1e-9).astype(int), 9)
        ece_groups = np.maximum.accumulate(np.clip(ece_groups, 0, 9))
        return x, ece_groups

    def replicate_metrics(
        self, ratios1: np.ndarray, ratios0: np.ndarray
    ) -> list[dict[str, np.ndarray]]:
        """Metrics for each model under cell weights ``ratios`` (B, C)."""
        out = []
        w1c = ratios1 * self.n1
        w0c = ratios0 * self.n0
        for model in self.models:
            x, groups = self._static(model)
            w1 = self._per_bin(model, w1c)
            w0 = self._per_bin(model, w0c)
            agg = {}
            for name in _SUMS:
                r = ratios1 if name.endswith("1") else ratios0
                agg[name] = self._per_bin(model, r * model.sums[name])
            out.append(
                _metrics_from_bins(
                    w1, w0, agg, x, groups, self.k_share, self.k_count, self.calibration
                )
            )
        return out

    def run(
        self, n_bootstrap: int, rng: np.random.Generator, batch: int = 100
    ) -> tuple[list[dict[str, float]], list[dict[str, np.ndarray]]]:
        ones = np.ones((1, self.n1.size))
        binned_point = [
            {k: float(v[0]) for k, v in m.items()} for m in self.replicate_metrics(ones, ones)
        ]
        reps: list[dict[str, list[np.ndarray]]] = [{k: [] for k in METRICS} for _ in self.models]
        done = 0
        safe1 = np.where(self.n1 > 0, self.n1, 1.0)
        safe0 = np.where(self.n0 > 0, self.n0, 1.0)
        while done < n_bootstrap:
            b = min(batch, n_bootstrap - done)
            r1 = rng.poisson(np.broadcast_to(self.n1, (b, self.n1.size))) / safe1
            r0 = rng.poisson(np.broadcast_to(self.n0, (b, self.n0.size))) / safe0
            for store, metrics in zip(reps, self.replicate_metrics(r1, r0), strict=True):
                for k, v in metrics.items():
                    store[k].append(v)
            done += b
        return binned_point, [{k: np.concatenate(v) for k, v in s.items()} for s in reps]


def _interval(
    estimate: float, binned: float, replicates: np.ndarray, confidence: float, metric: str = ""
) -> tuple[float, float]:
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0 or metric in NO_INTERVAL:
        return float("nan"), float("nan")
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(finite, [alpha, 1 - alpha])
    shift = estimate - binned
    return float(lo + shift), float(hi + shift)


def _needs_calibration(metrics: dict[str, float]) -> bool:
    return "calibration_intercept" in metrics or "calibration_slope" in metrics


def bootstrap_metrics(
    y: np.ndarray,
    proba: np.ndarray,
    score: np.ndarray,
    estimates: dict[str, float],
    *,
    capacity: float | int,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    n_bins: int = 4000,
    random_state: int | None = 0,
) -> dict[str, tuple[float, float]]:
    """Percentile intervals of the metrics in ``estimates`` for one model (see the module
    docstring)."""
    engine = _Engine(y, [proba], [score], n_bins, capacity, _needs_calibration(estimates))
    binned, reps = engine.run(n_bootstrap, np.random.default_rng(random_state))
    return {k: _interval(estimates[k], binned[0][k], reps[0][k], confidence, k) for k in estimates}


def bootstrap_differences(
    y: np.ndarray,
    model: tuple[np.ndarray, np.ndarray],
    reference: tuple[np.ndarray, np.ndarray],
    differences: dict[str, float],
    *,
    capacity: float | int,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    n_bins: int = 256,
    random_state: int | None = 0,
) -> dict[str, tuple[float, float]]:
    """Paired intervals of ``model - reference`` for the metrics in ``differences``.

    ``model`` and ``reference`` are ``(proba, score)`` pairs on the same families.
    """
    engine = _Engine(
        y,
        [model[0], reference[0]],
        [model[1], reference[1]],
        n_bins,
        capacity,
        _needs_calibration(differences),
    )
    binned, reps = engine.run(n_bootstrap, np.random.default_rng(random_state))
    out = {}
    for k, diff in differences.items():
        out[k] = _interval(
            diff, binned[0][k] - binned[1][k], reps[0][k] - reps[1][k], confidence, k
        )
    return out

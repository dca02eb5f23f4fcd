"""Point estimates of every metric, exact on the full data.

Ranking metrics use the ranking score (the raw score of a rule, the probability of a
model); probability metrics use the probability. Capacity metrics take the top ``k``
families, sharing the places at a tied boundary score equally (the expectation under
random tie-breaking), which is what a rule with many tied scores really delivers.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from .._selection import resolve_capacity

__all__ = [
    "METRICS",
    "calibration_intercept",
    "calibration_slope",
    "capacity_curve",
    "capacity_metrics",
    "expected_calibration_error",
    "point_estimates",
]

_EPS = 1e-6

#: Metric names in report order, with plain-English descriptions.
METRICS: dict[str, str] = {
    "roc_auc": "ROC AUC: chance a random escalating family ranks above a random other",
    "average_precision": "Average precision (area under the precision-recall curve)",
    "brier": "Brier score (mean squared error of the probability; lower is better)",
    "log_loss": "Log loss (lower is better)",
    "calibration_intercept": "Calibration in the large (0 = right on average)",
    "calibration_slope": "Calibration slope (1 = spread right; <1 = too extreme)",
    "ece": "Expected calibration error over 10 equal-sized groups (lower is better)",
    "precision_at_capacity": "Share of targeted families who go on to escalate",
    "recall_at_capacity": "Share of all future escalations reached at the capacity",
    "lift_at_capacity": "Precision at the capacity divided by the overall rate",
}


#: Metrics published without an interval, and why (the card says so beside them).
NO_INTERVAL: dict[str, str] = {
    "ece": (
        "the expected calibration error has no interval: over 10 groups it is biased "
        "upward by each group's sampling noise, so a bootstrap interval around it does "
        "not cover its true value (it covered 0-71% in simulation); read it as a "
        "description, and the calibration intercept and slope, which have valid "
        "intervals, as the evidence"
    ),
}


def _newton_logistic(
    x: np.ndarray, w1: np.ndarray, w0: np.ndarray, *, slope: bool, n_iter: int = 25
) -> np.ndarray:
    """Weighted logistic fit of y on x (counts ``w1`` of y=1 and ``w0`` of y=0 per row).

    With ``slope=False``, x is an offset and only the intercept is fitted. Works on the last
    axis, so a leading axis of bootstrap replicates is solved at once. Returns
    ``(intercept, slope)`` stacked on a new last axis.
    """
    shape = np.broadcast_shapes(x.shape, w1.shape, w0.shape)[:-1]
    a = np.zeros(shape)
    b = np.ones(shape)
    n = w1 + w0
    for _ in range(n_iter):
        a_old, b_old = a, b
        eta = a[..., None] + b[..., None] * x
        mu = expit(eta)
        r = w1 - n * mu  # score contributions
        v = n * mu * (1 - mu)
        ga = r.sum(-1)
        haa = v.sum(-1) + 1e-12
        if slope:
            gb = (r * x).sum(-1)
            hab = (v * x).sum(-1)
            hbb = (v * x * x).sum(-1) + 1e-12
            det = haa * hbb - hab * hab
            da = (hbb * ga - hab * gb) / det
            db = (haa * gb - hab * ga) / det
            a = a + da
            b = b + db
        else:
            a = a + ga / haa
        step = max(
            float(np.max(np.abs(a - a_old), initial=0.0)),
            float(np.max(np.abs(b - b_old), initial=0.0)),
        )
        if not np.isfinite(step) or step < 1e-10:  # far below any reported digit
            break
    return np.stack([a, b], axis=-1)


def calibration_intercept(y: np.ndarray, p: np.ndarray) -> float:
    """Intercept of ``logit P(y) = a + logit(p)``: 0 when the model is right on average."""
    x = logit(np.clip(p, _EPS, 1 - _EPS))
    y = np.asarray(y, dtype=float)
    return float(_newton_logistic(x, y, 1 - y, slope=False)[0])


def calibration_slope(y: np.ndarray, p: np.ndarray) -> float:
    """Slope of ``logit P(y) = a + b logit(p)``: 1 when the spread of risk is right."""
    x = logit(np.clip(p, _EPS, 1 - _EPS))
    y = np.asarray(y, dtype=float)
    return float(_newton_logistic(x, y, 1 - y, slope=True)[1])


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_groups: int = 10) -> float:
    """Mean absolute gap between observed and predicted rates over equal-sized groups."""
    order = np.argsort(p, kind="stable")
    groups = np.array_split(order, n_groups)
    n = len(p)
    return float(sum(len(g) / n * abs(y[g].mean() - p[g].mean()) for g in groups if len(g)))


def capacity_metrics(y: np.ndarray, score: np.ndarray, capacity: float | int) -> dict[str, float]:
    """Precision, recall and lift when a service takes the ``capacity`` highest scores.

    Ties at the boundary share the remaining places equally.
    """
    y = np.asarray(y, dtype=float)
    k = resolve_capacity(capacity, len(y))
    uniq, inv = np.unique(score, return_inverse=True)
    pos = np.bincount(inv, weights=y, minlength=uniq.size)[::-1]
    tot = np.bincount(inv, minlength=uniq.size).astype(float)[::-1]
    cum_tot = np.cumsum(tot)
    full = cum_tot <= k
    reached = pos[full].sum()
    taken = tot[full].sum()
    nxt = int(full.sum())
    if nxt < len(tot) and taken < k:
        frac = (k - taken) / tot[nxt]
        reached += frac * pos[nxt]
    precision = reached / k
    recall = reached / y.sum() if y.sum() > 0 else float("nan")
    return {
        "precision_at_capacity": float(precision),
        "recall_at_capacity": float(recall),
        "lift_at_capacity": float(precision / y.mean()) if y.mean() > 0 else float("nan"),
    }


def point_estimates(
    y: np.ndarray, proba: np.ndarray, score: np.ndarray, capacity: float | int
) -> dict[str, float]:
    """Every metric of :data:`METRICS`, exact, with sklearn where sklearn has it."""
    y = np.asarray(y).astype(int)
    p = np.clip(np.asarray(proba, dtype=float), _EPS, 1 - _EPS)
    out = {
        "roc_auc": float(roc_auc_score(y, score)),
        "average_precision": float(average_precision_score(y, score)),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "calibration_intercept": calibration_intercept(y, p),
        "calibration_slope": calibration_slope(y, p),
        "ece": expected_calibration_error(y, p),
    }
    out.update(capacity_metrics(y, score, capacity))
    return out


def capacity_curve(y: np.ndarray, score: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Share of all escalations reached when taking the top ``share`` of families, for
    each share; tied scores share places equally (one sort for the whole curve)."""
    y = np.asarray(y, dtype=float)
    uniq, inv = np.unique(score, return_inverse=True)
    pos = np.bincount(inv, weights=y, minlength=uniq.size)[::-1]
    tot = np.bincount(inv, minlength=uniq.size).astype(float)[::-1]
    cum_tot = np.concatenate([[0.0], np.cumsum(tot)])
    cum_pos = np.concatenate([[0.0], np.cumsum(pos)])
    # reached positives are piecewise linear in the number of places taken
    reached = np.interp(np.asarray(shares) * len(y), cum_tot, cum_pos)
    return reached / y.sum()

"""Evaluation plots (matplotlib, imported lazily); each returns its figure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.stats import norm

from ._metrics import capacity_curve

_STYLE = {
    "oracle": {"color": "black", "linestyle": "--"},
    "five_plus_rule": {"color": "tab:orange"},
    "area_rule": {"color": "tab:brown"},
    "logistic": {"color": "tab:blue"},
    "lightgbm": {"color": "tab:green"},
}

Predictions = Mapping[str, tuple[np.ndarray, np.ndarray]]


def _axes(ax: Any) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4.5))
        return fig, ax
    return ax.figure, ax


def _label(name: str) -> str:
    return {
        "five_plus_rule": "5+ indicators rule",
        "area_rule": "most deprived areas first",
        "oracle": "oracle (true probability)",
    }.get(name, name)


#: Vertices drawn of a curve at most: beyond them every k-th is drawn (and the last). At
#: 110 dpi a curve is a few hundred pixels wide; this keeps every pixel of it while a
#: test year of 1,600,000 families would give as many vertices.
_MOST_VERTICES = 200_000


def _drawn(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The curve's vertices as drawn: all of them up to :data:`_MOST_VERTICES`.

    >>> [v.tolist() for v in _drawn(np.arange(5.0), np.arange(5.0))]
    [[0.0, 1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 2.0, 3.0, 4.0]]
    """
    if len(x) <= _MOST_VERTICES:
        return x, y
    keep = np.unique(np.r_[np.arange(0, len(x), -(-len(x) // _MOST_VERTICES)), len(x) - 1])
    return x[keep], y[keep]


def plot_roc(y: np.ndarray, predictions: Predictions, ax: Any = None) -> Any:
    from sklearn.metrics import auc, roc_curve

    fig, ax = _axes(ax)
    for name, (_, score) in predictions.items():
        fpr, tpr, _ = roc_curve(y, score)
        area = auc(fpr, tpr)  # what roc_auc_score computes, from the same curve
        ax.plot(*_drawn(fpr, tpr), label=f"{_label(name)} ({area:.3f})", **_STYLE.get(name, {}))
    ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8)
    ax.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC curves")
    ax.legend(fontsize=8)
    return fig


def plot_precision_recall(y: np.ndarray, predictions: Predictions, ax: Any = None) -> Any:
    from sklearn.metrics import precision_recall_curve

    fig, ax = _axes(ax)
    for name, (_, score) in predictions.items():
        prec, rec, _ = precision_recall_curve(y, score)
        # average precision as sklearn defines it (sum of precision x recall steps), from
        # the same curve: average_precision_score would sort the families again
        ap = -np.sum(np.diff(rec) * prec[:-1])
        ax.plot(*_drawn(rec, prec), label=f"{_label(name)} ({ap:.3f})", **_STYLE.get(name, {}))
    ax.axhline(np.mean(y), color="grey", linewidth=0.8)
    ax.set(xlabel="Recall", ylabel="Precision", title="Precision-recall curves")
    ax.legend(fontsize=8)
    return fig


#: The top group of risk split further (shares of all families, highest last), so that
#: the calibration plot reaches the highest-risk families instead of averaging them in.
_TOP_SPLIT = (0.05, 0.02, 0.02, 0.01)


def calibration_groups(proba: np.ndarray, n_groups: int = 10) -> list[np.ndarray]:
    """Families by predicted risk: ``n_groups`` equal groups, the highest of them split
    into its 5%, 2%, 2% and the top 1% of all families (where the smallest holds 10 or more).

    >>> sizes = [len(g) for g in calibration_groups(np.linspace(0, 1, 1000))]
    >>> sizes
    [100, 100, 100, 100, 100, 100, 100, 100, 100, 50, 20, 20, 10]
    """
    order = np.argsort(proba, kind="stable")
    groups = [g for g in np.array_split(order, n_groups) if len(g)]
    top = groups.pop()
    n = len(order)
    cuts = np.cumsum([round(share * n) for share in _TOP_SPLIT])
    if len(cuts) and cuts[-1] <= len(top) and min(round(s * n) for s in _TOP_SPLIT) >= 10:
        groups += [g for g in np.split(top, cuts[:-1]) if len(g)]
    else:
        groups.append(top)
    return groups


def plot_calibration(
    y: np.ndarray, predictions: Predictions, n_groups: int = 10, ax: Any = None
) -> Any:
    fig, ax = _axes(ax)
    z = norm.ppf(0.975)
    top = 0.0
    for name, (proba, _) in predictions.items():
        groups = calibration_groups(proba, n_groups)
        pred = np.array([proba[g].mean() for g in groups])
        n = np.array([len(g) for g in groups], dtype=float)
        obs = np.array([y[g].mean() for g in groups])
        # Wilson score interval for each group's observed rate
        centre = (obs + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(obs * (1 - obs) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
        ax.errorbar(
            pred,
            obs,
            yerr=[np.clip(obs - (centre - half), 0, None), np.clip(centre + half - obs, 0, None)],
            marker="o",
            markersize=3,
            capsize=2,
            label=_label(name),
            **_STYLE.get(name, {}),
        )
        top = max(top, float(pred.max()), float((centre + half).max()))
    ax.plot([1e-4, top], [1e-4, top], color="grey", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log", nonpositive="clip")
    ax.set(
        xlabel="Predicted probability (group mean, log scale)",
        ylabel="Observed escalation rate (95% interval)",
        title=f"Calibration in {n_groups} equal groups, the highest split into 1%, 2%, 2%, 5%",
    )
    ax.legend(fontsize=8)
    return fig


def plot_capacity(
    y: np.ndarray,
    predictions: Predictions,
    capacity: float | int = 0.05,
    max_share: float = 0.3,
    ax: Any = None,
) -> Any:
    fig, ax = _axes(ax)
    shares = np.linspace(0, max_share, 121)
    for name, (_, score) in predictions.items():
        ax.plot(
            shares * 100,
            capacity_curve(y, score, shares) * 100,
            label=_label(name),
            **_STYLE.get(name, {}),
        )
    cap_share = capacity if capacity < 1 else capacity / len(y)
    ax.axvline(cap_share * 100, color="grey", linestyle=":", linewidth=1)
    ax.set(
        xlabel="Capacity of the early-help service (% of families)",
        ylabel="Future escalations reached (%)",
        title="Escalations reached for a given capacity",
    )
    ax.legend(fontsize=8)
    return fig

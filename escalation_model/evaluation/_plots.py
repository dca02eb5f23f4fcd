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


def plot_roc(y: np.ndarray, predictions: Predictions, ax: Any = None) -> Any:
    from sklearn.metrics import roc_auc_score, roc_curve

    fig, ax = _axes(ax)
    for name, (_, score) in predictions.items():
        fpr, tpr, _ = roc_curve(y, score)
        auc = roc_auc_score(y, score)
        ax.plot(fpr, tpr, label=f"{_label(name)} ({auc:.3f})", **_STYLE.get(name, {}))
    ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8)
    ax.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC curves")
    ax.legend(fontsize=8)
    return fig


def plot_precision_recall(y: np.ndarray, predictions: Predictions, ax: Any = None) -> Any:
    from sklearn.metrics import average_precision_score, precision_recall_curve

    fig, ax = _axes(ax)
    for name, (_, score) in predictions.items():
        prec, rec, _ = precision_recall_curve(y, score)
        ap = average_precision_score(y, score)
        ax.plot(rec, prec, label=f"{_label(name)} ({ap:.3f})", **_STYLE.get(name, {}))
    ax.axhline(np.mean(y), color="grey", linewidth=0.8)
    ax.set(xlabel="Recall", ylabel="Precision", title="Precision-recall curves")
    ax.legend(fontsize=8)
    return fig


def plot_calibration(
    y: np.ndarray, predictions: Predictions, n_groups: int = 10, ax: Any = None
) -> Any:
    fig, ax = _axes(ax)
    z = norm.ppf(0.975)
    top = 0.0
    for name, (proba, _) in predictions.items():
        order = np.argsort(proba, kind="stable")
        groups = [g for g in np.array_split(order, n_groups) if len(g)]
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
        title=f"Calibration in {n_groups} equal-sized groups",
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

"""The figures a run publishes, and writing them (matplotlib, imported lazily)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

__all__ = ["save_figures", "study_figures"]


def study_figures(result: Any) -> dict[str, Callable[[], Any]]:
    """Every published figure of a study, by file name, as a function that draws it (so
    that only one figure is open at a time). Aggregates only: the per-family beeswarm is
    left to the analyst's notebook. The plotting backend is left as it is (a notebook's
    stays a notebook's)."""
    from ..population import plot_capacity_curve, plot_funnel, plot_strategies

    figures: dict[str, Callable[[], Any]] = {}
    comparison = result.comparison
    if comparison is not None:
        for name in ("roc", "precision_recall", "calibration", "capacity"):
            figures[f"{name}.png"] = getattr(comparison, f"plot_{name}")
    audit = result.fairness
    if audit is not None:
        for metric in ("calibration_ratio", "true_positive_rate"):
            figures[f"fairness_{metric}.png"] = partial(audit.plot, metric)
    tables = result.population
    if "capacity_curve.csv" in tables:
        figures["capacity_curve.png"] = partial(plot_capacity_curve, tables["capacity_curve.csv"])
    if "strategies.csv" in tables:
        figures["strategies.png"] = partial(plot_strategies, tables["strategies.csv"])
    roles = result.roles
    for area in roles.area if roles is not None else ():
        table = tables.get(f"population_by_{area}.csv")
        if table is not None and "ratio" in table.columns:
            figures[f"funnel_{area}.png"] = partial(plot_funnel, table, label=roles.label(area))
    explanation = result.explanation
    if explanation is not None:
        figures["explain_importance.png"] = explanation.plot_importance
        figures["explain_dependence.png"] = explanation.plot_dependence
        if explanation.interactions is not None:
            figures["explain_interactions.png"] = explanation.plot_interactions
    return figures


def save_figures(figures: dict[str, Callable[[], Any]], folder: Path) -> list[Path]:
    """Draw each figure, save it as a PNG in ``folder`` and close it."""
    import matplotlib.pyplot as plt

    folder.mkdir(exist_ok=True)
    written = []
    for name, draw in figures.items():
        fig = draw()
        path = folder / name
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(path)
    return written

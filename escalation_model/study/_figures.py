"""The figures a run publishes, and writing them (matplotlib, imported lazily)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["save_figures", "study_figures"]


def study_figures(result: Any) -> dict[str, Any]:
    """Every published figure of a study, by file name. Aggregates only: the per-family
    beeswarm is left to the analyst's notebook."""
    import matplotlib

    matplotlib.use("Agg")
    from ..population import plot_funnel, plot_strategies

    figures: dict[str, Any] = {}
    if result.comparison is not None:
        for name in ("roc", "precision_recall", "calibration", "capacity"):
            figures[f"{name}.png"] = getattr(result.comparison, f"plot_{name}")()
    if result.fairness is not None:
        for metric in ("calibration_ratio", "true_positive_rate"):
            figures[f"fairness_{metric}.png"] = result.fairness.plot(metric)
    tables = result.population
    if "strategies.csv" in tables:
        figures["strategies.png"] = plot_strategies(tables["strategies.csv"])
    for name, table in tables.items():
        if name.startswith("population_by_") and "ratio" in table.columns:
            area = name.removeprefix("population_by_").removesuffix(".csv")
            if area.endswith("_code"):
                figures[f"funnel_{area}.png"] = plot_funnel(table, label=area.removesuffix("_code"))
    ex = result.explanation
    if ex is not None:
        figures["explain_importance.png"] = ex.plot_importance()
        figures["explain_dependence.png"] = ex.plot_dependence()
        if ex.interactions is not None:
            figures["explain_interactions.png"] = ex.plot_interactions()
    return figures


def save_figures(figures: dict[str, Any], folder: Path) -> list[Path]:
    """Save each figure as a PNG in ``folder`` and close it."""
    import matplotlib.pyplot as plt

    folder.mkdir(exist_ok=True)
    written = []
    for name, fig in figures.items():
        path = folder / name
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(path)
    return written

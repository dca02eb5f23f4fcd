"""The figures a run publishes, and writing them (matplotlib, imported lazily)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from ..reporting._format import in_prose

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
            figures[f"funnel_{area}.png"] = partial(
                plot_funnel,
                table,
                label=in_prose(area, {area: roles.label(area)}),
                names=roles.area_names,
            )
    figures |= briefing_figures(result)
    explanation = result.explanation
    if explanation is not None:
        figures["explain_importance.png"] = explanation.plot_importance
        figures["explain_dependence.png"] = explanation.plot_dependence
        if explanation.interactions is not None:
            figures["explain_interactions.png"] = explanation.plot_interactions
    return figures


#: The family groupings drawn on page one, with their short labels.
_GROUP_LABELS = {
    "n_think_family_band": "Indicators",
    "family_type": "Family",
    "deprivation_quintile": "Deprivation fifth",
}


def briefing_figures(result: Any) -> dict[str, Callable[[], Any]]:
    """Page one's three charts (how much, where, for whom), from the published tables."""
    from ..population import plot_areas_ranked, plot_groups, plot_place_blocks

    figures: dict[str, Callable[[], Any]] = {}
    tables, roles = result.population, result.roles
    forecasts = {
        name.removeprefix("demand_forecast_by_").removesuffix(".csv"): t
        for name, t in tables.items()
        if name.startswith("demand_forecast_by_")
    }
    any_forecast = next(iter(forecasts.values()), None)
    curve = tables.get("capacity_curve.csv")
    if curve is not None and any_forecast is not None:
        figures["briefing_how_much.png"] = partial(
            plot_place_blocks,
            curve,
            total_expected=float(any_forecast["expected"].sum()),
            total_families=float(any_forecast["families"].sum()),
        )
    areas = [a for a in (roles.area[::-1] if roles is not None else ()) if a in forecasts]
    if areas:
        figures["briefing_where.png"] = partial(
            plot_areas_ranked,
            forecasts[areas[0]],
            areas[0],
            label=in_prose(areas[0], {areas[0]: roles.label(areas[0])}),
            names=roles.area_names,
        )
    groups = [(label, forecasts[by], by) for by, label in _GROUP_LABELS.items() if by in forecasts]
    if groups:
        figures["briefing_for_whom.png"] = partial(plot_groups, groups)
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

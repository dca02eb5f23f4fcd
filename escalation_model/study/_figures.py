"""The figures a run publishes, and writing them (matplotlib, imported lazily)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from .._threads import capped
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
    if getattr(result, "rollout_estimate", None) is not None:
        from ..impact import plot_event_study

        figures["rollout_event_study.png"] = partial(plot_event_study, result.rollout_estimate)
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


def save_figures(
    figures: dict[str, Callable[[], Any]], folder: Path, *, workers: int | None = None
) -> list[Path]:
    """Draw each figure, save it as a PNG in ``folder`` and close it.

    With more than one core (at most ``OMP_NUM_THREADS``, see ``_threads``) the figures
    are drawn by forked worker processes, which inherit them in memory (nothing is
    pickled or written but the PNGs); the files are the same byte for byte. Where fork
    is not available (Windows, macOS) or a worker fails, they are drawn here.
    ``workers`` overrides the choice (1: here, one after another).
    """
    folder.mkdir(exist_ok=True)
    n = _workers(len(figures)) if workers is None else workers
    if n > 1 and _draw_forked(figures, folder, n):
        return [folder / name for name in figures]
    for name in figures:
        _save(figures, name, folder)
    return [folder / name for name in figures]


def _save(figures: dict[str, Callable[[], Any]], name: str, folder: Path) -> None:
    import matplotlib.pyplot as plt

    fig = figures[name]()
    fig.savefig(folder / name, dpi=110, bbox_inches="tight")
    plt.close(fig)


def _workers(n_figures: int) -> int:
    if sys.platform != "linux" or n_figures < 4:
        return 1
    return max(1, min(capped(len(os.sched_getaffinity(0))), _MAX_WORKERS, n_figures // 2))


#: Worker processes at most: drawing is a few seconds in all, and each fork costs a little.
_MAX_WORKERS = 4
#: The figures being drawn, read by the forked workers (set only while they run).
_PENDING: dict[str, Callable[[], Any]] = {}
#: Seconds to wait for all workers before drawing the rest here instead.
_TIMEOUT = 600.0


def _save_pending(name: str, folder: Path) -> None:
    _save(_PENDING, name, folder)


def _draw_forked(figures: dict[str, Callable[[], Any]], folder: Path, n: int) -> bool:
    """Draw the figures in ``n`` forked processes; False (nothing to trust) if any failed."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, wait

    _PENDING.clear()
    _PENDING.update(figures)
    try:
        with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [pool.submit(_save_pending, name, folder) for name in figures]
            done, late = wait(futures, timeout=_TIMEOUT)
            if late:
                for process in list(getattr(pool, "_processes", {}).values()):
                    process.terminate()
                return False
            return all(f.exception() is None for f in done)
    except OSError:
        return False
    finally:
        _PENDING.clear()

"""The event study of a staggered roll-out (matplotlib, imported lazily)."""

from __future__ import annotations

from typing import Any

__all__ = ["plot_event_study"]


def plot_event_study(est: Any, ax: Any = None, period_name: str = "quarters") -> Any:
    """The effect on the escalation rate by ``period_name`` since early help started
    (:func:`staggered_did`'s event study): points with their 95% intervals, the
    simultaneous band shaded, the reference period (-1) at 0. Before the start the points
    should sit on 0 (parallel trends); after it they show the effect."""
    import matplotlib.pyplot as plt

    es = est.event_study.sort_values("event_time")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 3.4))
    else:
        fig = ax.figure
    x = es["event_time"].to_numpy()
    ax.fill_between(x, 100 * es["band_lower"], 100 * es["band_upper"], color="tab:blue", alpha=0.12)
    before = x < 0
    for mask, colour, label in (
        (before, "dimgrey", "before the start (should be 0)"),
        (~before, "tab:blue", "after the start"),
    ):
        ax.errorbar(
            x[mask],
            100 * es["att"].to_numpy()[mask],
            yerr=100 * (es["att"] - es["lower"]).to_numpy()[mask],
            fmt="o",
            color=colour,
            markersize=3.5,
            capsize=2,
            label=label,
        )
    ax.plot([-1], [0], "o", color="black", markersize=3.5, label="reference period")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.axvline(-0.5, color="black", linestyle="--", linewidth=0.8)
    flat = "flat" if est.pre_trends_flat else "NOT flat"
    ax.set(
        xlabel=f"{period_name.capitalize()} since early help started in the area",
        ylabel="Escalations per 100 families,\nagainst areas not started",
        title=f"Roll-out of early help: event study (pre-start trend {flat}, "
        f"p = {est.pre_trend_p:.2f})",
    )
    ax.title.set_fontsize(10)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig

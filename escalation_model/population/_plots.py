"""Population plots: the funnel plot of areas and the strategy comparison."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._aggregate import funnel_limits
from ._disclosure import publish_count


def _places(k: Any) -> str:
    """The places as every table publishes them (rounded; '?' when unknown)."""
    if k is None:
        return "?"
    n = publish_count(float(k))
    return "fewer than 10" if n is None else f"{n:,.0f}"


def plot_funnel(table: pd.DataFrame, *, label: str = "area", ax: Any = None) -> Any:
    """Observed/expected escalations by area against the expected count, with 95% and
    99.8% control limits (a Poisson count scaled to the table's ``dispersion``, see
    :func:`funnel_limits`). Areas outside the funnel differ from what the model expects
    for their families by more than chance would explain."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 4.5))
    else:
        fig = ax.figure
    t = table.dropna(subset=["expected", "ratio"])
    phi = float(table.attrs.get("dispersion", 1.0))
    e = np.linspace(max(t["expected"].min() * 0.8, 0.5), t["expected"].max() * 1.1, 200)
    for conf, style in ((0.95, "--"), (0.998, ":")):
        lo, hi = funnel_limits(e, conf, phi)
        ax.plot(e, lo, style, color="grey", linewidth=1, label=f"{conf:.1%} limits")
        ax.plot(e, hi, style, color="grey", linewidth=1)
    lo95, hi95 = funnel_limits(t["expected"].to_numpy(), 0.95, phi)
    outside = (t["ratio"] < lo95) | (t["ratio"] > hi95)
    ax.scatter(
        t["expected"][~outside],
        t["ratio"][~outside],
        s=12,
        color="tab:blue",
        label=f"{label}s within 95% limits",
    )
    ax.scatter(
        t["expected"][outside],
        t["ratio"][outside],
        s=16,
        color="tab:red",
        label=f"{label}s outside",
    )
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set(
        xlabel="Expected escalations",
        ylabel="Observed / expected",
        title=f"Funnel plot of {label}s",
    )
    ax.legend(fontsize=8)
    return fig


def plot_strategies(table: pd.DataFrame, ax: Any = None) -> Any:
    """Expected escalations reached by each strategy, with intervals."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 3.2))
    else:
        fig = ax.figure
    y = np.arange(len(table))[::-1]
    est = table["expected_reached"].to_numpy()
    lo = table["expected_lower"].to_numpy()
    hi = table["expected_upper"].to_numpy()
    ax.barh(y, est, color="tab:blue", alpha=0.7)
    ax.errorbar(est, y, xerr=[est - lo, hi - est], fmt="none", color="black", capsize=3)
    if "observed_reached" in table.columns:
        ax.scatter(table["observed_reached"], y, color="tab:red", zorder=3, label="observed")
        ax.legend(fontsize=8)
    ax.set_yticks(y, table["description"], fontsize=8)
    ax.set(
        xlabel=f"Escalations reached with {_places(table.attrs.get('capacity'))} places",
        title="Which targeting reaches most need",
    )
    fig.tight_layout()
    return fig


def plot_capacity_curve(table: pd.DataFrame, ax: Any = None) -> Any:
    """Expected escalations reached, and averted under the central assumed effect (the
    low and high assumptions shaded), against the places offered in the model's order;
    the recommended capacity marked, the configuration's assumed capacity drawn apart."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 3.6))
    else:
        fig = ax.figure
    x = table["places"].to_numpy()
    ax.plot(x, table["expected_reached"], color="tab:blue", label="escalations reached")
    ax.fill_between(
        x, table["expected_lower"], table["expected_upper"], color="tab:blue", alpha=0.15
    )
    effects = table.attrs.get("risk_reduction", {})
    if "averted_central" in table.columns:
        rrr = effects.get("central")
        ax.plot(
            x,
            table["averted_central"],
            color="tab:green",
            label=f"escalations averted (assumed {rrr:.0%} fewer)" if rrr else "averted",
        )
        if {"averted_low", "averted_high"} <= set(table.columns):
            ax.fill_between(
                x, table["averted_low"], table["averted_high"], color="tab:green", alpha=0.15
            )
    marks = (
        ("recommended_places", "recommended", "-", "black", -12),
        ("assumed_places", "assumed in the configuration", ":", "dimgrey", -24),
    )
    for key, label, style, colour, dy in marks:
        x_mark = table.attrs.get(key)
        if not x_mark:
            continue
        ax.axvline(x_mark, color=colour, linestyle=style, linewidth=1)
        ax.annotate(
            f"{label}: {x_mark:,.0f}",
            (x_mark, ax.get_ylim()[1]),
            xytext=(4, dy),
            textcoords="offset points",
            fontsize=8,
            color=colour,
        )
    ax.set(
        xlabel="Early-help places offered, in the model's order",
        ylabel="Expected escalations, next 12 months",
        title="How much early help: escalations reached and averted",
    )
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig

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


def funnel_flags(table: pd.DataFrame, confidence: float = 0.95) -> pd.Series:
    """Where each area lies against the funnel's limits, judged over every observed count
    its published (rounded) count could stand for: ``"above"`` or ``"below"`` only when
    the whole rounding band is outside the limits, ``"within"`` when it is inside, and
    ``"at the limit"`` when rounding decides; ``None`` where the ratio is suppressed.

    The flags are not taken from the unrounded count: a flag is published, and one
    computed from the exact count would tell on which side of a limit it lies, inside
    the rounding band the publication is meant to keep.

    >>> t = pd.DataFrame({"expected": [100.0, 100.0, 100.0, 5.0],
    ...                   "observed": [150.0, 100.0, 120.0, None]})
    >>> t.attrs.update(round_to=5, dispersion=1.0)
    >>> funnel_flags(t).tolist()
    ['above', 'within', 'at the limit', None]
    """
    half = float(table.attrs.get("round_to", 5)) / 2
    phi = float(table.attrs.get("dispersion", 1.0))
    e = table["expected"].to_numpy(dtype=float)
    obs = table["observed"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        lo, hi = funnel_limits(e, confidence, phi)
        low_ratio, high_ratio = (obs - half) / e, (obs + half) / e
    flags: list[str | None] = []
    for i in range(len(table)):
        if np.isnan(obs[i]) or not e[i] > 0:
            flags.append(None)
        elif low_ratio[i] > hi[i]:
            flags.append("above")
        elif high_ratio[i] < lo[i]:
            flags.append("below")
        elif lo[i] <= low_ratio[i] and high_ratio[i] <= hi[i]:
            flags.append("within")
        else:
            flags.append("at the limit")
    return pd.Series(flags, index=table.index, dtype=object)


_FLAG_STYLE = {
    "within": ("tab:blue", "within the 95% limits"),
    "at the limit": ("tab:orange", "at a limit (rounding decides)"),
    "above": ("tab:red", "above the 95% limits"),
    "below": ("tab:purple", "below the 95% limits"),
}


def plot_funnel(
    table: pd.DataFrame,
    *,
    label: str = "area",
    names: dict[str, str] | None = None,
    n_labelled: int = 5,
    ax: Any = None,
) -> Any:
    """Observed/expected escalations by area against the expected count, with 95% and
    99.8% control limits (a Poisson count scaled to the table's ``dispersion``, see
    :func:`funnel_limits`), on the areas whose ratio is published; the title counts the
    suppressed ones. Areas outside the funnel differ from what the model expects for
    their families by more than chance would explain (:func:`funnel_flags`); those and
    the ``n_labelled`` furthest from 1 are labelled, with the council's names."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 4.5))
    else:
        fig = ax.figure
    area = table.columns[0]
    t = table.assign(flag=funnel_flags(table)).dropna(subset=["expected", "ratio", "flag"])
    phi = float(table.attrs.get("dispersion", 1.0))
    if len(t):
        e = np.linspace(max(t["expected"].min() * 0.8, 0.5), t["expected"].max() * 1.1, 200)
        for conf, style in ((0.95, "--"), (0.998, ":")):
            lo, hi = funnel_limits(e, conf, phi)
            ax.plot(e, lo, style, color="grey", linewidth=1, label=f"{conf:.1%} limits")
            ax.plot(e, hi, style, color="grey", linewidth=1)
    for flag, (colour, text) in _FLAG_STYLE.items():
        mine = t[t.flag == flag]
        if len(mine):
            ax.scatter(mine["expected"], mine["ratio"], s=14, color=colour, label=text)
    far = (t["ratio"] - 1).abs().sort_values(ascending=False).index[:n_labelled]
    names = names or {}
    for i in t.index[(t.flag != "within") | t.index.isin(far)]:
        code = t.at[i, area]
        ax.annotate(
            f"{code} {names[str(code)]}" if str(code) in names else str(code),
            (t.at[i, "expected"], t.at[i, "ratio"]),
            xytext=(3, 3),
            textcoords="offset points",
            fontsize=7,
        )
    ax.axhline(1.0, color="black", linewidth=0.8)
    suppressed = len(table) - len(t)
    title = f"Observed over expected escalations, by {label}: {len(t)} of {len(table)} shown"
    if suppressed:
        title += f"\n({suppressed} not shown: counts too small to publish)"
    ax.set(xlabel="Expected escalations", ylabel="Observed / expected")
    ax.set_title(title, fontsize=9)
    if len(t):
        ax.legend(fontsize=7)
    else:
        ax.text(
            0.5, 0.5, f"no {label}'s count can be published", ha="center", transform=ax.transAxes
        )
    return fig


def funnel_counts(table: pd.DataFrame) -> dict[str, int]:
    """How many areas of a level the funnel plot shows, how many it cannot (their counts
    too small to publish), and how many lie above, below or at a 95% limit: numbers of
    areas, not of families.

    >>> t = pd.DataFrame({"expected": [100.0, 100.0, 5.0], "observed": [150.0, 100.0, None],
    ...                   "ratio": [1.5, 1.0, None]})
    >>> funnel_counts(t)
    {'areas': 3, 'shown': 2, 'not shown': 1, 'above': 1, 'below': 0, 'at the limit': 0}
    """
    flags = funnel_flags(table)
    shown = int(flags.notna().sum())
    counts = {"areas": len(table), "shown": shown, "not shown": len(table) - shown}
    return counts | {k: int((flags == k).sum()) for k in ("above", "below", "at the limit")}


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
    estimated = table.attrs.get("estimated_effect")
    if estimated and "averted_estimated" in table.columns:
        ax.plot(
            x,
            table["averted_estimated"],
            color="tab:purple",
            label=f"escalations averted (estimated {estimated['reduction']:.0%} fewer)",
        )
        ax.fill_between(
            x,
            table["averted_estimated_lower"],
            table["averted_estimated_upper"],
            color="tab:purple",
            alpha=0.12,
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

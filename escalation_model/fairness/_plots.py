"""Plots of group metrics with intervals (matplotlib, imported lazily)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._limits import DISCLOSURE_MIN_CELL


def _published(n: int) -> str:
    """A group size as it may be published (the one rule, ``publish_count``)."""
    from ..population import publish_count

    value = publish_count(n)
    return f"<{DISCLOSURE_MIN_CELL}" if value is None else f"{value:,.0f}"


def plot_group_metric(audit: Any, metric: str, characteristic: str | None = None) -> Any:
    import matplotlib.pyplot as plt

    table = audit.published_by_group()  # no point or bar for a figure withheld
    table = table[table.metric == metric]
    chars = [characteristic] if characteristic else list(dict.fromkeys(table.characteristic))
    sizes = [int((table.characteristic == c).sum()) for c in chars]
    fig, axes = plt.subplots(
        len(chars),
        1,
        figsize=(6.5, 1.0 + 0.28 * len(table) + 0.5 * len(chars)),
        squeeze=False,
        gridspec_kw={"height_ratios": [max(n, 2) for n in sizes]},
    )
    for ax, char in zip(axes[:, 0], chars, strict=True):
        rows = table[table.characteristic == char].reset_index(drop=True)
        ypos = np.arange(len(rows))[::-1]
        for y, r in zip(ypos, rows.itertuples(index=False), strict=True):
            colour = "lightgrey" if r.too_small else "tab:blue"
            if np.isfinite(r.lower) and np.isfinite(r.upper):
                ax.plot([r.lower, r.upper], [y, y], color=colour, linewidth=2)
            if np.isfinite(r.estimate):
                ax.plot([r.estimate], [y], "o", color=colour, markersize=4)
        labels = [
            f"{g} (n={_published(n)})"
            + (" - too small" if s else "" if p == "published" else " - too small to publish")
            for g, n, s, p in zip(
                rows.group, rows.n_families, rows.too_small, rows.published, strict=True
            )
        ]
        ax.set_yticks(ypos, labels, fontsize=7)
        ax.set_title(char, fontsize=9, loc="left")
        if metric == "calibration_ratio":
            ax.axvline(1.0, color="grey", linewidth=0.8)
    axes[-1, 0].set_xlabel(f"{metric.replace('_', ' ')} (95% interval)")
    fig.tight_layout()
    return fig

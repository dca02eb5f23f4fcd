"""Plots of group metrics with intervals (matplotlib, imported lazily)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._limits import DISCLOSURE_MIN_CELL


def _published(n: int) -> str:
    """A group size as it may be published (the one rule, ``publish_count``)."""
    from .._publish import publish_count

    value = publish_count(n)
    return f"<{DISCLOSURE_MIN_CELL}" if value is None else f"{value:,.0f}"


def plot_group_metric(audit: Any, metric: str, characteristic: str | None = None) -> Any:
    """Each group's ``metric`` with its interval, one panel a characteristic, on one
    shared axis, with the tolerance band drawn around each panel's reference group (what
    a group must stay within to be "within tolerance")."""
    import matplotlib.pyplot as plt

    from ._engine import AUDIT_METRICS

    table = audit.published_by_group()  # no point or bar for a figure withheld
    table = table[table.metric == metric]
    chars = [characteristic] if characteristic else list(dict.fromkeys(table.characteristic))
    sizes = [int((table.characteristic == c).sum()) for c in chars]
    fig, axes = plt.subplots(
        len(chars),
        1,
        figsize=(6.5, 1.0 + 0.28 * len(table) + 0.5 * len(chars)),
        squeeze=False,
        sharex=True,
        gridspec_kw={"height_ratios": [max(n, 2) for n in sizes]},
    )
    references = _references(audit, metric)
    band = audit.tolerances.band(metric)
    for ax, char in zip(axes[:, 0], chars, strict=True):
        rows = table[table.characteristic == char].reset_index(drop=True)
        _band(ax, rows, references.get(char), band)
        _groups(ax, rows)
        ax.set_title(audit._named(char), fontsize=9, loc="left")
        if metric == "calibration_ratio":
            ax.axvline(1.0, color="grey", linewidth=0.8)
    label = AUDIT_METRICS.get(metric, metric.replace("_", " "))
    axes[-1, 0].set_xlabel(
        f"{label}\n95% intervals; shaded: within tolerance of the reference group", fontsize=8
    )
    fig.tight_layout()
    return fig


def _references(audit: Any, metric: str) -> dict[str, str]:
    d = audit.differences
    d = d[d.metric == metric]
    return dict(zip(d.characteristic, d.reference, strict=False))


def _band(ax: Any, rows: Any, reference: str | None, band: Any) -> None:
    """Shade the values a group may take and stay within tolerance of the reference."""
    if band is None or reference is None:
        return
    ref = rows[rows.group == reference]
    if ref.empty or not np.isfinite(ref.estimate.iloc[0]):
        return
    value = float(ref.estimate.iloc[0])
    lo, hi, kind = band
    span = (value * lo, value * hi) if kind == "ratio" else (value + lo, value + hi)
    ax.axvspan(*span, color="tab:green", alpha=0.12, linewidth=0)


def _groups(ax: Any, rows: Any) -> None:
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

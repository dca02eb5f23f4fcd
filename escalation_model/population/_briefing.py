"""The three charts of the card's first page, drawn small enough to sit beside three
sentences each on one A4 page and still be read: what each extra block of places
reaches, the areas ranked with their intervals, and the family groups' share of need.

Each is drawn from a published table (rounded, small counts suppressed), so a chart
shows nothing the tables do not."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["block_size", "plot_areas_ranked", "plot_groups", "plot_place_blocks"]

#: Page-one charts: inches (drawn at 110 dpi, shown about 85 mm wide).
_SIZE = (4.4, 2.45)
_FONT = 7.5


def block_size(places: float) -> int:
    """A round block of places, about a sixth of ``places`` (1, 2 or 5 times a power of ten).

    >>> block_size(7260), block_size(600), block_size(90_000)
    (1000, 100, 10000)
    """
    if places <= 0 or not math.isfinite(places):
        return 1
    raw = places / 6
    power = 10 ** math.floor(math.log10(raw))
    return int(max(1, next(m * power for m in (1, 2, 5, 10) if m * power >= raw / 1.5)))


def place_blocks(table: pd.DataFrame, block: int, n_blocks: int) -> pd.DataFrame:
    """The expected escalations reached by each successive block of ``block`` places,
    read off the published capacity curve (linear between its points).

    >>> curve = pd.DataFrame({"places": [0, 100, 200, 300], "expected_reached": [0, 50, 70, 80]})
    >>> place_blocks(curve, 100, 3)["reached"].tolist()
    [50.0, 20.0, 10.0]
    """
    x = table["places"].to_numpy(float)
    y = table["expected_reached"].to_numpy(float)
    edges = np.arange(n_blocks + 1) * block
    edges = edges[edges <= x.max()]
    reached = np.interp(edges, x, y)
    return pd.DataFrame({"start": edges[:-1], "end": edges[1:], "reached": np.diff(reached)})


def _new(ax: Any) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    if ax is None:
        return plt.subplots(figsize=_SIZE)
    return ax.figure, ax


def plot_place_blocks(
    table: pd.DataFrame, *, total_expected: float, total_families: float, ax: Any = None
) -> Any:
    """Bars: the expected escalations reached by each extra block of places, highest
    need first; a line: what a block spread at random would reach. The recommended
    capacity (where the bars fall to the line) and the configuration's assumption marked."""
    fig, ax = _new(ax)
    recommended = float(table.attrs.get("recommended_places") or 0)
    block = block_size(recommended or float(table["places"].max()) / 2)
    n = int(min(12, max(4, math.ceil(1.6 * max(recommended, block) / block))))
    blocks = place_blocks(table, block, n)
    at_random = block * total_expected / total_families if total_families else None
    mids = (blocks["start"] + blocks["end"]) / 2
    beyond = blocks["start"] >= recommended if recommended else np.zeros(len(blocks), bool)
    colours = np.where(beyond, "#b9c7d6", "#2f6690")
    ax.bar(mids, blocks["reached"], width=block * 0.86, color=colours)
    if at_random is not None:
        ax.axhline(at_random, color="#b00020", linewidth=1, linestyle="--")
        ax.annotate(
            f"{block:,} places at random: {at_random:,.0f}",
            (blocks["end"].iloc[-1], at_random),
            xytext=(0, 3),
            textcoords="offset points",
            ha="right",
            fontsize=_FONT,
            color="#b00020",
        )
    for key, text, style in (
        ("recommended_places", "recommended", "-"),
        ("assumed_places", "configured", ":"),
    ):
        mark = table.attrs.get(key)
        if mark and mark <= blocks["end"].iloc[-1]:
            ax.axvline(mark, color="black", linestyle=style, linewidth=0.9)
            ax.annotate(
                f"{text}: {mark:,.0f}",
                (mark, ax.get_ylim()[1]),
                xytext=(3, -9 if key == "recommended_places" else -18),
                textcoords="offset points",
                fontsize=_FONT,
            )
    ax.set_xlabel(f"Early-help places, in blocks of {block:,}", fontsize=_FONT)
    ax.set_ylabel("Escalations each block reaches", fontsize=_FONT)
    ax.tick_params(labelsize=_FONT)
    ax.xaxis.set_major_formatter(_thousands())
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout(pad=0.3)
    return fig


def _thousands() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: f"{v:,.0f}")


def plot_areas_ranked(
    table: pd.DataFrame, by: str, *, label: str, names: dict[str, str] | None = None, ax: Any = None
) -> Any:
    """The areas of one level ranked by expected escalations per 1,000 families, each
    with its 95% range and its name where the analyst gave one (the ten highest where
    there are more; the caption says so)."""
    fig, ax = _new(ax)
    t = table.dropna(subset=["per_1000"]).sort_values("per_1000", ascending=False).head(10)
    t = t.iloc[::-1]
    y = np.arange(len(t))
    est = t["per_1000"].to_numpy(float)
    lo = t["per_1000_lower"].to_numpy(float)
    hi = t["per_1000_upper"].to_numpy(float)
    ax.errorbar(est, y, xerr=[est - lo, hi - est], fmt="o", color="#2f6690", ms=3.5, capsize=2)
    names = names or {}
    ax.set_yticks(y, [_area_text(v, names) for v in t[by]], fontsize=_FONT)
    ax.set_xlabel("Expected escalations per 1,000 families (95% range)", fontsize=_FONT)
    ax.set_title(f"By {label}", fontsize=_FONT, loc="left")
    ax.tick_params(axis="x", labelsize=_FONT)
    ax.set_xlim(left=0)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout(pad=0.3)
    return fig


def _area_text(code: Any, names: dict[str, str]) -> str:
    """'LA03 Northtown' where the analyst named the area, else the code; long names cut.

    >>> _area_text("LA03", {"LA03": "Northtown"}), _area_text("LA01", {})
    ('LA03 Northtown', 'LA01')
    """
    name = names.get(str(code))
    text = f"{code} {name}" if name else str(code)
    return text if len(text) <= 28 else text[:27] + "…"


def plot_groups(groups: list[tuple[str, pd.DataFrame, str]], ax: Any = None) -> Any:
    """For each family group (``(label, table, column)``, a demand forecast by that
    grouping): its share of families against its share of expected escalations."""
    fig, ax = _new(ax)
    rows: list[tuple[str, float, float]] = []
    for label, table, column in groups:
        t = table.dropna(subset=["families", "expected"])
        families, expected = t["families"].sum(), t["expected"].sum()
        if not families or not expected:
            continue
        for _, r in t.iterrows():
            rows.append(
                (
                    f"{label}: {_value(r[column])}",
                    r["families"] / families,
                    r["expected"] / expected,
                )
            )
    rows = rows[::-1]
    y = np.arange(len(rows))
    ax.barh(y + 0.2, [r[1] for r in rows], height=0.4, color="#b9c7d6", label="share of families")
    ax.barh(
        y - 0.2,
        [r[2] for r in rows],
        height=0.4,
        color="#2f6690",
        label="share of expected escalations",
    )
    ax.set_yticks(y, [r[0] for r in rows], fontsize=_FONT)
    ax.xaxis.set_major_formatter(_percent())
    ax.tick_params(axis="x", labelsize=_FONT)
    ax.legend(fontsize=_FONT, loc="lower right", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout(pad=0.3)
    return fig


def _value(v: Any) -> str:
    """A group's value as written: 2.0 read back from a CSV is 2.

    >>> _value(2.0), _value("lone parent")
    ('2', 'lone parent')
    """
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0, decimals=0)

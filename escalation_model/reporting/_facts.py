"""Derived figures, computed once from published ones: what the card's sentences print
beyond the summary's own numbers (shares, differences, averted escalations). The
sentences only format these; ``tests/reporting/test_facts.py`` checks that the modules
writing the card hold no arithmetic of their own.

Every function takes published (rounded) figures and returns the derived one, ``None``
where an input is missing, so that a figure is never printed from a hole.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "at_random",
    "averted",
    "difference",
    "difference_of_printed",
    "per_100",
    "share",
    "top_group",
]


def _known(*values: Any) -> bool:
    return all(v is not None and not (isinstance(v, float) and math.isnan(v)) for v in values)


def share(part: float | None, whole: float | None) -> float | None:
    """``part / whole`` (None if either is missing or ``whole`` is not positive).

    >>> share(2985, 59720), share(1, 0)
    (0.04998325519089082, None)
    """
    if part is None or whole is None or not _known(part, whole) or whole <= 0:
        return None
    return float(part) / float(whole)


def per_100(proportion: float | None) -> float | None:
    """A proportion as "n in every 100", to one decimal: the metrics table's percentage.

    >>> per_100(0.5984251968503937)
    59.8
    """
    return None if not _known(proportion) else round(100 * float(proportion), 1)  # type: ignore[arg-type]


def difference_of_printed(a: float | None, b: float | None) -> float | None:
    """``a - b`` of two figures as printed (one decimal), so a reader's own subtraction
    gives the same number.

    >>> difference_of_printed(59.8, 54.9)
    4.9
    """
    return None if not _known(a, b) else round(float(a) - float(b), 1)  # type: ignore[arg-type]


def difference(a: float | None, b: float | None) -> float | None:
    """``a - b`` of two published figures (what the extra places buy).

    >>> difference(7260.0, 2985.0), difference(None, 1.0)
    (4275.0, None)
    """
    return None if not _known(a, b) else float(a) - float(b)  # type: ignore[arg-type]


def at_random(places: float, total_expected: float | None, families: float | None) -> float | None:
    """The expected escalations that ``places`` spread at random over the families would
    reach: the floor each extra block of places is compared with.

    >>> round(at_random(1000, 1885.0, 59720.0), 1)
    31.6
    """
    rate = share(total_expected, families)
    return None if rate is None else places * rate


def averted(reached: float | None, effect: float | None) -> float | None:
    """Escalations averted among those reached if early help prevents ``effect`` of them
    (an assumption, never an estimate).

    >>> averted(1353.0, 0.2)
    270.6
    """
    return None if not _known(reached, effect) else float(reached) * float(effect)  # type: ignore[arg-type]


def top_group(
    rows: list[dict[str, Any]], total_families: float | None, total_expected: float | None
) -> tuple[dict[str, Any], float | None, float | None] | None:
    """The group with the highest expected rate per 1,000, its share of the families and
    its share of the expected escalations (published figures); None without one.

    >>> top_group([{"g": "a", "per_1000": 5, "families": 10, "expected": 1},
    ...            {"g": "b", "per_1000": 9, "families": 30, "expected": 3}], 40, 4)
    ({'g': 'b', 'per_1000': 9, 'families': 30, 'expected': 3}, 0.75, 0.75)
    """
    usable = [r for r in rows if r.get("per_1000") is not None and r.get("families")]
    if not usable or not total_families or not total_expected:
        return None
    top = max(usable, key=lambda r: float(r["per_1000"] or 0))
    return (
        top,
        share(float(top["families"] or 0), total_families),
        share(float(top["expected"] or 0), total_expected),
    )

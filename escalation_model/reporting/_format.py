"""How the card prints numbers, and what it says where an analysis did not run."""

from __future__ import annotations

from typing import Any

from ._summary import Estimate

MISSING = "This run did not include {what}, so this section has nothing to report."

#: Plain names of the derived family groupings.
SEGMENT_LABELS = {
    "n_think_family_band": "number of Think Family indicators",
    "family_type": "family type",
    "deprivation_quintile": "area deprivation quintile",
    "most_deprived_areas": "most deprived areas or not",
}


def in_prose(column: str, labels: dict[str, str]) -> str:
    """A column's label as it reads mid-sentence ('lone-parent household'); a column the
    analyst gave no label keeps its own name as written ('LACode'), and so does a label
    that starts with an acronym.

    >>> in_prose("lone_parent", {"lone_parent": "Lone-parent household"}), in_prose("LACode", {})
    ('lone-parent household', 'LACode')
    """
    label = labels.get(column)
    if not label or label == column:
        return column
    return label[:1].lower() + label[1:] if not label[1:2].isupper() else label


def _fmt_int(x: float | None) -> str:
    """A published count as printed: ``_fmt_int(7285.0)`` is ``'7,285'``."""
    return "not published" if x is None else f"{x:,.0f}"


def _pct(x: float | None, digits: int = 0) -> str:
    """A share as printed: ``_pct(0.05)`` is ``'5%'``."""
    return "n/a" if x is None else f"{x:.{digits}%}"


def _num(x: float | None, spec: str, scale: float = 1.0) -> str:
    """A number for the card; a figure the run could not estimate (null) is said so.

    >>> _num(0.8712, ".2f"), _num(None, ".2f"), _num(0.05, "+.1f", 100)
    ('0.87', 'not estimable', '+5.0')
    """
    return "not estimable" if x is None else format(x * scale, spec)


def _ci(v: Estimate, digits: int = 3, pct: bool = False) -> str:
    spec = ".1%" if pct else f".{digits}f"
    return f"{_num(v.estimate, spec)} ({_num(v.lower, spec)} to {_num(v.upper, spec)})"


def _float(value: Any) -> float | None:
    return None if value is None else float(value)

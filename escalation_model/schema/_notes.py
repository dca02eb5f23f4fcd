"""What validation notes without stopping the work: each note a small function in
:data:`NOTES`, as the checks are in :data:`~._validate.CHECKS`. A note names the column,
what it found and what changes because of it."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from ._problems import N_EXAMPLES, Problem
from ._registry import NOT_RECORDED
from ._roles import ColumnRoles

__all__ = ["NOTES", "area_keys", "repeated_area_levels"]


def _has(frame: pd.DataFrame, col: str | None) -> bool:
    return bool(col) and col in frame.columns


def note_small_groups(
    frame: pd.DataFrame, roles: ColumnRoles, min_group_size: int
) -> list[Problem]:
    """Protected groups too small to audit."""
    notes = []
    for col in roles.protected:
        if not _has(frame, col):
            continue
        counts = frame[col].value_counts(dropna=True)
        small = counts[counts < min_group_size]
        if len(small):
            notes.append(
                Problem(
                    col,
                    f"group(s) smaller than {min_group_size} families cannot be audited "
                    "reliably and will be reported as too small to assess",
                    "merge small groups into broader categories if that is meaningful, or "
                    "accept that they are reported as too small",
                    "protected",
                    tuple(str(v) for v in small.index[:N_EXAMPLES]),
                )
            )
    return notes


def note_missing_groups(frame: pd.DataFrame, roles: ColumnRoles, _: int) -> list[Problem]:
    """Missing area or protected values: kept, as the group "not recorded"."""
    return [
        Problem(
            col,
            f"missing values (kept, and counted in the group '{NOT_RECORDED}')",
            "fill them from the source system if they are known",
            role,
            n_rows=int(frame[col].isna().sum()),
        )
        for role in ("area", "protected")
        for col in getattr(roles, role)
        if _has(frame, col) and frame[col].isna().any()
    ]


def note_uninformative_indicators(frame: pd.DataFrame, roles: ColumnRoles, _: int) -> list[Problem]:
    """An indicator not known for any family, or with one value for every family it is
    known for: it cannot inform a model, and the 5+ rule's meaning changes."""
    notes = []
    for role in ("think_family", "secondary"):
        for col in getattr(roles, role):
            if not _has(frame, col):
                continue
            known = frame[col].dropna()
            if len(known) and known.nunique() > 1:
                continue
            value = None if known.empty else known.iloc[0]
            what = "not known for any family" if value is None else f"{value:g} for every family"
            effect = ""
            if role == "think_family":
                effect = (
                    "; the 5+ rule counts it as present for every family (so it needs 4 of the "
                    "other indicators)"
                    if value == 1
                    else "; the 5+ rule can never count it (so it needs 5 of the other indicators)"
                )
            notes.append(
                Problem(
                    col,
                    f"{what} where known: it cannot inform the model{effect}",
                    "check the extract or the mapping of its agency codes, or leave the "
                    "indicator out of the roles",
                    role,
                )
            )
    return notes


def repeated_area_levels(frame: pd.DataFrame, roles: ColumnRoles) -> list[tuple[str, str]]:
    """(finer, coarser) area columns where a finer code stands under more than one coarser
    code (ward codes unique only within their authority).

    >>> f = pd.DataFrame({"ward": ["W1", "W1", "W2"], "la": ["A", "B", "A"]})
    >>> repeated_area_levels(f, ColumnRoles(area=("ward", "la")))
    [('ward', 'la')]
    """
    levels = [c for c in roles.area if _has(frame, c)]
    out = []
    for finer, coarser in zip(levels, levels[1:], strict=False):
        parents = frame[[finer, coarser]].dropna().drop_duplicates()
        if parents[finer].duplicated().any():
            out.append((finer, coarser))
    return out


def area_keys(
    frame: pd.DataFrame, roles: ColumnRoles, values: pd.DataFrame | None = None
) -> dict[str, pd.Series]:
    """Finer area codes keyed by their parent where known codes repeat across parents
    (``"LA01 / W001"``), so that two authorities' ward W001 are two wards; the keys are
    made of ``values`` (default: ``frame``; the analysis passes its codes with missing
    ones filled).

    >>> f = pd.DataFrame({"ward": ["W1", "W1"], "la": ["A", "B"]})
    >>> area_keys(f, ColumnRoles(area=("ward", "la")))["ward"].tolist()
    ['A / W1', 'B / W1']
    """
    v = frame if values is None else values
    return {
        finer: v[coarser].astype("string") + " / " + v[finer].astype("string")
        for finer, coarser in repeated_area_levels(frame, roles)
    }


def note_repeated_area_codes(frame: pd.DataFrame, roles: ColumnRoles, _: int) -> list[Problem]:
    """Finer area codes that repeat across parents: keyed by parent in every table."""
    return [
        Problem(
            finer,
            f"the same code stands in more than one '{coarser}' (codes unique only within "
            f"their {coarser}): each is keyed by its {coarser} in every table "
            f"('{coarser} / {finer}'), never merged",
            "nothing to do; use codes unique across the council to keep them as written",
            "area",
        )
        for finer, coarser in repeated_area_levels(frame, roles)
    ]


#: Every note validation makes, in order; each takes (frame, roles, min_group_size).
NOTES: tuple[Callable[[pd.DataFrame, ColumnRoles, int], list[Problem]], ...] = (
    note_small_groups,
    note_missing_groups,
    note_uninformative_indicators,
    note_repeated_area_codes,
)

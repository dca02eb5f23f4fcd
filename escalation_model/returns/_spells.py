"""Statutory spells per child, from the returns, with the definitions used recorded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from ._care import periods_of_care
from ._cin import CINCensus
from ._ssda903 import SSDA903

__all__ = ["LEVELS", "LEVEL_SOURCES", "SpellDefinitions", "statutory_spells", "supplied_levels"]

#: Statutory levels, lowest first (early help is not statutory; "none" is no spell).
LEVELS = ("child_in_need", "child_protection", "looked_after")

SPELL_COLUMNS = ["child_id", "level", "start", "end", "open_as_of", "source"]

#: Which return each level comes from.
LEVEL_SOURCES = {
    "looked_after": "SSDA903",
    "child_protection": "CIN census",
    "child_in_need": "CIN census",
}


@dataclass(frozen=True)
class SpellDefinitions:
    """Which records count as a spell at each statutory level.

    Parameters
    ----------
    exclude_short_breaks : bool, default=True
        Leave out SSDA903 episodes under legal status V3/V4 (short breaks).
    child_in_need : {"referrals", "plans"}, default="referrals"
        A child-in-need spell is a referral not marked "no further action", or (stricter)
        a child-in-need plan.
    """

    exclude_short_breaks: bool = True
    child_in_need: Literal["referrals", "plans"] = "referrals"

    def describe(self, levels: tuple[str, ...] | None = None) -> list[str]:
        """The definitions in plain English, for the card: of ``levels`` only (the levels
        of the returns supplied; default: all).

        >>> SpellDefinitions().describe()[0].endswith("(legal status V3, V4) excluded.")
        True
        >>> len(SpellDefinitions().describe(("looked_after",)))
        1
        """
        breaks = (
            "short breaks (legal status V3, V4) excluded"
            if self.exclude_short_breaks
            else "short breaks included"
        )
        cin = (
            "referrals in the CIN census not marked 'no further action'"
            if self.child_in_need == "referrals"
            else "child-in-need plans in the CIN census"
        )
        text = {
            "looked_after": "Looked after: periods of care in SSDA903 (a new period starts "
            "where an episode does not follow on from the last; a period ends with its last "
            f"episode), {breaks}.",
            "child_protection": "Child protection: child protection plans in the CIN census, "
            "from their start.",
            "child_in_need": f"Child in need: {cin}.",
        }
        wanted = LEVELS[::-1] if levels is None else [x for x in LEVELS[::-1] if x in levels]
        return [text[level] for level in wanted]


def statutory_spells(
    ssda903: SSDA903 | None = None,
    cin: CINCensus | None = None,
    definitions: SpellDefinitions | None = None,
) -> pd.DataFrame:
    """Every statutory spell per child: ``child_id, level, start, end, open_as_of,
    source``.

    ``level`` is one of :data:`LEVELS`; ``end`` is NaT while open, and ``open_as_of``
    then says until when it is known to be open (the 31 March of the last file that
    holds it; NaT where the reader recorded none).
    """
    d = definitions or SpellDefinitions()
    parts = []
    if ssda903 is not None:
        care = periods_of_care(ssda903.episodes, exclude_short_breaks=d.exclude_short_breaks)
        parts.append(care.assign(level="looked_after", source="SSDA903"))
    if cin is not None:
        parts.append(
            _open_as_of(cin.cp_plans).assign(level="child_protection", source="CIN census")
        )
        if d.child_in_need == "referrals":
            r = cin.referrals[~cin.referrals["no_further_action"].astype(bool)]
            r = r.rename(columns={"referral_date": "start", "closure_date": "end"})
        else:
            r = cin.cin_plans
        parts.append(_open_as_of(r).assign(level="child_in_need", source="CIN census"))
    if not parts:
        return pd.DataFrame(columns=SPELL_COLUMNS)
    parts = [p for p in parts if len(p)] or parts[:1]
    spells = pd.concat([p[SPELL_COLUMNS] for p in parts], ignore_index=True)
    return spells.sort_values(["child_id", "start", "level"], kind="stable", ignore_index=True)


def _open_as_of(records: pd.DataFrame) -> pd.DataFrame:
    """``child_id, start, end, open_as_of`` of CIN records: an open one is known open
    to the last census that holds it."""
    out = records[["child_id", "start", "end"]].copy()
    if "as_of" in records.columns:
        out["open_as_of"] = records["as_of"].where(records["end"].isna())
    else:
        out["open_as_of"] = pd.NaT
    out["open_as_of"] = out["open_as_of"].astype("datetime64[s]")
    return out


def supplied_levels(ssda903: SSDA903 | None, cin: CINCensus | None) -> tuple[str, ...]:
    """The statutory levels the supplied returns can label, lowest first.

    >>> supplied_levels(None, None)
    ()
    """
    return tuple(
        level
        for level in LEVELS
        if (ssda903 is not None and LEVEL_SOURCES[level] == "SSDA903")
        or (cin is not None and LEVEL_SOURCES[level] == "CIN census")
    )

"""Statutory spells per child, from the returns, with the definitions used recorded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from ._cin import CINCensus
from ._ssda903 import SSDA903

__all__ = ["LEVELS", "SpellDefinitions", "statutory_spells", "periods_of_care"]

#: Statutory levels, lowest first (early help is not statutory; "none" is no spell).
LEVELS = ("child_in_need", "child_protection", "looked_after")

#: SSDA903 legal statuses of short-break (respite) arrangements: not an entry into care.
SHORT_BREAK_STATUSES = frozenset({"V3", "V4"})

SPELL_COLUMNS = ["child_id", "level", "start", "end", "source"]


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

    def describe(self) -> list[str]:
        """The definitions in plain English, for the card.

        >>> SpellDefinitions().describe()[0].endswith("(legal status V3, V4) excluded.")
        True
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
        return [
            "Looked after: periods of care in SSDA903 (a new period starts where an "
            f"episode does not follow on from the last), {breaks}.",
            "Child protection: child protection plans in the CIN census, from their start.",
            f"Child in need: {cin}.",
        ]


def periods_of_care(episodes: pd.DataFrame, *, exclude_short_breaks: bool = True) -> pd.DataFrame:
    """Episodes joined into periods of care: a new period starts where an episode's start
    is not the previous episode's end (more robust across years than ``RNE == "S"``).

    >>> e = pd.DataFrame({"child_id": ["a", "a", "a"],
    ...     "start": pd.to_datetime(["2020-01-01", "2020-03-01", "2021-01-01"]),
    ...     "end": pd.to_datetime(["2020-03-01", "2020-06-01", None]),
    ...     "legal_status": ["C2", "C2", "C2"]})
    >>> p = periods_of_care(e)
    >>> [str(d.date()) for d in p.start], str(p.end[0].date()), p.end.isna().tolist()
    (['2020-01-01', '2021-01-01'], '2020-06-01', [False, True])
    """
    e = episodes
    if exclude_short_breaks:
        e = e[~e["legal_status"].isin(SHORT_BREAK_STATUSES)]
    e = e.sort_values(["child_id", "start"], kind="stable").reset_index(drop=True)
    same_child = e["child_id"].eq(e["child_id"].shift())
    follows = same_child & e["start"].eq(e["end"].shift())
    period = (~follows).cumsum()
    grouped = e.groupby(period, sort=False)
    out = pd.DataFrame(
        {
            "child_id": grouped["child_id"].first(),
            "start": grouped["start"].first(),
            "end": grouped["end"].last(),
        }
    ).reset_index(drop=True)
    return out


def statutory_spells(
    ssda903: SSDA903 | None = None,
    cin: CINCensus | None = None,
    definitions: SpellDefinitions | None = None,
) -> pd.DataFrame:
    """Every statutory spell per child: ``child_id, level, start, end, source``.

    ``level`` is one of :data:`LEVELS`; ``end`` is NaT while open.
    """
    d = definitions or SpellDefinitions()
    parts = []
    if ssda903 is not None:
        care = periods_of_care(ssda903.episodes, exclude_short_breaks=d.exclude_short_breaks)
        parts.append(care.assign(level="looked_after", source="SSDA903"))
    if cin is not None:
        parts.append(cin.cp_plans.assign(level="child_protection", source="CIN census"))
        if d.child_in_need == "referrals":
            r = cin.referrals[~cin.referrals["no_further_action"].astype(bool)]
            r = r.rename(columns={"referral_date": "start", "closure_date": "end"})
        else:
            r = cin.cin_plans
        parts.append(
            r[["child_id", "start", "end"]].assign(level="child_in_need", source="CIN census")
        )
    if not parts:
        return pd.DataFrame(columns=SPELL_COLUMNS)
    spells = pd.concat([p[SPELL_COLUMNS] for p in parts], ignore_index=True)
    return spells.sort_values(["child_id", "start", "level"], kind="stable", ignore_index=True)

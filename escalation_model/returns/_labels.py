"""The escalation label of each family at each profile date, from spells and membership.

For a family at profile date ``d``, the window is ``(d, d + horizon]``: an event on the
profile date itself is outside, one on the window's last day inside. Members are the
children linked to the family on ``d`` and those who join it during the window (births,
or an unborn child with a pre-birth plan). ``outcome_level`` is the highest level among
the members' spells starting in the window (none < early help < child in need < child
protection < looked after). A family with a member's statutory spell open on ``d`` is
``already_statutory``; a window running past the last return's reference date is
``censored`` (no label yet).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..schema import ESCALATED_LEVELS, OUTCOME_LEVELS, Problem, SchemaError
from ._common import member_during, membership_links

__all__ = ["LabelReport", "label_families"]

_RANK = {level: i for i, level in enumerate(OUTCOME_LEVELS)}


@dataclass(eq=False)
class LabelReport:
    """What labelling did: rows in, rows labelled, rows excluded and why (exact counts,
    in memory; publish them through ``publish_count``)."""

    profiles: int
    labelled: int
    excluded: dict[str, int] = field(default_factory=dict)


def members_in_window(
    profiles: pd.DataFrame, membership: pd.DataFrame, horizon: pd.DateOffset
) -> pd.DataFrame:
    """(profile row, person) for members on the profile date or joining in the window."""
    rows = profiles[["family_id", "profile_date"]].reset_index(names="row")
    joined = rows.merge(membership_links(membership), on="family_id")
    d = joined["profile_date"]
    inside = member_during(joined, d, d + horizon)
    return joined.loc[inside, ["row", "person_id", "profile_date"]]


def _check(membership: pd.DataFrame, spells: pd.DataFrame, profiles: pd.DataFrame) -> None:
    problems = []
    for name, frame, cols in (
        ("membership", membership, ("family_id", "person_id")),
        ("spells", spells, ("child_id", "level", "start", "end")),
        ("profiles", profiles, ("family_id", "profile_date")),
    ):
        problems += [
            Problem(c, f"the {name} table has no such column", f"add '{c}' to the {name} table")
            for c in cols
            if c not in frame.columns
        ]
    if problems:
        raise SchemaError(problems)


def label_families(
    profiles: pd.DataFrame,
    membership: pd.DataFrame,
    spells: pd.DataFrame,
    *,
    horizon_months: int = 12,
    reference_date: pd.Timestamp | str | None = None,
    early_help: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, LabelReport]:
    """Label each (family, profile date) of ``profiles``.

    Parameters
    ----------
    profiles : DataFrame
        ``family_id, profile_date`` (one row per family and date).
    membership : DataFrame
        ``family_id, person_id`` and optionally ``valid_from, valid_to`` (never inferred).
    spells : DataFrame
        ``child_id, level, start, end`` and optionally ``open_as_of``
        (:func:`statutory_spells`).
    reference_date : date, optional
        The last date every return supplied covers (the earliest of their last
        collection year ends): windows ending after it are censored.
    early_help : DataFrame, optional
        Family-level early-help spells ``family_id, start``.

    Returns
    -------
    (DataFrame, LabelReport)
        ``profiles`` with ``outcome_level``, ``escalated``, ``already_statutory`` and
        ``censored``, and what was found.
    """
    _check(membership, spells, profiles)
    horizon = pd.DateOffset(months=horizon_months)
    out = profiles.reset_index(drop=True).copy()
    out["profile_date"] = pd.to_datetime(out["profile_date"]).astype("datetime64[s]")
    members = members_in_window(out, membership, horizon)
    s = spells.rename(columns={"child_id": "person_id"})
    if "open_as_of" not in s.columns:
        s = s.assign(open_as_of=pd.NaT)
    hits = members.merge(s[["person_id", "level", "start", "end", "open_as_of"]], on="person_id")
    d = hits["profile_date"]
    in_window = (hits["start"] > d) & (hits["start"] <= d + horizon)
    # an open spell is open as of its last file's date: on a later date, the child was
    # no longer in that return (or the window is censored)
    still = hits["open_as_of"].isna() | (hits["open_as_of"] >= d)
    open_on_d = (hits["start"] <= d) & ((hits["end"] > d) | (hits["end"].isna() & still))
    rank = np.zeros(len(out), dtype=np.int64)
    ranks = hits.loc[in_window, "level"].map(_RANK)
    np.maximum.at(rank, hits.loc[in_window, "row"].to_numpy(), ranks.to_numpy(dtype=np.int64))
    if early_help is not None and len(early_help):
        eh = out.reset_index(names="row").merge(early_help[["family_id", "start"]], on="family_id")
        inside = (eh["start"] > eh["profile_date"]) & (eh["start"] <= eh["profile_date"] + horizon)
        np.maximum.at(rank, eh.loc[inside, "row"].to_numpy(), _RANK["early_help"])
    out["outcome_level"] = pd.Categorical.from_codes(rank, categories=list(OUTCOME_LEVELS))
    out["escalated"] = out["outcome_level"].isin(ESCALATED_LEVELS).astype(np.int8)
    statutory = np.zeros(len(out), dtype=bool)
    statutory[hits.loc[open_on_d, "row"].to_numpy()] = True
    out["already_statutory"] = statutory
    if reference_date is not None:
        out["censored"] = (out["profile_date"] + horizon) > pd.Timestamp(reference_date)
    else:
        out["censored"] = False
    report = LabelReport(
        profiles=len(out),
        labelled=int((~out["censored"] & ~out["already_statutory"]).sum()),
        excluded={
            "already in statutory care on the profile date": int(out["already_statutory"].sum()),
            "window runs past the last return (censored)": int(out["censored"].sum()),
        },
    )
    return out, report

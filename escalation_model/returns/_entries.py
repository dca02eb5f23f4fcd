"""Entries into care in the labelled windows: when in the window, and at what age.

What ``prepare`` records for the hand-over to the demand models
(:class:`escalation_model.population.EntryHistory`); birth dates are used here, in memory,
and never kept.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..population import age_band
from ._labels import members_in_window

__all__ = ["birth_dates", "care_entries"]


def birth_dates(*children: pd.DataFrame | None) -> pd.Series:
    """One birth date per child id from the returns' child tables (SSDA903 header, CIN
    census), the first table that has it winning; an unborn child's expected date where
    there is no other."""
    parts = []
    for table in children:
        if table is None or not len(table):
            continue
        for col in ("birth_date", "expected_birth_date"):
            if col in table.columns:
                known = table[table[col].notna()]
                parts.append(pd.Series(known[col].to_numpy(), index=known["child_id"]))
    if not parts:
        return pd.Series(dtype="datetime64[s]", index=pd.Index([], dtype=object))
    dates = pd.concat(parts)
    return dates[~dates.index.duplicated(keep="first")]


def care_entries(
    labelled: pd.DataFrame,
    membership: pd.DataFrame,
    spells: pd.DataFrame,
    births: pd.Series,
    *,
    horizon_months: int = 12,
) -> pd.DataFrame:
    """One row per entry into care (a period of care starting in a kept family's window):
    ``window`` (row of ``labelled``), ``quarter`` of the window (1 = the first three
    months after the profile date) and ``age_band`` at entry.

    >>> lab = pd.DataFrame({"family_id": ["f"], "profile_date": pd.to_datetime(["2024-03-31"]),
    ...     "already_statutory": [False], "censored": [False]})
    >>> mem = pd.DataFrame({"family_id": ["f", "f"], "person_id": ["a", "b"]})
    >>> sp = pd.DataFrame({"child_id": ["a", "b"], "level": "looked_after",
    ...     "start": pd.to_datetime(["2024-06-30", "2024-07-01"]), "end": pd.NaT})
    >>> born = pd.Series(pd.to_datetime(["2010-01-01"]), index=["a"])
    >>> care_entries(lab, mem, sp, born).values.tolist()
    [[0, 1, '10-15'], [0, 2, 'not known']]
    """
    kept = labelled[~(labelled["already_statutory"] | labelled["censored"])]
    kept = kept[["family_id", "profile_date"]].reset_index(drop=True)
    if kept.empty:
        return pd.DataFrame({"window": [], "quarter": [], "age_band": []})
    members = members_in_window(kept, membership, pd.DateOffset(months=horizon_months))
    care = spells.loc[spells["level"] == "looked_after", ["child_id", "start"]]
    hits = members.merge(care.rename(columns={"child_id": "person_id"}), on="person_id")
    d, start = hits["profile_date"], hits["start"]
    hits = hits[(start > d) & (start <= d + pd.DateOffset(months=horizon_months))]
    d, start = hits["profile_date"], hits["start"]
    quarter = np.ones(len(hits), dtype=np.int64)
    for q in range(1, math.ceil(horizon_months / 3)):
        quarter += (start > d + pd.DateOffset(months=3 * q)).to_numpy()
    born = (  # pandas 3 cannot map through an empty datetime Series
        hits["person_id"].map(births)
        if len(births)
        else pd.Series(pd.NaT, index=hits.index, dtype="datetime64[s]")
    )
    return pd.DataFrame(
        {
            "window": hits["row"].to_numpy(),
            "quarter": quarter,
            "age_band": age_band(born.reset_index(drop=True), start.reset_index(drop=True)),
        }
    ).sort_values(["window", "quarter"], kind="stable", ignore_index=True)

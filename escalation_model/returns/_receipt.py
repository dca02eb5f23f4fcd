"""Early-help receipt for the evaluation of early help: which profiles were followed by
early help, and each one's outcome counted from a comparable start.

A family profiled on ``d`` is a recipient when an early-help spell starts within
``(d, d + within]``; its outcome window then starts at that spell's start, so an
escalation before help began is not counted against help. A family that did not receive
help has its window start at ``d`` plus the recipients' median delay from profile to
start (the matched date), so both groups are followed from the same point after their
profile. A window whose family is already in statutory care at its start, or that runs
past the returns, has no outcome (blank: left out of the evaluation, counted).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._labels import label_families

__all__ = ["ReceiptReport", "early_help_receipt"]


@dataclass(frozen=True)
class ReceiptReport:
    """Exact counts (publish through ``publish_count``) and the matched delay in days."""

    recipients: int
    comparison: int
    median_delay_days: int
    without_outcome: int


def early_help_receipt(
    profiles: pd.DataFrame,
    early_help: pd.DataFrame,
    membership: pd.DataFrame,
    spells: pd.DataFrame,
    *,
    within_months: int,
    horizon_months: int,
    reference_date: pd.Timestamp | None,
) -> tuple[pd.DataFrame, ReceiptReport]:
    """``profiles`` (``family_id, profile_date``) with ``early_help`` (0/1),
    ``early_help_start`` (the start, blank for the comparison) and
    ``early_help_outcome`` (escalated within ``horizon_months`` of the window's start: 1,
    0, or blank where the window cannot be labelled).

    >>> p = pd.DataFrame({"family_id": ["A", "B"],
    ...                   "profile_date": pd.to_datetime(["2020-01-01", "2020-01-01"])})
    >>> eh = pd.DataFrame({"family_id": ["A"], "start": pd.to_datetime(["2020-02-01"])})
    >>> members = pd.DataFrame({"family_id": ["A", "B"], "person_id": ["a", "b"]})
    >>> spells = pd.DataFrame({"child_id": ["a"], "level": ["child_in_need"],
    ...     "start": pd.to_datetime(["2020-01-15"]), "end": pd.to_datetime(["2020-01-20"])})
    >>> out, report = early_help_receipt(p, eh, members, spells, within_months=3,
    ...     horizon_months=12, reference_date=None)
    >>> out[["early_help", "early_help_outcome"]].astype(int).values.tolist()
    [[1, 0], [0, 0]]
    >>> report.median_delay_days
    31
    """
    rows = profiles[["family_id", "profile_date"]].reset_index(drop=True)
    d = pd.to_datetime(rows["profile_date"]).astype("datetime64[s]")
    hits = rows.assign(profile_date=d).reset_index(names="row")
    hits = hits.merge(early_help[["family_id", "start"]], on="family_id")
    inside = (hits["start"] > hits["profile_date"]) & (
        hits["start"] <= hits["profile_date"] + pd.DateOffset(months=within_months)
    )
    first = hits[inside].groupby("row")["start"].min()
    start = pd.Series(pd.NaT, index=rows.index, dtype="datetime64[s]")
    start.loc[first.index] = first.astype("datetime64[s]").to_numpy()
    received = start.notna().to_numpy()
    delays = (start[received] - d[received]).dt.days
    delay = int(np.median(delays)) if len(delays) else 0
    window = start.where(received, d + pd.Timedelta(days=delay))
    labelled, _ = label_families(
        pd.DataFrame({"family_id": rows["family_id"], "profile_date": window}),
        membership,
        spells,
        horizon_months=horizon_months,
        reference_date=reference_date,
    )
    unusable = (labelled["already_statutory"] | labelled["censored"]).to_numpy()
    outcome = pd.array(labelled["escalated"].to_numpy(), dtype="Int8")
    outcome[unusable] = pd.NA
    out = rows.assign(
        early_help=pd.array(received.astype(np.int8), dtype="Int8"),
        early_help_start=start,
        early_help_outcome=outcome,
    )
    report = ReceiptReport(
        recipients=int(received.sum()),
        comparison=int((~received).sum()),
        median_delay_days=delay,
        without_outcome=int(unusable.sum()),
    )
    return out, report

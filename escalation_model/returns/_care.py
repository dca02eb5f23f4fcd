"""Periods of care from SSDA903 episodes, as the DfE defines them.

An episode starts at each change of placement or legal status; a **period of care** is a
run of episodes each starting where the one before it ended (``DECOM`` equal to the
previous ``DEC``). The period ends with its **last** episode: if that episode is open
(``DEC`` blank) the child is still in care as of the file's 31 March, whatever the
earlier episodes' end dates.

Real returns also hold what the rule above does not: the same episode in several years'
files (kept once, with an end date where any file has one: :func:`deduplicate`),
overlapping episodes (joined into one period), and an episode left open in one file
although the child has a later episode (it ends where the next one begins). Each is
counted in :class:`CareChecks`, so that ``prepare`` can say what it repaired.

An open period is open *as of* the 31 March of the last file that holds it
(``open_as_of``), never open for ever.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["CareChecks", "SHORT_BREAK_STATUSES", "care_checks", "deduplicate", "periods_of_care"]

#: SSDA903 legal statuses of short-break (respite) arrangements: not an entry into care.
SHORT_BREAK_STATUSES = frozenset({"V3", "V4"})

_OPEN = np.iinfo(np.int64).max  # an open episode's end, as seconds, while joining


def deduplicate(frame: pd.DataFrame, start: str = "start", end: str = "end") -> pd.DataFrame:
    """One row per (child, start): a filled end date wins over a blank one (the same open
    record is in every year's file until it closes); ``as_of``, where there is one, is
    the latest file's date that holds the record.

    >>> f = pd.DataFrame({"child_id": ["7", "7"], "start": pd.to_datetime(["2020-05-01"] * 2),
    ...     "end": pd.to_datetime([None, "2021-06-30"]),
    ...     "as_of": pd.to_datetime(["2021-03-31", "2022-03-31"])})
    >>> deduplicate(f)[["end", "as_of"]].astype(str).values.tolist()
    [['2021-06-30', '2022-03-31']]
    """
    keys = ["child_id", start]
    ordered = frame.assign(_open=frame[end].isna())
    if "as_of" in frame.columns:
        ordered["as_of"] = ordered.groupby(keys, sort=False)["as_of"].transform("max")
    ordered = ordered.sort_values([*keys, "_open"], kind="stable")
    kept = ordered.drop_duplicates(keys, keep="first")
    return kept.drop(columns="_open").reset_index(drop=True)


def _seconds(dates: pd.Series) -> np.ndarray:
    return dates.astype("datetime64[s]").to_numpy().astype(np.int64)


def _joined(episodes: pd.DataFrame, exclude_short_breaks: bool) -> pd.DataFrame:
    """The episodes that count, sorted, with ``_end`` (seconds; open: the largest int),
    ``_superseded`` (open but followed by a later episode: ends where that begins),
    ``_overlap`` (starts before the period so far has ended) and ``_period``."""
    # the same episode in several files first (a return's key is CHILD and DECOM: an open
    # copy is the same episode as a closed one, whatever its legal status then said)
    e = deduplicate(episodes)
    if exclude_short_breaks and "legal_status" in e.columns:
        e = e[~e["legal_status"].isin(SHORT_BREAK_STATUSES)]
    e = e.sort_values(["child_id", "start"], kind="stable", ignore_index=True)
    child = e["child_id"].to_numpy()
    start = _seconds(e["start"])
    end = np.where(e["end"].isna().to_numpy(), _OPEN, _seconds(e["end"].fillna(e["start"])))
    next_same = np.append(child[1:] == child[:-1], False)
    next_start = np.append(start[1:], 0)
    superseded = (end == _OPEN) & next_same
    end = np.where(superseded, next_start, end)
    out = e.assign(_start=start, _end=end, _superseded=superseded)
    # running latest end of the child's episodes so far: a new period starts after it
    latest = out.groupby("child_id", sort=False)["_end"].cummax().to_numpy()
    before = np.insert(latest[:-1], 0, 0)
    prev_same = np.insert(child[1:] == child[:-1], 0, False)
    joins = prev_same & (start <= before)
    out["_overlap"] = prev_same & (start < before)
    out["_period"] = np.cumsum(~joins)
    return out


def periods_of_care(episodes: pd.DataFrame, *, exclude_short_breaks: bool = True) -> pd.DataFrame:
    """Episodes joined into periods of care: ``child_id, start, end, open_as_of``.

    A new period starts where an episode starts after every earlier episode of the child
    has ended (more robust across years than ``RNE == "S"``); ``end`` is the latest end
    of its episodes, NaT when its last episode is open. ``open_as_of`` is, for an open
    period, the 31 March of the last file holding it (NaT where the episodes carry no
    ``as_of``, or the period is closed).

    >>> e = pd.DataFrame({"child_id": ["a", "a", "a"],
    ...     "start": pd.to_datetime(["2020-01-01", "2020-03-01", "2021-01-01"]),
    ...     "end": pd.to_datetime(["2020-03-01", "2020-06-01", None]),
    ...     "legal_status": ["C2", "C2", "C2"]})
    >>> p = periods_of_care(e)
    >>> [str(d.date()) for d in p.start], str(p.end[0].date()), p.end.isna().tolist()
    (['2020-01-01', '2021-01-01'], '2020-06-01', [False, True])

    A change of placement whose new episode is still open keeps the period open:

    >>> e = pd.DataFrame({"child_id": ["b", "b"],
    ...     "start": pd.to_datetime(["2020-01-01", "2020-05-01"]),
    ...     "end": pd.to_datetime(["2020-05-01", None]), "legal_status": ["C2", "C2"]})
    >>> periods_of_care(e).end.isna().tolist()
    [True]
    """
    j = _joined(episodes, exclude_short_breaks)
    g = j.groupby("_period", sort=False)
    latest = g["_end"].max().to_numpy()
    is_open = latest == _OPEN
    end = pd.Series(np.where(is_open, 0, latest).astype("datetime64[s]"))
    end[is_open] = pd.NaT
    out = pd.DataFrame(
        {
            "child_id": g["child_id"].first().to_numpy(),
            "start": g["start"].first().to_numpy().astype("datetime64[s]"),
            "end": end.to_numpy(),
        }
    )
    if "as_of" in j.columns:
        as_of = g["as_of"].last().to_numpy().astype("datetime64[s]")
        out["open_as_of"] = np.where(is_open, as_of, np.datetime64("NaT"))
    else:
        out["open_as_of"] = np.full(len(out), np.datetime64("NaT"), dtype="datetime64[s]")
    return out


@dataclass(frozen=True)
class CareChecks:
    """What joining episodes into periods found (exact counts, in memory)."""

    episodes: int
    duplicates: int
    short_breaks: int
    multi_episode_periods: int
    periods: int
    overlapping: int
    superseded_open: int

    def notes(self) -> list[tuple[str, tuple[int, ...]]]:
        """What was repaired, in words with ``{}`` where each count goes (counts are
        published by the caller); only the checks that found something.

        >>> CareChecks(10, 2, 0, 3, 5, 0, 1).notes()[1][0].startswith("{} open SSDA903 episodes")
        True
        """
        out: list[tuple[str, tuple[int, ...]]] = []
        if self.duplicates:
            out.append(
                (
                    "{} SSDA903 episode rows repeat an episode (across years' files or within "
                    "one): kept once, with an end date where any file has one",
                    (self.duplicates,),
                )
            )
        if self.overlapping:
            out.append(("{} SSDA903 episodes overlap the one before: joined", (self.overlapping,)))
        if self.superseded_open:
            out.append(
                (
                    "{} open SSDA903 episodes are followed by a later episode of the child: "
                    "taken to end where the next begins",
                    (self.superseded_open,),
                )
            )
        return out


def care_checks(episodes: pd.DataFrame, *, exclude_short_breaks: bool = True) -> CareChecks:
    """Count what :func:`periods_of_care` repairs in ``episodes``.

    >>> e = pd.DataFrame({"child_id": ["a", "a", "a"],
    ...     "start": pd.to_datetime(["2020-01-01", "2020-01-01", "2020-02-01"]),
    ...     "end": pd.to_datetime([None, None, "2020-05-01"]), "legal_status": ["C2"] * 3})
    >>> c = care_checks(e)
    >>> c.duplicates, c.superseded_open, c.periods
    (1, 1, 1)
    """
    unique = deduplicate(episodes)
    breaks = (
        int(unique["legal_status"].isin(SHORT_BREAK_STATUSES).sum())
        if exclude_short_breaks and "legal_status" in unique.columns
        else 0
    )
    j = _joined(episodes, exclude_short_breaks)
    sizes = j.groupby("_period", sort=False).size()
    return CareChecks(
        episodes=len(episodes),
        duplicates=len(episodes) - len(unique),
        short_breaks=breaks,
        multi_episode_periods=int((sizes > 1).sum()),
        periods=len(sizes),
        overlapping=int(j["_overlap"].sum()),
        superseded_open=int(j["_superseded"].sum()),
    )

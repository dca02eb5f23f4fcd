"""Periods of care against a day-by-day reference: "is this child looked after on day d?".

The reference knows nothing of sorting, cumulative maxima or grouping: it marks every day
each counted episode covers (``[DECOM, DEC)``; an open episode to the start of the child's
next episode, or for ever) and reads periods off as maximal runs of marked days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalation_model.returns import SSDA903, periods_of_care, statutory_spells
from escalation_model.returns._care import SHORT_BREAK_STATUSES, care_checks

BASE = pd.Timestamp("2015-04-01")
FOREVER = 10_000  # a day past every generated date: "still open"


@st.composite
def _history(draw: st.DrawFn, child: str) -> list[dict]:
    """One child's episodes, as returns hold them: placement changes that follow on,
    gaps, overlaps, short breaks, open last episodes, open episodes superseded by a later
    one, and closed episodes repeated open (the earlier year's file)."""
    n = draw(st.integers(1, 6))
    day = draw(st.integers(50, 400))  # overlaps may step back up to 45 days a time
    rows = []
    for i in range(n):
        if i:
            day = max(day + draw(st.sampled_from([0, 0, 0, 1, 30, 200, -5, -40])), 0)
        length = draw(st.integers(1, 500))
        is_open = draw(st.booleans()) if i == n - 1 else draw(st.integers(0, 9)) == 0
        status = draw(st.sampled_from(["C2", "C2", "J2", "E1", "V3", "V4"]))
        row = {"child_id": child, "start": day, "end": None if is_open else day + length}
        rows.append({**row, "legal_status": status})
        if not is_open and draw(st.integers(0, 4)) == 0:  # the same episode, open a year earlier
            rows.append({**row, "end": None, "legal_status": status})
        day += length
    # starts are unique per child once repeats are merged (a return's key is CHILD, DECOM)
    seen: dict[int, dict] = {}
    for r in rows:
        kept = seen.get(r["start"])
        if kept is None or (kept["end"] is None and r["end"] is not None):
            seen[r["start"]] = r
    keep = {id(r) for r in seen.values()}
    repeats = [r for r in rows if id(r) not in keep and r["end"] is None]
    repeats = [r for r in repeats if seen[r["start"]]["end"] is not None]
    return [*seen.values(), *repeats]


@st.composite
def _histories(draw: st.DrawFn) -> list[dict]:
    n = draw(st.integers(1, 20))
    return [row for i in range(n) for row in draw(_history(f"c{i}"))]


def _reference_periods(rows: list[dict]) -> set[tuple[str, int, int]]:
    """(child, first day, day after the last) of each run of looked-after days; the
    end is FOREVER for a period still open."""
    out = set()
    for child in {r["child_id"] for r in rows}:
        mine = [r for r in rows if r["child_id"] == child]
        # a repeated open copy of a closed episode is the same episode: the closed wins
        closed = {r["start"] for r in mine if r["end"] is not None}
        mine = [r for r in mine if r["end"] is not None or r["start"] not in closed]
        mine = [r for r in mine if r["legal_status"] not in SHORT_BREAK_STATUSES]
        cared = np.zeros(FOREVER + 1, dtype=bool)
        for r in mine:
            end = r["end"]
            if end is None:
                later = [o["start"] for o in mine if o["start"] > r["start"]]
                end = min(later) if later else FOREVER
            cared[r["start"] : end] = True
        day = 0
        while day < FOREVER:
            if cared[day]:
                first = day
                while day < FOREVER and cared[day]:
                    day += 1
                out.add((child, first, day))
            day += 1
    return out


def _frame(rows: list[dict]) -> pd.DataFrame:
    days = pd.to_timedelta
    return pd.DataFrame(
        {
            "child_id": [r["child_id"] for r in rows],
            "start": (BASE + days([r["start"] for r in rows], unit="D")).astype("datetime64[s]"),
            "end": pd.Series(
                [pd.NaT if r["end"] is None else BASE + pd.Timedelta(days=r["end"]) for r in rows],
                dtype="datetime64[s]",
            ),
            "legal_status": [r["legal_status"] for r in rows],
        }
    )


def _as_days(periods: pd.DataFrame) -> set[tuple[str, int, int]]:
    start = (periods["start"] - BASE).dt.days
    end = (periods["end"] - BASE).dt.days.fillna(FOREVER).astype(int)
    return set(zip(periods["child_id"], start.astype(int), end, strict=True))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_histories())
def test_periods_of_care_match_a_day_by_day_reference(rows):
    """About 2,600 generated histories (250 examples of 1 to 20 children)."""
    assert _as_days(periods_of_care(_frame(rows))) == _reference_periods(rows)


@settings(max_examples=100, deadline=None)
@given(_histories())
def test_looked_after_spells_match_the_reference_too(rows):
    frame = _frame(rows).assign(as_of=pd.Timestamp("2030-03-31"))
    spells = statutory_spells(SSDA903(frame))
    assert set(spells["level"]) <= {"looked_after"}
    assert _as_days(spells) == _reference_periods(rows)
    still_open = spells["end"].isna()
    assert (spells.loc[still_open, "open_as_of"] == pd.Timestamp("2030-03-31")).all()
    assert spells.loc[~still_open, "open_as_of"].isna().all()


def test_a_placement_change_whose_new_episode_is_open_keeps_the_period_open():
    """The case that ended periods early: two episodes, the last still open (blank DEC)."""
    episodes = pd.DataFrame(
        {
            "child_id": ["7", "7"],
            "start": pd.to_datetime(["2017-06-01", "2017-09-15"]).astype("datetime64[s]"),
            "end": pd.to_datetime(["2017-09-15", None]).astype("datetime64[s]"),
            "legal_status": ["C2", "C2"],
            "as_of": pd.Timestamp("2018-03-31"),
        }
    )
    p = periods_of_care(episodes)
    assert len(p) == 1 and str(p.start[0].date()) == "2017-06-01"
    assert pd.isna(p.end[0]) and str(p.open_as_of[0].date()) == "2018-03-31"


def test_what_joining_repairs_is_counted():
    episodes = pd.DataFrame(
        {
            "child_id": ["a", "a", "a", "a", "b"],
            "start": pd.to_datetime(
                ["2020-01-01", "2020-01-01", "2020-02-01", "2020-04-01", "2020-01-01"]
            ),
            "end": pd.to_datetime([None, "2020-02-01", None, "2020-06-01", "2020-01-03"]),
            "legal_status": ["C2", "C2", "C2", "C2", "V3"],
        }
    )
    c = care_checks(episodes)
    assert (c.episodes, c.duplicates, c.short_breaks, c.periods) == (5, 1, 1, 1)
    assert (c.superseded_open, c.overlapping, c.multi_episode_periods) == (1, 0, 1)
    assert any("are followed by a later episode" in text for text, _ in c.notes())


def test_a_zero_day_episode_alone_is_still_a_period():
    """A child in care for less than a day entered care: its period is kept, zero long."""
    episodes = pd.DataFrame(
        {
            "child_id": ["z"],
            "start": pd.to_datetime(["2020-01-01"]),
            "end": pd.to_datetime(["2020-01-01"]),
            "legal_status": ["C2"],
        }
    )
    p = periods_of_care(episodes)
    assert len(p) == 1 and p.start[0] == p.end[0]


def test_an_open_copy_of_a_closed_short_break_is_the_same_short_break():
    """Found by the property test: the same episode (CHILD, DECOM) open in one year's file
    under one legal status and closed in the next as a short break is one short break,
    not a period of care."""
    rows = [
        {"child_id": "c0", "start": 50, "end": 55, "legal_status": "V3"},
        {"child_id": "c0", "start": 50, "end": None, "legal_status": "C2"},
    ]
    assert _as_days(periods_of_care(_frame(rows))) == _reference_periods(rows) == set()

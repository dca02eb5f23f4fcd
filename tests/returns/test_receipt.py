"""Early-help receipt and the outcome counted from a comparable start, against a
row-by-row reference written from the definition."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation_model.returns._receipt import early_help_receipt

BASE = pd.Timestamp("2020-01-01")
day = st.integers(0, 900)


@st.composite
def councils(draw):
    n = draw(st.integers(1, 8))
    profiles, early, spells = [], [], []
    for f in range(n):
        for d in draw(st.lists(day, min_size=1, max_size=2, unique=True)):
            profiles.append((f"F{f}", BASE + pd.Timedelta(days=d)))
        early += [(f"F{f}", BASE + pd.Timedelta(days=d)) for d in draw(st.lists(day, max_size=2))]
        for start, length in draw(
            st.lists(st.tuples(day, st.none() | st.integers(1, 200)), max_size=2)
        ):
            end = None if length is None else BASE + pd.Timedelta(days=start + length)
            spells.append((f"c{f}", "child_in_need", BASE + pd.Timedelta(days=start), end))
    return (
        pd.DataFrame(profiles, columns=["family_id", "profile_date"]),
        pd.DataFrame(early, columns=["family_id", "start"]),
        pd.DataFrame(
            {"family_id": [f"F{f}" for f in range(n)], "person_id": [f"c{f}" for f in range(n)]}
        ),
        pd.DataFrame(spells, columns=["child_id", "level", "start", "end"]),
    )


def _reference(profiles, early, spells):
    rows = []
    for f, d in profiles.itertuples(index=False):
        starts = [s for g, s in early.itertuples(index=False) if g == f]
        inside = [s for s in starts if d < s <= d + pd.DateOffset(months=3)]
        rows.append((f, d, min(inside) if inside else None))
    delays = [(s - d).days for _, d, s in rows if s is not None]
    delay = int(np.median(delays)) if delays else 0
    out = []
    for f, d, s in rows:
        w = s if s is not None else d + pd.Timedelta(days=delay)
        own = spells[spells.child_id == "c" + f[1:]]
        open_at_w = any(
            a <= w and (pd.isna(b) or b > w) for a, b in zip(own.start, own.end, strict=True)
        )
        escalated = any(w < a <= w + pd.DateOffset(months=12) for a in own.start)
        out.append((int(s is not None), None if open_at_w else int(escalated)))
    return out


@settings(max_examples=150, deadline=None)
@given(councils())
def test_receipt_and_the_aligned_outcome_match_the_definition(data):
    profiles, early, members, spells = data
    out, report = early_help_receipt(
        profiles, early, members, spells, within_months=3, horizon_months=12, reference_date=None
    )
    got = [
        (int(r), None if pd.isna(o) else int(o))
        for r, o in zip(out.early_help, out.early_help_outcome, strict=True)
    ]
    assert got == _reference(profiles, early, spells)
    assert report.recipients + report.comparison == len(profiles)
    assert report.without_outcome == sum(o is None for _, o in got)


def test_an_escalation_before_help_began_is_not_counted_against_help():
    """A child in need a fortnight after the profile, closed, then early help: under the
    profile's window the family 'escalated'; from the start of help it did not."""
    profiles = pd.DataFrame({"family_id": ["A"], "profile_date": [BASE]})
    early = pd.DataFrame({"family_id": ["A"], "start": [BASE + pd.Timedelta(days=40)]})
    members = pd.DataFrame({"family_id": ["A"], "person_id": ["a"]})
    spells = pd.DataFrame(
        {
            "child_id": ["a"],
            "level": ["child_in_need"],
            "start": [BASE + pd.Timedelta(days=14)],
            "end": [BASE + pd.Timedelta(days=30)],
        }
    )
    out, _ = early_help_receipt(
        profiles, early, members, spells, within_months=3, horizon_months=12, reference_date=None
    )
    assert out.early_help.iloc[0] == 1 and out.early_help_outcome.iloc[0] == 0
    assert out.early_help_start.iloc[0] == BASE + pd.Timedelta(days=40)

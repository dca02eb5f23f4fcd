"""The label at a profile date: window edges, members, open spells, censoring."""

from __future__ import annotations

import pandas as pd
import pytest

from escalation_model.returns import label_families
from escalation_model.schema import SchemaError

D = pd.Timestamp("2020-06-30")


def _spells(*rows):
    columns = ["child_id", "level", "start", "end"]
    return pd.DataFrame(
        columns=columns,
        data=[
            {
                "child_id": c,
                "level": level,
                "start": pd.Timestamp(start),
                "end": pd.Timestamp(end) if end else pd.NaT,
            }
            for c, level, start, end in rows
        ],
    )


def _label(spells, membership=None, **kw):
    membership = (
        membership
        if membership is not None
        else pd.DataFrame({"family_id": ["F"], "person_id": ["c1"]})
    )
    profiles = pd.DataFrame({"family_id": ["F"], "profile_date": [D]})
    out, report = label_families(profiles, membership, spells, **kw)
    return out.iloc[0], report


@pytest.mark.parametrize(
    ("start", "level"),
    [
        ("2020-06-30", "none"),  # on the profile date: outside the window
        ("2020-07-01", "child_in_need"),  # the day after: inside
        ("2021-06-30", "child_in_need"),  # the window's last day: inside
        ("2021-07-01", "none"),  # the day after the window: outside
    ],
)
def test_window_edges(start, level):
    row, _ = _label(_spells(("c1", "child_in_need", start, "2021-12-31")))
    assert row.outcome_level == level
    assert row.escalated == (level != "none")


def test_the_highest_level_among_members_wins():
    membership = pd.DataFrame({"family_id": ["F", "F"], "person_id": ["c1", "c2"]})
    spells = _spells(
        ("c1", "child_in_need", "2020-08-01", None),
        ("c2", "looked_after", "2021-01-10", None),
        ("c9", "child_protection", "2020-08-01", None),  # not a member
    )
    row, _ = _label(spells, membership)
    assert row.outcome_level == "looked_after"


def test_a_child_born_during_the_window_with_a_pre_birth_plan_counts():
    membership = pd.DataFrame(
        {
            "family_id": ["F", "F"],
            "person_id": ["c1", "baby"],
            "valid_from": [pd.Timestamp("2015-01-01"), pd.Timestamp("2020-11-15")],
        }
    )
    spells = _spells(("baby", "child_protection", "2020-10-01", None))  # before birth
    row, _ = _label(spells, membership)
    assert row.outcome_level == "child_protection"
    left = membership.assign(valid_to=[pd.NaT, pd.Timestamp("2020-01-01")])  # gone before d
    assert _label(spells, left)[0].outcome_level == "none"


def test_an_open_statutory_spell_on_the_profile_date_is_already_statutory():
    row, report = _label(_spells(("c1", "looked_after", "2019-01-01", None)))
    assert row.already_statutory and row.outcome_level == "none"
    assert report.excluded["already in statutory care on the profile date"] == 1
    closed = _label(_spells(("c1", "looked_after", "2019-01-01", "2020-06-30")))[0]
    assert not closed.already_statutory  # ended on the profile date


def test_a_window_past_the_last_return_is_censored():
    spells = _spells(("c1", "child_in_need", "2020-08-01", None))
    row, report = _label(spells, reference_date="2021-03-31")
    assert row.censored and report.labelled == 0
    assert not _label(spells, reference_date="2021-06-30")[0].censored  # the last day


def test_early_help_is_below_statutory_levels():
    eh = pd.DataFrame({"family_id": ["F"], "start": [pd.Timestamp("2020-09-01")]})
    assert _label(_spells(), early_help=eh)[0].outcome_level == "early_help"
    spells = _spells(("c1", "child_in_need", "2020-08-01", None))
    assert _label(spells, early_help=eh)[0].outcome_level == "child_in_need"


def test_a_missing_column_is_named():
    with pytest.raises(SchemaError, match="membership table has no such column"):
        label_families(
            pd.DataFrame({"family_id": ["F"], "profile_date": [D]}),
            pd.DataFrame({"family_id": ["F"]}),
            _spells(),
        )


def _entries(spells, membership, births, **kw):
    from escalation_model.returns._entries import care_entries

    profiles = pd.DataFrame({"family_id": ["F"], "profile_date": [D]})
    labelled, _ = label_families(profiles, membership, spells, **kw)
    return care_entries(labelled, membership, spells, births)


def test_entries_into_care_for_the_hand_over_keep_the_window_s_edges_and_ages():
    """(A spell starting on the profile date is open on it: the family is already in
    care, and its windows give no entries; see the next test.)"""
    membership = pd.DataFrame(
        {
            "family_id": ["F"] * 3,
            "person_id": ["c2", "c3", "baby"],
            "valid_from": [None, None, "2021-01-10"],
        }
    )
    spells = _spells(
        ("c2", "looked_after", "2021-06-30", None),  # the window's last day: inside, quarter 4
        ("c3", "looked_after", "2020-09-30", "2020-12-01"),  # quarter 1's last day
        ("baby", "looked_after", "2021-01-15", None),  # born in the window
    )
    births = pd.Series(
        pd.to_datetime(["2005-07-01", "2012-09-30", "2021-01-10"]), index=["c2", "c3", "baby"]
    )
    got = _entries(spells, membership, births).set_index("quarter")["age_band"].to_dict()
    assert got == {1: "5-9", 3: "under 1", 4: "10-15"}


def test_no_entries_are_taken_from_families_already_in_care_or_censored():
    membership = pd.DataFrame({"family_id": ["F", "F"], "person_id": ["c1", "c2"]})
    spells = _spells(
        ("c1", "looked_after", "2020-01-01", None),  # open on the profile date
        ("c2", "looked_after", "2020-09-01", None),
    )
    assert _entries(spells, membership, pd.Series(dtype="datetime64[s]")).empty

"""Family profiles from agency records: look-back windows, coverage, the mapping file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from escalation_model.returns import (
    IndicatorRule,
    family_profiles,
    profile_schedule,
    read_indicator_mapping,
)
from escalation_model.schema import SchemaError

MEMBERS = pd.DataFrame({"family_id": ["F", "F", "G", "H"], "person_id": ["mum", "kid", "g1", "h1"]})
DA = IndicatorRule("domestic_abuse", ("DA01", "DA02"), ("police",), lookback_months=12)
SCHOOL = IndicatorRule("school_attendance_below_75", ("ATT75",), ("education",), 12)


def _records(*rows):
    return pd.DataFrame(rows, columns=["person_id", "code", "date", "source"])


def test_a_record_within_the_look_back_window_of_any_member_counts():
    records = _records(
        ("kid", "DA02", "2020-03-31", "police"),  # on the profile date: inside
        ("g1", "DA01", "2019-03-31", "police"),  # exactly 12 months before: outside
        ("h1", "XX", "2020-01-01", "police"),  # another code
    )
    out = family_profiles(MEMBERS, records, pd.DatetimeIndex(["2020-03-31"]), [DA])
    assert out.set_index("family_id")["domestic_abuse"].to_dict() == {
        "F": 1.0,
        "G": 0.0,
        "H": 0.0,
    }


def test_a_source_that_does_not_cover_a_family_gives_not_known():
    coverage = pd.DataFrame({"family_id": ["F", "G"], "source": ["education", "police"]})
    records = _records(("h1", "ATT75", "2020-02-01", "education"))  # H: a record anyway
    dates = profile_schedule("2020-04-01", "2020-04-01")
    out = family_profiles(MEMBERS, records, dates, [SCHOOL, DA], coverage=coverage)
    school = out.set_index("family_id")["school_attendance_below_75"]
    assert school["F"] == 0.0 and np.isnan(school["G"]) and school["H"] == 1.0
    da = out.set_index("family_id")["domestic_abuse"]
    assert np.isnan(da["F"]) and da["G"] == 0.0


def test_one_row_per_family_and_date_on_a_quarterly_schedule():
    records = _records(("mum", "DA01", "2020-05-15", "police"))
    out = family_profiles(MEMBERS, records, profile_schedule("2020-01-01", "2021-06-30"), [DA])
    assert len(out) == 3 * 6
    f = out[out.family_id == "F"].set_index("profile_date")["domestic_abuse"]
    # counted from the first quarter day after the record for 12 months
    assert f.tolist() == [0, 0, 1, 1, 1, 1]


def test_the_mapping_file(tmp_path):
    path = tmp_path / "mapping.toml"
    path.write_text(
        '[indicators.domestic_abuse]\ncodes = ["DA01"]\nsources = ["police"]\nlookback_months = 6\n'
    )
    assert read_indicator_mapping(path) == [
        IndicatorRule("domestic_abuse", ("DA01",), ("police",), 6)
    ]
    path.write_text('[indicators.domestic_abuse_x]\ncodes = ["DA01"]\n[indicators.low_income]\n')
    with pytest.raises(SchemaError) as info:
        read_indicator_mapping(path)
    text = str(info.value)
    assert "indicators.domestic_abuse_x" in text and "indicators.low_income.codes" in text
    path.write_text("not = [toml")
    with pytest.raises(SchemaError, match="not a readable TOML file"):
        read_indicator_mapping(path)


def test_a_person_s_records_count_only_for_the_family_they_belong_to_on_the_date():
    """A parent who moved from F to G on 1 January 2020: their record of October 2019
    counts for F at 31 December 2019 and for G at 31 March 2020, never for both at once."""
    members = pd.DataFrame(
        {
            "family_id": ["F", "G", "G"],
            "person_id": ["dad", "dad", "g1"],
            "valid_from": [None, "2020-01-01", None],
            "valid_to": ["2019-12-31", None, None],
        }
    )
    records = _records(("dad", "DA01", "2019-10-01", "police"))
    dates = profile_schedule("2019-12-31", "2020-03-31", freq="QE")
    out = family_profiles(members, records, dates, [DA])
    got = out.set_index(["family_id", out["profile_date"].dt.strftime("%Y-%m")])["domestic_abuse"]
    assert got.to_dict() == {
        ("F", "2019-12"): 1.0,
        ("F", "2020-03"): 0.0,
        ("G", "2019-12"): 0.0,
        ("G", "2020-03"): 1.0,
    }

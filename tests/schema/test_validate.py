"""Every kind of bad input gets one SchemaError naming the column, the rule and the fix."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from escalation_model.schema import ColumnRoles, SchemaError, SchemaWarning, validate


def _problems(frame, roles=None, **kw):
    with pytest.raises(SchemaError) as info:
        validate(frame, roles, **kw)
    err = info.value
    assert isinstance(err, ValueError)
    return err


def _assert_names(err, column, *fragments):
    msg = str(err)
    assert f"'{column}'" in msg, msg
    assert "Fix:" in msg, msg
    for frag in fragments:
        assert frag in msg, msg


def test_clean_synthetic_data_passes(small_population):
    report = validate(small_population.frame, small_population.roles)
    assert report.n_rows == 20_000
    assert 0.01 < report.missing_share["domestic_abuse"] < 0.03


def test_validation_never_modifies_the_frame(frame):
    before = frame.copy()
    frame.loc[frame.index[:3], "domestic_abuse"] = 7
    snapshot = frame.copy()
    with pytest.raises(SchemaError):
        validate(frame)
    pd.testing.assert_frame_equal(frame, snapshot)
    validate(before)
    pd.testing.assert_frame_equal(before, before.copy())


def test_missing_indicators_stay_missing(frame):
    n_missing = int(frame["substance_misuse"].isna().sum())
    assert n_missing > 0
    validate(frame)
    assert int(frame["substance_misuse"].isna().sum()) == n_missing


# ---- the kinds of bad input ------------------------------------------------------------


def test_1_not_a_dataframe():
    err = _problems([[1, 2], [3, 4]])
    assert "DataFrame" in str(err) and "Fix:" in str(err)


def test_2_empty_frame(frame):
    err = _problems(frame.iloc[0:0])
    assert "no rows" in str(err)


def test_3_missing_column(frame):
    err = _problems(frame.drop(columns=["domestic_abuse"]))
    _assert_names(err, "domestic_abuse", "not in the data", "think_family")


def test_4_duplicated_column_names(frame):
    dup = pd.concat([frame, frame[["lone_parent"]]], axis=1)
    err = _problems(dup)
    _assert_names(err, "lone_parent", "more than once")


def test_5_column_mapped_to_two_roles(frame):
    roles = ColumnRoles(household=(*ColumnRoles().household, "domestic_abuse"))
    err = _problems(frame, roles)
    _assert_names(err, "domestic_abuse", "more than one role")


def test_6_indicator_value_not_binary(frame):
    frame["domestic_abuse"] = frame["domestic_abuse"].astype("float")
    frame.loc[frame.index[:4], "domestic_abuse"] = 2.0
    err = _problems(frame)
    _assert_names(err, "domestic_abuse", "0, 1 or missing", "4 row(s)", "2.0")


def test_7_indicator_as_text(frame):
    frame["substance_misuse"] = np.where(frame["substance_misuse"].fillna(0) == 1, "yes", "no")
    err = _problems(frame)
    _assert_names(err, "substance_misuse", "text", "'yes'")


def test_8_duplicate_family_at_same_date(frame):
    frame.loc[frame.index[1], ["family_id", "profile_date"]] = frame.loc[
        frame.index[0], ["family_id", "profile_date"]
    ].to_numpy()
    err = _problems(frame)
    _assert_names(err, "family_id", "more than once at the same profile date")


def test_same_family_at_two_dates_is_allowed(frame):
    frame.loc[frame.index[1], "family_id"] = frame.loc[frame.index[0], "family_id"]
    frame.loc[frame.index[1], "profile_date"] = pd.Timestamp("2011-01-01")
    frame.loc[frame.index[0], "profile_date"] = pd.Timestamp("2014-01-01")
    validate(frame)


def test_9_unparseable_profile_date(frame):
    frame["profile_date"] = frame["profile_date"].dt.strftime("%Y-%m-%d").astype(object)
    frame.loc[frame.index[:2], "profile_date"] = "sometime in spring"
    err = _problems(frame)
    _assert_names(err, "profile_date", "cannot be read as dates", "sometime in spring")


def test_10_future_profile_date(frame):
    frame.loc[frame.index[0], "profile_date"] = pd.Timestamp("2031-05-01")
    err = _problems(frame, today="2026-01-01")
    _assert_names(err, "profile_date", "future")


def test_11_outcome_not_binary(frame):
    frame["escalated"] = frame["escalated"].astype("int64")
    frame.loc[frame.index[:3], "escalated"] = 3
    err = _problems(frame)
    _assert_names(err, "escalated", "binary")


def test_12_outcome_with_one_class(frame):
    frame["escalated"] = 0
    frame["outcome_level"] = "none"
    err = _problems(frame)
    _assert_names(err, "escalated", "only one class")


def test_13_outcome_missing(frame):
    frame["escalated"] = frame["escalated"].astype("float")
    frame.loc[frame.index[:5], "escalated"] = np.nan
    err = _problems(frame)
    _assert_names(err, "escalated", "missing", "5 row(s)")


def test_14_identifier_among_features(frame):
    roles = ColumnRoles(household=(*ColumnRoles().household, "family_id"))
    err = _problems(frame, roles)
    _assert_names(err, "family_id", "leakage")


def test_15_outcome_derived_feature(frame):
    frame["referred_flag"] = frame["escalated"].astype("int8")
    roles = ColumnRoles(household=(*ColumnRoles().household, "referred_flag"))
    err = _problems(frame, roles)
    _assert_names(err, "referred_flag", "leakage", "matches the outcome")


def test_16_outcome_level_among_features(frame):
    roles = ColumnRoles(area_factors=("rural", "outcome_level"))
    err = _problems(frame, roles)
    _assert_names(err, "outcome_level", "leakage")


def test_17_identifier_like_feature(frame):
    frame["case_number"] = np.arange(len(frame))
    roles = ColumnRoles(area_factors=("rural", "case_number"))
    err = _problems(frame, roles)
    _assert_names(err, "case_number", "identifier")


def test_18_deprivation_out_of_range(frame):
    frame["deprivation_decile"] = frame["deprivation_decile"].astype("int64")
    frame.loc[frame.index[:2], "deprivation_decile"] = 11
    err = _problems(frame)
    _assert_names(err, "deprivation_decile", "1 (most deprived) to 10")


def test_19_unknown_outcome_level(frame):
    frame["outcome_level"] = frame["outcome_level"].astype("string")
    frame.loc[frame.index[0], "outcome_level"] = "adopted"
    err = _problems(frame)
    _assert_names(err, "outcome_level", "unknown outcome levels", "adopted")


def test_20_outcome_level_disagrees_with_outcome(frame):
    frame["outcome_level"] = frame["outcome_level"].astype("string")
    first_none = frame.index[frame["escalated"] == 0][0]
    frame.loc[first_none, "outcome_level"] = "looked_after"
    err = _problems(frame)
    _assert_names(err, "outcome_level", "disagrees")


def test_21_missing_family_id(frame):
    frame["family_id"] = frame["family_id"].astype("float")
    frame.loc[frame.index[:2], "family_id"] = np.nan
    err = _problems(frame)
    _assert_names(err, "family_id", "missing")


def test_22_area_factor_as_text(frame):
    frame["rural"] = np.where(frame["rural"] == 1, "rural", "urban")
    err = _problems(frame)
    _assert_names(err, "rural", "numeric")


def test_every_problem_is_listed_at_once(frame):
    frame = frame.drop(columns=["poor_housing"])
    frame["domestic_abuse"] = frame["domestic_abuse"].astype(float)
    frame.loc[frame.index[0], "domestic_abuse"] = 5.0
    frame.loc[frame.index[1], "profile_date"] = pd.Timestamp("2099-01-01")
    err = _problems(frame)
    columns = {p.column for p in err.problems}
    assert {"poor_housing", "domestic_abuse", "profile_date"} <= columns
    assert str(err).startswith("3 problem(s)")


def test_outcome_not_required_for_scoring(frame):
    scoring = frame.drop(columns=["escalated", "outcome_level"])
    roles = ColumnRoles(outcome=None, outcome_level=None)
    validate(scoring, roles, require_outcome=False)
    with pytest.raises(SchemaError, match="'outcome' role is empty"):
        validate(scoring, roles)


def test_small_protected_group_warns_not_fails(frame):
    frame["child_ethnicity"] = frame["child_ethnicity"].astype("string")
    frame.loc[frame.index[:3], "child_ethnicity"] = "Gypsy or Traveller"
    with pytest.warns(SchemaWarning, match=r"child_ethnicity.*too small"):
        report = validate(frame, min_group_size=50)
    assert any("Gypsy or Traveller" in str(w) for w in report.warnings)


def test_no_warning_when_groups_are_large(small_population):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate(small_population.frame, min_group_size=20)


def test_csv_round_trip_validates(tmp_path, frame):
    path = tmp_path / "families.csv"
    frame.to_csv(path, index=False)
    validate(pd.read_csv(path))


def _notes_of(frame, roles):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SchemaWarning)
        return [str(n) for n in validate(frame, roles).warnings]


def test_a_constant_or_unknown_indicator_is_noted_with_its_effect_on_the_5_plus_rule(frame):
    roles = ColumnRoles()
    f = frame.copy()
    f["domestic_abuse"] = 1
    f["poor_housing"] = np.nan
    f["family_offending"] = 0
    notes = "\n".join(_notes_of(f, roles))
    assert "'domestic_abuse' (role 'think_family'): 1 for every family where known" in notes
    assert "counts it as present for every family (so it needs 4 of the other" in notes
    assert "'poor_housing' (role 'think_family'): not known for any family" in notes
    assert "can never count it (so it needs 5 of the other" in notes
    assert "'family_offending' (role 'secondary'): 0 for every family" in notes


def test_ward_codes_unique_only_within_their_authority_are_kept_apart(frame):
    """Two authorities' ward W001 are two wards: noted, and keyed by authority."""
    from escalation_model.study._plan import analysed_frame

    roles = ColumnRoles()
    f = frame.copy()
    f["ward_code"] = f["ward_code"].str.split("-").str[-1]  # "LA01-W003" -> "W003"
    notes = "\n".join(_notes_of(f, roles))
    assert "'ward_code' (role 'area'): the same code stands in more than one" in notes
    keyed = analysed_frame(f, roles)["ward_code"]
    assert keyed.nunique() == frame["ward_code"].nunique() > f["ward_code"].nunique()
    assert keyed.iloc[0] == f"{f['authority_code'].iloc[0]} / {f['ward_code'].iloc[0]}"
    assert _notes_of(frame, roles) == [n for n in _notes_of(frame, roles) if "ward" not in n]


def test_time_zone_aware_dates_keep_their_calendar_date(frame, tmp_path):
    """2014-04-01 00:00 in London (BST) is 1 April, not 31 March in UTC."""
    from escalation_model.datasets import read_families
    from escalation_model.schema import parse_profile_dates

    f = frame.copy()
    f["profile_date"] = pd.to_datetime(f["profile_date"]).dt.tz_localize("Europe/London")
    f.to_parquet(tmp_path / "tz.parquet")
    back = read_families(str(tmp_path / "tz.parquet"))
    dates = parse_profile_dates(back, ColumnRoles())
    assert (dates.dt.date == pd.to_datetime(frame["profile_date"]).dt.date).all()
    text = pd.DataFrame({"profile_date": ["2014-04-01T00:00:00+01:00"]})
    assert str(parse_profile_dates(text, ColumnRoles()).iloc[0].date()) == "2014-04-01"

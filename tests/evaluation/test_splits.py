from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from escalation_model.evaluation import (
    Split,
    SplitError,
    check_split,
    evaluate_models,
    leave_one_authority_out,
    temporal_split,
    transfer_by_authority,
)
from escalation_model.models import make_models
from escalation_model.schema import ColumnRoles, SchemaError


def test_temporal_split_leaves_a_gap_of_the_horizon(small_population):
    f = small_population.frame
    s = temporal_split(f)
    train_dates = f["profile_date"].iloc[s.train]
    test_dates = f["profile_date"].iloc[s.test]
    assert test_dates.min() >= pd.Timestamp("2015-01-01")
    assert train_dates.max() + pd.Timedelta(days=365) <= test_dates.min()
    assert s.details["n_test"] == len(s.test)


def test_temporal_split_keeps_families_whole():
    f = pd.DataFrame(
        {
            "family_id": [1, 2, 3, 1, 4],
            "profile_date": pd.to_datetime(
                ["2011-03-01", "2012-05-01", "2012-07-01", "2015-02-01", "2015-06-01"]
            ),
        }
    )
    s = temporal_split(f)
    ids_train = set(f["family_id"].iloc[s.train])
    ids_test = set(f["family_id"].iloc[s.test])
    assert ids_train == {2, 3} and ids_test == {1, 4}
    assert s.details["train_profiles_removed_for_test_families"] == 1


def test_a_split_where_a_family_straddles_is_refused(small_population):
    f = small_population.frame.head(1000).copy()
    shared = 987_654_321
    f.loc[f.index[[0, 900]], "family_id"] = shared
    bad = Split("manual", train=np.arange(0, 500), test=np.arange(500, 1000), description="")
    with pytest.raises(SplitError, match=r"1 family\(ies\) straddle.*\[900\].*Fix") as e:
        check_split(f, ColumnRoles(), bad)
    assert str(shared) not in str(e.value)  # an identifier never leaves memory
    with pytest.raises(SplitError, match="straddle"):
        evaluate_models(f, ColumnRoles(), bad, make_models(calibrate=False))


def test_overlapping_rows_and_label_leak_are_refused(small_population):
    f = small_population.frame
    overlap = Split("manual", train=np.arange(0, 600), test=np.arange(500, 1000), description="")
    with pytest.raises(SplitError, match="both"):
        check_split(f, None, overlap)
    dates = f["profile_date"]
    leak = Split(
        "temporal-manual",
        train=np.flatnonzero((dates < "2014-06-01").to_numpy()),
        test=np.flatnonzero((dates >= "2015-01-01").to_numpy()),
        description="",
    )
    with pytest.raises(SplitError, match="reach"):
        check_split(f, None, leak)


def test_leave_one_authority_out(small_population):
    splits = leave_one_authority_out(small_population.frame)
    assert len(splits) == 8
    total = sum(len(s.test) for s in splits)
    assert total == len(small_population.frame)


def test_leave_one_authority_out_within_the_temporal_split(small_population):
    f = small_population.frame
    temporal = temporal_split(f)
    splits = leave_one_authority_out(f, within=temporal)
    assert len(splits) == 8
    authority = f["authority_code"].to_numpy()
    assert sum(len(s.test) for s in splits) == len(temporal.test)
    for s in splits:
        a = s.details["authority"]
        assert set(s.test) <= set(temporal.test) and (authority[s.test] == a).all()
        assert set(s.train) <= set(temporal.train) and (authority[s.train] != a).all()
        # every training row of the other authorities is used
        others = temporal.train[authority[temporal.train] != a]
        np.testing.assert_array_equal(s.train, others)
        assert "temporal split kept" in s.description


def test_transfer_by_authority(small_population):
    f = small_population.frame
    lineup = {k: v for k, v in make_models(calibrate=False).items() if k != "logistic"}
    lineup["lightgbm"].set_params(n_estimators=40)
    kwargs = dict(within=temporal_split(f), max_train=5_000, n_bootstrap=50, random_state=1)
    table = transfer_by_authority(f, None, lineup, **kwargs)
    assert list(table.columns) == [
        "authority",
        "n_train",
        "n_test",
        "model",
        "metric",
        "estimate",
        "lower",
        "upper",
    ]
    assert len(table) == 8 * 3 * 2  # authorities x models x metrics
    assert (table["n_train"] == 5_000).all()
    auc = table[table.metric == "roc_auc"].set_index(["authority", "model"])["estimate"]
    # the learned model ranks families in an unseen authority better than the area rule
    assert (auc.xs("lightgbm", level="model") > auc.xs("area_rule", level="model")).all()
    assert ((table.lower <= table.estimate) & (table.estimate <= table.upper)).all()
    pd.testing.assert_frame_equal(table, transfer_by_authority(f, None, lineup, **kwargs))
    # one authority at a time gives the same numbers as several at once
    serial = transfer_by_authority(f, None, lineup, n_jobs=1, **kwargs)
    pd.testing.assert_frame_equal(table, serial)


def test_evaluation_refuses_a_leaking_column(small_population):
    f = small_population.frame.assign(referred=small_population.frame["escalated"])
    roles = ColumnRoles(household=(*ColumnRoles().household, "referred"))
    with pytest.raises(SchemaError, match="leakage"):
        evaluate_models(f, roles, temporal_split(f, roles), make_models(roles, calibrate=False))


def test_text_ids_split_as_numbers_do(small_population):
    """A council's family ids are text: the families profiled in both periods are moved
    out of training exactly as with the same ids as numbers (a hashed membership test;
    np.isin on text compared every pair)."""
    frame = small_population.frame.copy()
    roles = small_population.roles
    # a third of the families profiled again in the test year (same id, a later date)
    again = frame.sample(frac=0.3, random_state=1).assign(profile_date="2015-06-30")
    frame = pd.concat([frame, again], ignore_index=True)
    numbers = temporal_split(frame, roles)
    text = frame.assign(family_id="FAM-" + frame["family_id"].astype(str))
    texts = temporal_split(text, roles)
    assert np.array_equal(numbers.train, texts.train) and np.array_equal(numbers.test, texts.test)
    moved = numbers.details["train_profiles_removed_for_test_families"]
    assert moved > 1000

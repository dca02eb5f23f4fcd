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
    f.loc[f.index[900], "family_id"] = f.loc[f.index[0], "family_id"]
    bad = Split("manual", train=np.arange(0, 500), test=np.arange(500, 1000), description="")
    with pytest.raises(SplitError, match=r"straddle.*Fix"):
        check_split(f, ColumnRoles(), bad)
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


def test_evaluation_refuses_a_leaking_column(small_population):
    f = small_population.frame.assign(referred=small_population.frame["escalated"])
    roles = ColumnRoles(household=(*ColumnRoles().household, "referred"))
    with pytest.raises(SchemaError, match="leakage"):
        evaluate_models(f, roles, temporal_split(f, roles), make_models(roles, calibrate=False))

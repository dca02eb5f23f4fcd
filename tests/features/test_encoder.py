"""RolesEncoder: the data contract as a scikit-learn transformer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.compose import ColumnTransformer

from escalation_model.features import RolesEncoder
from escalation_model.schema import ColumnRoles, SchemaError

ROLES = ColumnRoles(
    family_id="Ref",
    profile_date=None,
    area=(),
    think_family=("DV", "Crime"),
    secondary=(),
    household=("LoneParent",),
    deprivation="IMD",
    area_factors=(),
    protected=("Eth", "Disab"),
    outcome="Out",
    outcome_level=None,
    lone_parent="LoneParent",
    labels={"DV": "Domestic abuse", "Eth": "Ethnicity"},
)


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "Ref": ["a", "b", "c", "d"],
            "DV": pd.array([1, 1, None, 0], dtype="Int8"),
            "Crime": [0, 0, 1, 1],
            "LoneParent": [True, False, True, False],
            "IMD": [1, 4, 10, 2],
            "Eth": ["White", "Asian", None, "Asian"],
            "Disab": [0, 1, 0, 1],
            "Out": [1, 0, 0, 1],
        }
    )


def test_layout_names_labels_and_monotone_constraints(frame):
    enc = RolesEncoder(ROLES, include_protected=True).fit(frame)
    assert list(enc.get_feature_names_out()) == [
        "DV",
        "Crime",
        "LoneParent",
        "IMD",
        "Eth=Asian",
        "Eth=White",
        "Disab",
    ]
    assert enc.labels_[0] == "Domestic abuse"
    assert enc.labels_[4] == "Ethnicity: Asian"
    assert enc.labels_[1] == "Crime"  # no label given: the column's own name
    assert enc.monotone_ == [1, 1, 1, -1, 0, 0, 0]
    assert isinstance(enc.column_transformer_, ColumnTransformer)


def test_matrix_keeps_not_known_and_one_hot_encodes(frame):
    X = RolesEncoder(ROLES, include_protected=True).fit_transform(frame)
    assert X.dtype == np.float64
    expected = np.array(
        [
            [1, 0, 1, 1, 0, 1, 0],
            [1, 0, 0, 4, 1, 0, 1],
            [np.nan, 1, 1, 10, 0, 0, 0],  # a missing ethnicity is no level
            [0, 1, 0, 2, 1, 0, 1],
        ]
    )
    np.testing.assert_array_equal(X, expected)


def test_protected_columns_are_not_features_unless_asked(frame):
    enc = RolesEncoder(ROLES).fit(frame)
    assert "Disab" not in enc.get_feature_names_out()
    assert enc.transform(frame).shape == (4, 4)


def test_a_level_first_seen_later_is_all_zeros(frame):
    enc = RolesEncoder(ROLES, include_protected=True).fit(frame)
    later = frame.assign(Eth=["Mixed", "Mixed", "Asian", "White"])
    X = enc.transform(later)
    np.testing.assert_array_equal(X[:, 4:6], [[0, 0], [0, 0], [1, 0], [0, 1]])


def test_a_missing_column_is_refused_by_name(frame):
    enc = RolesEncoder(ROLES).fit(frame)
    with pytest.raises(SchemaError, match="Crime"):
        enc.transform(frame.drop(columns="Crime"))
    with pytest.raises(SchemaError, match="IMD"):
        RolesEncoder(ROLES).fit(frame.drop(columns="IMD"))


def test_text_in_a_numeric_feature_is_refused(frame):
    bad = frame.assign(Crime=["no", "no", "yes", "yes"])
    with pytest.raises(SchemaError, match="Crime.*numeric"):
        RolesEncoder(ROLES).fit(bad)


def test_a_feature_that_is_the_outcome_is_refused(frame):
    many = pd.concat([frame] * 10, ignore_index=True)
    leaky = many.assign(Crime=many["Out"])
    with pytest.raises(SchemaError, match="Crime.*leakage"):
        RolesEncoder(ROLES).fit(leaky, many["Out"].to_numpy())
    RolesEncoder(ROLES).fit(many, many["Out"].to_numpy())  # the same frame without it fits


def test_clone_and_params_follow_sklearn(frame):
    enc = RolesEncoder(ROLES, include_protected=True)
    again = clone(enc)
    assert again.get_params() == {"roles": ROLES, "include_protected": True}
    np.testing.assert_array_equal(again.fit_transform(frame), enc.fit_transform(frame), strict=True)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 60),
    seed=st.integers(0, 2**32 - 1),
    include_protected=st.booleans(),
)
def test_the_matrix_is_what_the_column_transformer_gives(n, seed, include_protected):
    """The blocks written into one matrix equal scikit-learn's own ColumnTransformer
    output on the prepared frame, NaN for NaN, including levels unseen in fitting."""
    rng = np.random.default_rng(seed)
    fit_rows = pd.DataFrame(
        {
            "Ref": [f"r{i}" for i in range(n)],
            "DV": pd.array(rng.choice([0, 1, None], n), dtype="Int8"),
            "Crime": rng.integers(0, 2, n),
            "LoneParent": rng.integers(0, 2, n).astype(bool),
            "IMD": rng.integers(1, 11, n).astype(float),
            "Eth": pd.Series(rng.choice(["White", "Asian", "Black", None], n), dtype="string"),
            "Disab": rng.choice([0.0, 1.0, np.nan], n),
            "Out": rng.integers(0, 2, n),
        }
    )
    later = fit_rows.sample(frac=1.0, random_state=seed % 1000).assign(
        Eth=pd.Series(rng.choice(["Mixed", "Asian", None], n), dtype="string").to_numpy()
    )
    enc = RolesEncoder(ROLES, include_protected=include_protected).fit(fit_rows)
    for rows in (fit_rows, later):
        expected = enc.column_transformer_.transform(enc._prepared(rows))
        np.testing.assert_array_equal(enc.transform(rows), np.asarray(expected, dtype=float))

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation_model.population import (
    DisclosureRules,
    apply_disclosure_control,
    count_indicators,
    profile_table,
)


def test_profile_table_reproduces_the_paper_shape(small_population):
    t = profile_table(small_population.frame)
    assert list(t.columns) == ["indicator", "label", "role", "share_high_need", "share_all"]
    row = t.set_index("indicator").loc["no_parent_in_work"]
    assert row["share_high_need"] > 0.8 and row["share_all"] < 0.2
    assert t.attrs["group_sizes"]["all"]["families"] == 20_000
    assert t.attrs["group_sizes"]["all"]["high_need_families"] % 5 == 0


def test_profile_table_suppresses_small_cells(small_population):
    frame = small_population.frame
    tiny = frame[frame["authority_code"] == "LA01"].head(300)
    t = profile_table(tiny, by="authority_code")
    col = "share_high_need [LA01]"
    assert t[col].isna().all()  # fewer than 10 high-need families present per indicator
    assert "suppressed" in t.attrs["disclosure_control"]


def test_threshold_is_a_parameter(small_population):
    t3 = profile_table(small_population.frame, threshold=3)
    t5 = profile_table(small_population.frame, threshold=5)
    a = t3.set_index("indicator")["share_high_need"]
    b = t5.set_index("indicator")["share_high_need"]
    assert (b > a).all()


def test_count_indicators_treats_missing_as_not_recorded():
    f = pd.DataFrame({"a": pd.array([1, None, 0], dtype="Int8"), "b": [1, 1, 0]})
    assert count_indicators(f, ["a", "b"]).tolist() == [2, 1, 0]


def test_disclosure_control_rounds_and_suppresses():
    t = pd.DataFrame(
        {"g": ["x", "y", "z"], "n": [123, 7, 50], "events": [12, 3, 0], "rate": [0.1, 0.4, 0.0]}
    )
    out = apply_disclosure_control(
        t, count_columns=["n", "events"], size_column="n", derived_columns=["rate"]
    )
    # 7 is suppressed, and 50 with it so that the total cannot reveal the 7
    assert out["n"].tolist()[0] == 125 and np.isnan(out["n"][1]) and np.isnan(out["n"][2])
    assert np.isnan(out["events"][1])
    assert np.isnan(out["rate"][1])
    assert t["n"].tolist() == [123, 7, 50]  # input untouched
    loose = apply_disclosure_control(
        t, count_columns=["n"], size_column="n", rules=DisclosureRules(min_cell=5, round_to=1)
    )
    assert loose["n"].tolist() == [123, 7, 50]


@settings(max_examples=50, deadline=None)
@given(
    rows=st.lists(
        st.lists(st.sampled_from([0, 1, None]), min_size=3, max_size=3), min_size=0, max_size=30
    )
)
def test_count_indicators_counts_the_ones_row_by_row(rows):
    frame = pd.DataFrame(rows, columns=["a", "b", "c"]).astype("Int8")
    expected = [sum(v == 1 for v in row) for row in rows]
    assert count_indicators(frame, ["a", "b", "c"]).tolist() == expected

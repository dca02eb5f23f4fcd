"""The text helpers give exactly what pandas gives value by value."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation_model._text import as_text, period_labels

_VALUES = st.lists(
    st.one_of(st.none(), st.sampled_from(["LA01", "a b", "É", "1", ""])), max_size=40
)


@settings(max_examples=60, deadline=None)
@given(values=_VALUES, ints=st.booleans())
def test_as_text_is_astype_string(values, ints):
    raw = [None if v is None else (len(v) if ints else v) for v in values]
    for s in (pd.Series(raw, dtype="category"), pd.Series(raw, dtype="object")):
        expected = s.astype("string")
        got = as_text(s)
        pd.testing.assert_series_equal(got, expected)


@settings(max_examples=60, deadline=None)
@given(
    days=st.lists(st.one_of(st.none(), st.integers(-3000, 3000)), max_size=40),
    freq=st.sampled_from(["Q", "M", "Y"]),
)
def test_period_labels_are_the_periods_as_text(days, freq):
    base = pd.Timestamp("2015-01-01")
    dates = pd.Series([pd.NaT if d is None else base + pd.Timedelta(days=d) for d in days])
    dates = dates.astype("datetime64[s]")
    expected = dates.dt.to_period(freq).astype(str).to_numpy()
    got = period_labels(dates, freq)
    assert got.dtype == expected.dtype
    assert [str(v) for v in got] == [str(v) for v in expected]
    np.testing.assert_array_equal(pd.isna(got), pd.isna(expected))

"""Text forms of a frame's columns, computed once per distinct value.

A categorical column of 8,000,000 families holds a few dozen distinct values; turning
it into text value by value (``astype("string")``) makes 8,000,000 strings. These
helpers give the same result from the distinct values and the codes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["as_text", "period_codes", "period_labels"]


def as_text(values: pd.Series) -> pd.Series:
    """``values.astype("string")``: for a categorical column, each category's text is
    made once and taken by the codes (a missing value stays missing).

    >>> s = pd.Series(["b", None, "a", "b"], dtype="category")
    >>> as_text(s).tolist()
    ['b', <NA>, 'a', 'b']
    >>> as_text(s).tolist() == s.astype("string").tolist()
    True
    >>> as_text(s).dtype == s.astype("string").dtype
    True
    """
    dtype = values.dtype
    if not (isinstance(dtype, pd.CategoricalDtype) and _textual(dtype.categories)):
        # numeric categories are not taken: with a missing value pandas converts them
        # through floats ("4.0"), which only the value-by-value path reproduces
        return values.astype("string")
    categories = pd.Series(values.cat.categories).astype("string").array
    taken = categories.take(values.cat.codes.to_numpy(), allow_fill=True)
    return pd.Series(taken, index=values.index, name=values.name)


def _textual(categories: pd.Index) -> bool:
    return pd.api.types.is_string_dtype(categories) or categories.dtype == object


def period_labels(dates: pd.Series, freq: str) -> np.ndarray:
    """``dates.dt.to_period(freq).astype(str).to_numpy()``, each period formatted once.

    >>> d = pd.Series(pd.to_datetime(["2015-02-01", None, "2015-05-20", "2015-03-31"]))
    >>> period_labels(d, "Q").tolist()
    ['2015Q1', nan, '2015Q2', '2015Q1']
    """
    codes, labels = period_codes(dates, freq)
    with_missing = np.append(labels, pd.Series([pd.NaT], dtype="period[D]").astype(str))
    return with_missing[codes]  # code -1 (no date): the last


def period_codes(dates: pd.Series, freq: str) -> tuple[np.ndarray, np.ndarray]:
    """Each date's period as a code into the periods' labels (-1: no date), for
    selecting the families of each period without comparing strings.

    >>> d = pd.Series(pd.to_datetime(["2015-05-20", None, "2015-02-01"]))
    >>> codes, labels = period_codes(d, "Q")
    >>> codes.tolist(), labels.tolist()
    ([0, -1, 1], ['2015Q2', '2015Q1'])
    """
    codes, periods = pd.factorize(dates.dt.to_period(freq))
    return np.asarray(codes), pd.Series(periods).astype(str).to_numpy()

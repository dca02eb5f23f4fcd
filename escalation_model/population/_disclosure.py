"""Disclosure control: the one function every published table passes through."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._limits import DISCLOSURE_MIN_CELL, DISCLOSURE_ROUND_TO

__all__ = ["DisclosureRules", "apply_disclosure_control"]


@dataclass(frozen=True)
class DisclosureRules:
    """Thresholds applied to published counts.

    Parameters
    ----------
    min_cell : int
        Cells counting fewer families than this are suppressed.
    round_to : int
        Counts are rounded to the nearest multiple of this (1 = no rounding).
    """

    min_cell: int = DISCLOSURE_MIN_CELL
    round_to: int = DISCLOSURE_ROUND_TO

    def describe(self) -> str:
        rounding = f"rounded to the nearest {self.round_to}" if self.round_to > 1 else "unrounded"
        return f"cells under {self.min_cell} families suppressed; counts {rounding}"


def apply_disclosure_control(
    table: pd.DataFrame,
    *,
    count_columns: list[str],
    size_column: str,
    derived_columns: list[str] | None = None,
    rules: DisclosureRules | None = None,
) -> pd.DataFrame:
    """Suppress small cells and round counts, returning a new table.

    A row whose ``size_column`` (the number of families it describes) is under
    ``rules.min_cell`` has every count and derived figure suppressed (set to missing).
    Counts are then rounded to the nearest ``rules.round_to``. Derived figures (shares,
    rates) of other rows are kept, since they are computed from unrounded counts of cells
    large enough to publish.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per group.
    count_columns : list of str
        Columns holding counts of families.
    size_column : str
        The column holding each row's number of families (one of ``count_columns``).
    derived_columns : list of str, optional
        Shares or rates computed from the row's families; suppressed with the row.
    rules : DisclosureRules, optional

    Examples
    --------
    >>> t = pd.DataFrame({"area": ["a", "b"], "families": [123, 7], "share": [0.5, 0.1]})
    >>> apply_disclosure_control(t, count_columns=["families"], size_column="families",
    ...                          derived_columns=["share"])["families"].tolist()
    [125.0, nan]
    """
    rules = rules or DisclosureRules()
    out = table.copy()
    small = out[size_column].to_numpy(dtype=float) < rules.min_cell
    for col in count_columns:
        values = out[col].to_numpy(dtype=float)
        if rules.round_to > 1:
            values = np.round(values / rules.round_to) * rules.round_to
        values = np.where(small, np.nan, values)
        # a non-zero count under the threshold inside a larger row is suppressed too
        raw = out[col].to_numpy(dtype=float)
        values = np.where((raw > 0) & (raw < rules.min_cell), np.nan, values)
        out[col] = values
    for col in derived_columns or []:
        out[col] = np.where(small, np.nan, out[col].to_numpy(dtype=float))
    out.attrs["disclosure_control"] = rules.describe()
    return out

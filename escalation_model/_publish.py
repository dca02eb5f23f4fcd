"""What may be published, and how: the disclosure rules (one place for the thresholds),
the rule for a single count and for a share of counts, and one CSV writer, safe to open
in a spreadsheet. Tables pass through
:func:`escalation_model.population.apply_disclosure_control`, which applies these rules.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read by spreadsheet programs as a formula (OWASP "CSV injection"); such cells, and such
column names, are written with a leading apostrophe so they are shown as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._escape import FORMULA_PREFIXES, csv_cell
from ._limits import DISCLOSURE_MIN_CELL, DISCLOSURE_ROUND_TO

__all__ = [
    "COUNT_COLUMNS",
    "FORMULA_PREFIXES",
    "DisclosureRules",
    "neutralise",
    "publish_count",
    "publish_figure",
    "publish_share",
    "write_csv",
]


@dataclass(frozen=True)
class DisclosureRules:
    """Thresholds applied to published counts.

    Parameters
    ----------
    min_cell : int
        Counts from 1 to ``min_cell - 1`` are suppressed, and so is every figure of a row
        describing fewer than ``min_cell`` families. Zero is published.
    round_to : int
        Counts are rounded to the nearest multiple of this (1 = no rounding).
    """

    min_cell: int = DISCLOSURE_MIN_CELL
    round_to: int = DISCLOSURE_ROUND_TO

    def describe(self) -> str:
        rounding = f"rounded to the nearest {self.round_to}" if self.round_to > 1 else "unrounded"
        return (
            f"counts of 1 to {self.min_cell - 1} families suppressed, with a second cell "
            f"suppressed where one could be recovered from a total; counts {rounding}"
        )

    def round(self, counts: Any) -> Any:
        """Counts rounded to the nearest ``round_to`` (the one rounding rule; suppression
        is the caller's: :func:`publish_count`, :func:`publish_share`, tables).

        >>> DisclosureRules().round(np.array([1142.0, 2.0])).tolist()
        [1140.0, 0.0]
        """
        return np.round(np.asarray(counts, dtype=float) / self.round_to) * self.round_to

    def statement(self) -> list[str]:
        """The published-statistics rules, for an information governance lead to sign
        off (the card's "Published statistics" section and the README say the same)."""
        return [
            f"Counts of families from 1 to {self.min_cell - 1} are suppressed (blank); zero "
            f"is published. Where one cell of a row or column is suppressed, a second is "
            "too, so that it cannot be recovered from a total.",
            f"Every other count is rounded to the nearest {self.round_to}.",
            "A figure derived from a suppressed count (its interval, share, ratio or rate) "
            "is suppressed with it. Shares and rates of families are computed from the "
            "rounded counts, so that share x total gives back only a rounded count.",
            f"In the fairness tables a rate is published only where its numerator and "
            f"denominator are both at least {self.min_cell} families; otherwise the cell "
            "reads 'too small to publish'. The audit itself uses every family.",
            "Intervals of observed counts are Poisson intervals of the rounded counts; "
            "intervals of expected counts come from the model's probabilities (Poisson-"
            "binomial), not from counts of families.",
            "No family identifier or individual score is published, logged or shown.",
        ]


def publish_count(value: float, rules: DisclosureRules | None = None) -> float | None:
    """A single count as it may be published: 1 to ``min_cell - 1`` suppressed (None),
    zero kept, anything else rounded to the nearest ``round_to``. The one rule for every
    count outside a table.

    >>> publish_count(0), publish_count(7), publish_count(1142)
    (0.0, None, 1140.0)
    """
    rules = rules or DisclosureRules()
    if value != value or 0 < value < rules.min_cell:  # NaN or a small count
        return None
    return float(rules.round(value))


def publish_share(
    numerator: float | np.ndarray,
    denominator: float | np.ndarray,
    rules: DisclosureRules | None = None,
) -> Any:
    """A share, rate or proportion as it may be published: the ratio of the two counts as
    published (:func:`publish_count`), so that share x published total gives back only a
    published count, never an unrounded one. NaN where either count is suppressed or the
    published denominator is zero. The one rule for every figure that is a ratio of
    counts of families.

    >>> publish_share(1142, 1903), 1140 / 1905
    (0.5984251968503937, 0.5984251968503937)
    >>> publish_share(np.array([7, 0]), np.array([11, 40])).tolist()
    [nan, 0.0]
    """
    rules = rules or DisclosureRules()
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        pub_num, pub_den = rules.round(num), rules.round(den)
        small = ((num > 0) & (num < rules.min_cell)) | ((den > 0) & (den < rules.min_cell))
        out = np.where(small | ~(pub_den > 0), np.nan, pub_num / pub_den)
    return float(out) if out.ndim == 0 else out


def neutralise(value: Any) -> Any:
    """A text value made safe for a spreadsheet (:func:`escalation_model._escape.csv_cell`:
    one line, no formula); other values unchanged.

    >>> neutralise("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise("LA01"), neutralise(-3), neutralise("\\r=cmd")
    ('LA01', -3, "' =cmd")
    """
    return csv_cell(value)


#: Columns of the published tables that are counts of families (rounded, small ones
#: blank): what a check of the published files reads as counts.
COUNT_COLUMNS: frozenset[str] = frozenset(
    {
        "families",
        "observed",
        "families_offered",
        "observed_reached",
        "n_families",
        "n_train",
        "n_test",
        "n_sampled",
        "n_both_sampled",
    }
)

#: Figures that are functions of ranks alone (and so of counts): published to this many
#: decimal places, coarse enough that no count of families can be solved for.
RANK_METRIC_DECIMALS = 3
#: Other figures of the models (Brier score, calibration...): significant figures.
SIGNIFICANT_FIGURES = 4


def publish_figure(value: Any, *, decimals: int | None = None) -> Any:
    """A figure that is not a count of families, as published: to ``decimals`` places if
    given, else to :data:`SIGNIFICANT_FIGURES` significant figures. NaN stays NaN.

    >>> publish_figure(0.876257755), publish_figure(0.876257755, decimals=3)
    (0.8763, 0.876)
    >>> publish_figure(np.array([0.0301234, -1.5e-7])).tolist()
    [0.03012, -1.5e-07]
    """
    x = np.asarray(value, dtype=float)
    if decimals is not None:
        out = np.round(x, decimals)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            mag = np.where((x == 0) | ~np.isfinite(x), 0, np.floor(np.log10(np.abs(x))))
        scale = 10.0 ** (SIGNIFICANT_FIGURES - 1 - mag)
        out = np.round(x * scale) / scale
    return float(out) if out.ndim == 0 else out


def _text_columns(table: pd.DataFrame) -> list[Any]:
    return [
        c
        for c in table.columns
        if pd.api.types.is_object_dtype(table[c])
        or pd.api.types.is_string_dtype(table[c])
        or isinstance(table[c].dtype, pd.CategoricalDtype)
    ]


def write_csv(
    table: pd.DataFrame, path: str | PathLike[str], *, float_format: str = "%.6g"
) -> Path:
    """Write a published table to CSV with every text cell and column name neutralised."""
    path = Path(path)
    safe = table.copy(deep=False)
    for col in _text_columns(safe):
        safe[col] = safe[col].astype(object).map(neutralise)
    safe.columns = [neutralise(str(c)) for c in safe.columns]
    safe.to_csv(path, index=False, float_format=float_format)
    return path

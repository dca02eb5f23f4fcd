"""Writing published tables: one CSV writer, safe to open in a spreadsheet.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read by spreadsheet programs as a formula (OWASP "CSV injection"); such cells, and such
column names, are written with a leading apostrophe so they are shown as text.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["FORMULA_PREFIXES", "neutralise", "write_csv"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text value made safe for a spreadsheet; other values unchanged.

    >>> neutralise("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise("LA01"), neutralise(-3)
    ('LA01', -3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


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

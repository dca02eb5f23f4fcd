"""Problems found in data: one broken rule each, collected into one :class:`SchemaError`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import EscalationModelError

__all__ = ["Problem", "SchemaError", "SchemaWarning"]


#: How many example values a problem quotes.
N_EXAMPLES = 5


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return str(value.date())
    return value


def examples(values: pd.Series) -> tuple[Any, ...]:
    """Up to :data:`N_EXAMPLES` distinct values to quote in a problem (never a family
    identifier: for those, problems quote row numbers)."""
    uniq = pd.unique(values.dropna()) if values.notna().any() else pd.unique(values)
    return tuple(_plain(v) for v in list(uniq)[:N_EXAMPLES])


@dataclass(frozen=True)
class Problem:
    """One broken rule: which column, which rule, example values and the fix."""

    column: str
    rule: str
    fix: str
    role: str | None = None
    examples: tuple[Any, ...] = ()
    n_rows: int | None = None
    file: str | None = None
    rows: tuple[int, ...] = ()

    def __str__(self) -> str:
        where = f"column '{self.column}'"
        if self.file:
            where = f"{self.file}, {where}"
        if self.role:
            where += f" (role '{self.role}')"
        text = f"{where}: {self.rule}"
        if self.n_rows is not None:
            text += f" in {self.n_rows:,} row(s)"
        if self.rows:
            text += " (row " + ", ".join(str(r) for r in self.rows[:N_EXAMPLES]) + ")"
        if self.examples:
            shown = ", ".join(repr(_plain(v)) for v in self.examples)
            text += f"; for example {shown}"
        return f"{text}. Fix: {self.fix}"


class SchemaError(EscalationModelError):
    """The data breaks the contract. ``problems`` lists every broken rule."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = [f"{len(problems)} problem(s) found in the data; nothing was changed:"]
        lines += [f"  {i}. {p}" for i, p in enumerate(problems, 1)]
        super().__init__("\n".join(lines))


class SchemaWarning(UserWarning):
    """Something an analysis should know about but that does not stop the work."""

"""What ``prepare`` found, and the record of it written beside the prepared file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from .._errors import EscalationModelError
from .._publish import DisclosureRules, publish_count
from ..population import EntryHistory
from ..population._handover import AGE_NOT_KNOWN
from ..schema import ColumnRoles, RoleError

__all__ = [
    "PrepareReport",
    "preparation_path",
    "read_entry_history",
    "read_preparation",
    "read_prepared_roles",
    "write_preparation",
]


@dataclass(eq=False)
class PrepareReport:
    """What preparation found (exact counts, in memory; :meth:`lines` publishes them).

    ``rows_read``/``families_read`` count the families table; ``rows_kept``/``families``
    the prepared file; ``returns`` gives each return supplied and the last date it
    covers, ``labelled_to`` the last date every one of them covers (windows ending
    after it are censored); ``notes`` says what was missing or repaired, with the exact
    counts in ``{}`` placeholders published by :meth:`lines`.
    """

    rows_read: int
    families_read: int
    rows_kept: int
    families: int
    profile_dates: int
    children_linked: int
    spells: dict[str, int]
    excluded: dict[str, int] = field(default_factory=dict)
    coverage: dict[str, float] = field(default_factory=dict)
    not_recorded: list[str] = field(default_factory=list)
    definitions: list[str] = field(default_factory=list)
    returns: dict[str, pd.Timestamp] = field(default_factory=dict)
    labelled_to: pd.Timestamp | None = None
    notes: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)
    roles: ColumnRoles | None = None
    entries_into_care: EntryHistory | None = None

    def lines(self, rules: DisclosureRules | None = None) -> list[str]:
        """The report for the screen and the card: counts rounded, small ones withheld."""

        def n(v: int) -> str:
            return _n(publish_count(v, rules), rules)

        out = [
            f"families table: {n(self.rows_read)} rows read ({n(self.families_read)} "
            f"families); kept {n(self.rows_kept)} rows ({n(self.families)} families) at "
            f"{self.profile_dates} profile date(s); children linked: {n(self.children_linked)}",
            "returns read: "
            + ", ".join(f"{k} to {v:%d/%m/%Y}" for k, v in self.returns.items())
            + (
                f"; windows labelled up to {self.labelled_to:%d/%m/%Y}"
                if self.labelled_to is not None
                else ""
            ),
            "spells by level: "
            + (", ".join(f"{k} {n(v)}" for k, v in self.spells.items()) or "none"),
        ]
        out += [f"excluded: {n(v)} rows ({why})" for why, v in self.excluded.items()]
        if self.coverage:
            out.append(
                "indicators known for: "
                + ", ".join(f"{k} {v:.0%}" for k, v in self.coverage.items())
            )
        if self.not_recorded:
            out.append(
                "indicators left out (no record of their codes in the records file, so not "
                "known for any family): " + ", ".join(self.not_recorded)
            )
        out += [f"definition: {d}" for d in self.definitions]
        out += [f"note: {text.format(*(n(c) for c in counts))}" for text, counts in self.notes]
        h = self.entries_into_care
        if h is not None:
            out.append(
                f"entries into care in the labelled windows: {_n(h.entries, rules)} (in "
                f"{_n(h.families, rules)} family windows; birth date not known for "
                f"{_n(h.by_age_band.get(AGE_NOT_KNOWN), rules)})"
            )
        return out


def _n(value: float | None, rules: DisclosureRules | None) -> str:
    """A published count as text ("fewer than N" where suppressed)."""
    threshold = (rules or DisclosureRules()).min_cell
    return f"fewer than {threshold}" if value is None else f"{value:,.0f}"


def preparation_path(data_path: str | PathLike[str]) -> Path:
    """Where ``prepare`` records how a prepared file was made: beside it, as
    ``NAME.preparation.json``.

    >>> preparation_path("out/families.parquet").as_posix()
    'out/families.preparation.json'
    """
    path = Path(data_path)
    return path.with_name(f"{path.stem}.preparation.json")


def write_preparation(report: PrepareReport, data_path: str | PathLike[str]) -> Path:
    """Record the published report (definitions, exclusions, counts rounded) and the
    prepared file's column roles beside it, for ``run`` to read."""
    path = preparation_path(data_path)
    record: dict[str, Any] = {"prepared_by": "escalation-model prepare", "lines": report.lines()}
    if report.roles is not None:
        record["roles"] = report.roles.to_dict()
    if report.entries_into_care is not None:
        record["entries_into_care"] = report.entries_into_care.model_dump()
    path.write_text(json.dumps(record, indent=2) + "\n", "utf-8")
    return path


def _record(data_path: str | PathLike[str]) -> dict[str, Any] | None:
    path = preparation_path(data_path)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
        if not isinstance(data, dict) or data.get("prepared_by") != "escalation-model prepare":
            raise ValueError
        return data
    except (OSError, UnicodeDecodeError, ValueError):
        raise _not_a_record(path) from None


def _not_a_record(path: Path) -> EscalationModelError:
    return EscalationModelError(
        f"{path} is not a preparation record written by escalation-model prepare. "
        "Fix: prepare the file again, or remove the record."
    )


def read_entry_history(data_path: str | PathLike[str]) -> EntryHistory | None:
    """The entries into care ``prepare`` recorded beside a prepared file (published
    counts), for the hand-over to the demand models; None if there is no record or it
    holds none.

    Raises
    ------
    EscalationModelError
        If the record is there but not one ``prepare`` writes.
    """
    data = _record(data_path)
    if data is None or "entries_into_care" not in data:
        return None
    try:
        return EntryHistory.model_validate(data["entries_into_care"])
    except ValidationError:
        raise _not_a_record(preparation_path(data_path)) from None


def read_prepared_roles(data_path: str | PathLike[str]) -> ColumnRoles | None:
    """The column roles ``prepare`` recorded for a prepared file (None without a record,
    or for a record written before roles were recorded).

    Raises
    ------
    EscalationModelError
        If the record is there but its roles are not ones ``prepare`` writes.
    """
    data = _record(data_path)
    if data is None or "roles" not in data:
        return None
    roles = data["roles"]
    try:
        if not isinstance(roles, dict):
            raise RoleError("not a table")
        return ColumnRoles.from_dict(roles)
    except (RoleError, TypeError):
        raise _not_a_record(preparation_path(data_path)) from None


def read_preparation(data_path: str | PathLike[str]) -> list[str]:
    """The lines ``prepare`` recorded beside a prepared file (none if it was not
    prepared by the library).

    Raises
    ------
    EscalationModelError
        If the record is there but not one ``prepare`` writes.
    """
    data = _record(data_path)
    if data is None:
        return []
    lines = data.get("lines")
    if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
        raise _not_a_record(preparation_path(data_path))
    return [str(x)[:500] for x in lines][:50]

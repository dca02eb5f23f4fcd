"""``prepare``: from a council's returns and records to one row per family and date."""

from __future__ import annotations

import glob
import json
import tomllib
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._errors import EscalationModelError
from .._publish import DisclosureRules, publish_count
from ..config import ConfigError
from ..population import EntryHistory
from ..population._handover import AGE_NOT_KNOWN
from ..schema import Problem, SchemaError
from ._cin import CINCensus, read_cin_census
from ._common import parse_return_dates, read_text_csv
from ._early_help import early_help_families, read_early_help_tables
from ._entries import birth_dates, care_entries
from ._labels import label_families
from ._profiles import family_profiles, read_indicator_mapping
from ._spells import SpellDefinitions, statutory_spells
from ._ssda903 import SSDA903, read_ssda903

__all__ = [
    "PrepareConfig",
    "PrepareReport",
    "load_prepare_config",
    "prepare",
    "preparation_path",
    "read_entry_history",
    "read_preparation",
    "write_preparation",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class PrepareInputs(_Strict):
    """The files, relative to the TOML file (globs allowed for the returns)."""

    families: str
    membership: str
    records: str
    mapping: str
    coverage: str | None = None
    ssda903_episodes: list[str] = Field(default_factory=list)
    ssda903_header: list[str] = Field(default_factory=list)
    cin_census: list[str] = Field(default_factory=list)
    early_help: str | list[str] | None = None
    early_help_columns: dict[str, str] = Field(default_factory=dict)
    horizon_months: int = Field(12, ge=1, le=36)


class PrepareDefinitions(_Strict):
    exclude_short_breaks: bool = True
    child_in_need: Literal["referrals", "plans"] = "referrals"


class PrepareConfig(_Strict):
    """``[prepare]`` and ``[definitions]`` of a prepare TOML file."""

    prepare: PrepareInputs
    definitions: PrepareDefinitions = Field(default_factory=PrepareDefinitions)
    base: str = "."

    def path(self, name: str) -> Path:
        return Path(self.base) / name

    def paths(self, patterns: str | list[str]) -> list[Path]:
        """The files each pattern matches, pattern by pattern, each sorted."""
        found: list[Path] = []
        for pattern in [patterns] if isinstance(patterns, str) else patterns:
            found += sorted(Path(p) for p in glob.glob(str(self.path(pattern))))
        return found

    def unmatched(self) -> list[Problem]:
        """A problem for every pattern of the returns and early help that matches no
        file (checked before anything is read)."""
        c = self.prepare
        early = [c.early_help] if isinstance(c.early_help, str) else c.early_help or []
        return [
            Problem(
                key,
                f"no file matches '{pattern}'",
                "check the path, which is relative to the prepare TOML file",
                file=str(self.path(pattern)),
            )
            for key, patterns in (
                ("ssda903_episodes", c.ssda903_episodes),
                ("ssda903_header", c.ssda903_header),
                ("cin_census", c.cin_census),
                ("early_help", early),
            )
            for pattern in patterns
            if not self.paths(pattern)
        ]


def load_prepare_config(path: str | PathLike[str]) -> PrepareConfig:
    """Read and check a prepare TOML file (unknown keys and wrong types refused)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
        return PrepareConfig.model_validate({**data, "base": str(path.parent)})
    except OSError as exc:
        raise ConfigError(f"cannot read {path} ({exc.strerror}). Fix: check the path.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}). Fix: correct the file.") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"{path}: '{key}': {first['msg']}. Fix: see training/configs/prepare_example.toml."
        ) from None


@dataclass(eq=False)
class PrepareReport:
    """What preparation found (exact counts, in memory; :meth:`lines` publishes them)."""

    families: int
    profile_dates: int
    children_linked: int
    spells: dict[str, int]
    excluded: dict[str, int] = field(default_factory=dict)
    coverage: dict[str, float] = field(default_factory=dict)
    definitions: list[str] = field(default_factory=list)
    entries_into_care: EntryHistory | None = None

    def lines(self, rules: DisclosureRules | None = None) -> list[str]:
        """The report for the screen and the card: counts rounded, small ones withheld."""

        def n(v: int) -> str:
            return _n(publish_count(v, rules), rules)

        out = [
            f"families: {n(self.families)} at {self.profile_dates} profile date(s); "
            f"children linked: {n(self.children_linked)}",
            "spells by level: " + ", ".join(f"{k} {n(v)}" for k, v in self.spells.items()),
        ]
        out += [f"excluded: {n(v)} rows ({why})" for why, v in self.excluded.items()]
        out += [
            "indicators known for: " + ", ".join(f"{k} {v:.0%}" for k, v in self.coverage.items())
        ]
        out += [f"definition: {d}" for d in self.definitions]
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
    """Record the published report (definitions, exclusions, counts rounded) beside the
    prepared file, for ``run`` to state on the card."""
    path = preparation_path(data_path)
    record: dict[str, Any] = {"prepared_by": "escalation-model prepare", "lines": report.lines()}
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


#: Per table: the columns it must have, and its date columns (required or not).
_TABLES: dict[str, tuple[tuple[str, ...], dict[str, bool]]] = {
    "families": (("family_id", "profile_date"), {"profile_date": True}),
    "membership": (("family_id", "person_id"), {"valid_from": False, "valid_to": False}),
    "records": (("person_id", "code", "date"), {"date": True}),
    "coverage": (("family_id", "source"), {}),
}


def _read_table(path: Path, what: str) -> tuple[pd.DataFrame, list[Problem]]:
    """A CSV table of ``prepare``'s inputs: ids as text, dates DD/MM/YYYY or ISO per
    value; every problem (unreadable file, missing column, unreadable date) returned."""
    required, date_columns = _TABLES[what]
    frame, problems = read_text_csv(
        path,
        required,
        what=f"the {what} file",
        fix=f"pass the {what} table as a CSV file",
        missing_rule=f"the {what} table lacks a column it must have",
        missing_fix=f"add {{missing}} to the {what} table",
    )
    if problems:
        return frame, problems
    for col, needed in date_columns.items():
        if col in frame.columns:
            frame[col], found = parse_return_dates(
                frame[col], file=str(path), column=col, required=needed
            )
            problems += found
    return frame, problems


def _typed_columns(families: pd.DataFrame) -> pd.DataFrame:
    """The families' own columns read as text: numbers where every value is one (area
    codes and categories stay text), blanks missing."""
    out = families.copy()
    for col in out.columns:
        if col in ("family_id", "profile_date"):
            continue
        text = out[col].replace("", None)
        numbers = pd.to_numeric(text, errors="coerce")
        if numbers.notna().sum() == text.notna().sum() and text.notna().any():
            out[col] = numbers
        else:
            out[col] = text
    return out


@dataclass(eq=False)
class _Inputs:
    """The analyst's tables, read and checked."""

    families: pd.DataFrame
    membership: pd.DataFrame
    records: pd.DataFrame
    coverage: pd.DataFrame | None
    early_help: pd.DataFrame | None


def _read_inputs(config: PrepareConfig) -> _Inputs:
    """Every table but the returns, with every problem reported at once; patterns that
    match no file are reported before anything is read."""
    c = config.prepare
    if problems := config.unmatched():
        raise SchemaError(problems)
    tables: dict[str, pd.DataFrame] = {}
    for what, name in (
        ("families", c.families),
        ("membership", c.membership),
        ("records", c.records),
        ("coverage", c.coverage),
    ):
        if name is not None:
            tables[what], found = _read_table(config.path(name), what)
            problems += found
    early = None
    if c.early_help is not None:
        early, found = read_early_help_tables(config.paths(c.early_help), c.early_help_columns)
        problems += found
    if problems:
        raise SchemaError(problems)
    membership = tables["membership"]
    return _Inputs(
        families=_typed_columns(tables["families"]),
        membership=membership,
        records=tables["records"],
        coverage=tables.get("coverage"),
        early_help=None if early is None else early_help_families(early, membership),
    )


def _read_returns(config: PrepareConfig) -> tuple[SSDA903 | None, CINCensus | None]:
    c = config.prepare
    s903 = (
        read_ssda903(config.paths(c.ssda903_episodes), config.paths(c.ssda903_header) or None)
        if c.ssda903_episodes
        else None
    )
    cin = read_cin_census(config.paths(c.cin_census)) if c.cin_census else None
    return s903, cin


def prepare(config: PrepareConfig) -> tuple[pd.DataFrame, PrepareReport]:
    """One row per family and profile date in the data contract's default names: the
    family's own columns, the indicators from agency records, and the label from the
    returns. Families already in statutory care on the profile date and censored
    windows are excluded and counted. Passes ``schema.validate`` and feeds ``run``."""
    c, d = config.prepare, config.definitions
    inputs = _read_inputs(config)
    families, membership = inputs.families, inputs.membership
    rules = read_indicator_mapping(config.path(c.mapping))
    profiles = family_profiles(
        membership,
        inputs.records,
        families[["family_id", "profile_date"]],
        rules,
        coverage=inputs.coverage,
    )
    s903, cin = _read_returns(config)
    definitions = SpellDefinitions(d.exclude_short_breaks, d.child_in_need)
    spells = statutory_spells(s903, cin, definitions)
    reference = max(cin.reference_dates) if cin is not None and cin.reference_dates else None
    labelled, label_report = label_families(
        profiles[["family_id", "profile_date"]],
        membership,
        spells,
        horizon_months=c.horizon_months,
        reference_date=reference,
        early_help=inputs.early_help,
    )
    kept = labelled[~(labelled["already_statutory"] | labelled["censored"])]
    keys = ["family_id", "profile_date"]
    frame = (
        families.merge(kept[[*keys, "escalated", "outcome_level"]], on=keys, how="inner")
        .merge(profiles, on=keys, how="left")
        .reset_index(drop=True)
    )
    for rule in rules:
        frame[rule.indicator] = frame[rule.indicator].astype("Int8")
    linked = membership[membership["person_id"].isin(set(spells["child_id"]))]
    entries = care_entries(
        labelled,
        membership,
        spells,
        birth_dates(None if s903 is None else s903.children, None if cin is None else cin.children),
        horizon_months=c.horizon_months,
    )
    report = PrepareReport(
        families=int(frame["family_id"].nunique()),
        profile_dates=int(frame["profile_date"].nunique()),
        children_linked=int(linked["person_id"].nunique()),
        spells={k: int(v) for k, v in spells["level"].value_counts().sort_index().items()},
        excluded=label_report.excluded,
        coverage={r.indicator: float(profiles[r.indicator].notna().mean()) for r in rules},
        definitions=definitions.describe(),
        entries_into_care=EntryHistory.from_entries(entries, horizon_months=c.horizon_months)
        if s903 is not None
        else None,
    )
    return frame, report

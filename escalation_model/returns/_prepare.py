"""``prepare``: from a council's returns and records to one row per family and date."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from ..population import EntryHistory
from ..schema import ColumnRoles, Problem, SchemaError
from ..schema._registry import REGISTRY
from ._care import care_checks
from ._cin import CINCensus, read_cin_census
from ._common import parse_return_dates, read_text_csv
from ._early_help import early_help_families, read_early_help_tables
from ._entries import birth_dates, care_entries
from ._labels import label_families
from ._prepare_config import PrepareConfig, PrepareInputs, families_roles, load_prepare_config
from ._profiles import IndicatorRule, family_profiles, read_indicator_mapping
from ._receipt import early_help_receipt
from ._record import (
    PrepareReport,
    preparation_path,
    read_entry_history,
    read_preparation,
    read_prepared_roles,
    write_preparation,
)
from ._spells import SpellDefinitions, statutory_spells, supplied_levels
from ._ssda903 import SSDA903, read_ssda903

__all__ = [
    "PrepareConfig",
    "PrepareReport",
    "load_prepare_config",
    "prepare",
    "preparation_path",
    "read_entry_history",
    "read_preparation",
    "read_prepared_roles",
    "write_preparation",
]

#: Per table: the columns it must have, and its date columns (required or not).
_TABLES: dict[str, tuple[tuple[str, ...], dict[str, bool]]] = {
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


def _families_problems(frame: pd.DataFrame, roles: ColumnRoles, path: str) -> list[Problem]:
    """Every column the families table's roles name that it lacks, and the two keys."""
    problems = []
    for role, fix in (("family_id", "one id per family"), ("profile_date", "the profile dates")):
        if getattr(roles, role) is None:
            problems.append(
                Problem(
                    role,
                    f"the families table has no column '{role}' and [roles] names none",
                    f"name the column that holds {fix} in the prepare file's [roles] table "
                    f'({role} = "YOUR COLUMN")',
                    file=path,
                )
            )
    problems += [
        Problem(
            col,
            f"the column named for role '{role}' is not in the families table",
            f"rename the column, or map role '{role}' to the column that holds it in the "
            "prepare file's [roles] table (or remove the role there)",
            file=path,
        )
        for role, col in roles.assignments()
        if col not in frame.columns
    ]
    return problems


def _profile_dates(frame: pd.DataFrame, roles: ColumnRoles, path: str) -> list[Problem]:
    """Parse the profile dates in place (``date_format`` if the roles give one, else
    DD/MM/YYYY or ISO per value); every family and date once."""
    col = str(roles.profile_date)
    if roles.date_format:
        text = frame[col].str.strip()
        dates = pd.to_datetime(text, format=roles.date_format, errors="coerce")
        bad = dates.isna()
        found = (
            [
                Problem(
                    col,
                    f"dates not written as {roles.date_format}",
                    "correct them, or set date_format in [roles] to how they are written",
                    n_rows=int(bad.sum()),
                    file=path,
                    rows=tuple(int(i) + 2 for i in bad.to_numpy().nonzero()[0][:5]),
                )
            ]
            if bad.any()
            else []
        )
        frame[col] = dates.astype("datetime64[s]")
    else:
        frame[col], found = parse_return_dates(frame[col], file=path, column=col, required=True)
    if found:
        return found
    repeated = frame.duplicated([str(roles.family_id), col], keep="first")
    if repeated.any():
        found.append(
            Problem(
                f"{roles.family_id}, {col}",
                "rows repeated for the same family and profile date (each would be counted twice)",
                "keep one row per family and profile date",
                n_rows=int(repeated.sum()),
                file=path,
                rows=tuple(int(i) + 2 for i in repeated.to_numpy().nonzero()[0][:5]),
            )
        )
    return found


def _read_families(config: PrepareConfig) -> tuple[pd.DataFrame, ColumnRoles, list[Problem]]:
    """The families table with its roles checked (every named column there), its
    profile dates parsed, and its keys renamed ``family_id``/``profile_date``."""
    path = config.path(config.prepare.families)
    frame, problems = read_text_csv(
        path,
        (),
        what="the families file",
        fix="pass the families table as a CSV file",
        missing_rule="",
        missing_fix="",
    )
    roles = families_roles(config.roles, [str(c) for c in frame.columns])
    if problems:
        return frame, roles, problems
    problems = _families_problems(frame, roles, str(path))
    if problems:
        return frame, roles, problems
    problems = _profile_dates(frame, roles, str(path))
    keys = {str(roles.family_id): "family_id", str(roles.profile_date): "profile_date"}
    others = [c for c in frame.columns if c in ("family_id", "profile_date") and c not in keys]
    frame = frame.drop(columns=others).rename(columns=keys)
    return _typed_columns(frame), roles, problems


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
    roles: ColumnRoles
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
    families, roles, problems = _read_families(config)
    tables: dict[str, pd.DataFrame] = {}
    for what, name in (
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
        families=families,
        roles=roles,
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


def _labelled_to(
    s903: SSDA903 | None, cin: CINCensus | None
) -> tuple[dict[str, pd.Timestamp], pd.Timestamp | None]:
    """The last date each return supplied covers (its latest collection year end), and
    the last date all of them cover: a window ending later lacks data the label needs."""
    ends = {}
    if s903 is not None and s903.reference_dates:
        ends["SSDA903"] = max(s903.reference_dates)
    if cin is not None and cin.reference_dates:
        ends["CIN census"] = max(cin.reference_dates)
    return ends, min(ends.values()) if ends else None


def _return_notes(s903: SSDA903 | None, cin: CINCensus | None) -> list[tuple[str, tuple[int, ...]]]:
    """What the returns did not supply, what they held that should be checked, and what
    joining episodes repaired."""
    notes: list[tuple[str, tuple[int, ...]]] = []
    if s903 is None:
        notes.append(
            (
                "SSDA903 not supplied: entry into care is not labelled (a family whose child "
                "entered care is labelled by what the CIN census shows)",
                (),
            )
        )
    elif not len(s903.episodes):
        notes.append(("the SSDA903 episodes files hold no episodes", ()))
    if cin is None:
        notes.append(
            (
                "CIN census not supplied: child protection and child in need are not labelled "
                "(a family with only a plan or a referral is labelled 'none'; 'escalated' "
                "here means entering care)",
                (),
            )
        )
    elif not len(cin.children):
        notes.append(("the CIN census files hold no children", ()))
    for found in [*(s903.notes if s903 else []), *(cin.notes if cin else [])]:
        where = Path(found.file).name if found.file else "a return"
        notes.append((f"{where}, column '{found.column}': {{}} {found.rule}", (found.n_rows or 0,)))
    if s903 is not None and len(s903.episodes):
        notes += care_checks(s903.episodes).notes()
    return notes


def _recorded(rules: list[IndicatorRule], records: pd.DataFrame) -> list[IndicatorRule]:
    """The rules with at least one record of their codes."""
    codes = set(records["code"].astype(str))
    return [r for r in rules if codes.intersection(r.codes)]


def _output_roles(
    roles: ColumnRoles, rules: list[IndicatorRule], *, receipt: bool = False
) -> ColumnRoles:
    """The prepared file's roles: the families table's, the indicators made, the label,
    and early-help receipt with its aligned outcome where an early-help export was read."""
    kind = {r.indicator: REGISTRY[r.indicator].role for r in rules}
    return replace(
        roles,
        think_family=tuple(i for i, k in kind.items() if k == "think_family"),
        secondary=tuple(i for i, k in kind.items() if k == "secondary"),
        outcome="escalated",
        outcome_level="outcome_level",
        early_help="early_help" if receipt else roles.early_help,
        early_help_outcome="early_help_outcome" if receipt else roles.early_help_outcome,
        date_format=None,
    )


def _with_receipt(
    frame: pd.DataFrame,
    inputs: _Inputs,
    spells: pd.DataFrame,
    c: PrepareInputs,
    labelled_to: pd.Timestamp | None,
) -> tuple[pd.DataFrame, list[tuple[str, tuple[int, ...]]]]:
    """The prepared rows with early-help receipt and its aligned outcome
    (:func:`early_help_receipt`), and what the report says of them."""
    assert inputs.early_help is not None
    receipt, r = early_help_receipt(
        frame[["family_id", "profile_date"]],
        inputs.early_help,
        inputs.membership,
        spells,
        within_months=c.early_help_within_months,
        horizon_months=c.horizon_months,
        reference_date=labelled_to,
    )
    cols = ["early_help", "early_help_start", "early_help_outcome"]
    frame = pd.concat([frame, receipt[cols]], axis=1)
    note = (
        f"early help: {{}} profiles followed by early help within "
        f"{c.early_help_within_months} months (their outcome window starts at its start), "
        f"{{}} not (theirs starts {r.median_delay_days} days after the profile, the "
        "recipients' median delay); {} windows without an outcome (already in statutory "
        "care at the window's start, or past the returns) are left out of the evaluation"
    )
    return frame, [(note, (r.recipients, r.comparison, r.without_outcome))]


def prepare(config: PrepareConfig) -> tuple[pd.DataFrame, PrepareReport]:
    """One row per family and profile date: the family's own columns (in its own names),
    the indicators from agency records (in the data contract's names), and the label
    from the returns (``escalated``, ``outcome_level``). Families already in statutory
    care on the profile date and windows past the data a label needs are excluded and
    counted; the report's ``roles`` are the prepared file's. Passes ``schema.validate``
    with those roles and feeds ``run``."""
    c, d = config.prepare, config.definitions
    inputs = _read_inputs(config)
    families, membership = inputs.families, inputs.membership
    rules = read_indicator_mapping(config.path(c.mapping))
    s903, cin = _read_returns(config)
    made = _recorded(rules, inputs.records)
    profiles = family_profiles(
        membership,
        inputs.records,
        families[["family_id", "profile_date"]],
        made,
        coverage=inputs.coverage,
    )
    definitions = SpellDefinitions(d.exclude_short_breaks, d.child_in_need)
    spells = statutory_spells(s903, cin, definitions)
    ends, labelled_to = _labelled_to(s903, cin)
    labelled, label_report = label_families(
        profiles[["family_id", "profile_date"]],
        membership,
        spells,
        horizon_months=c.horizon_months,
        reference_date=labelled_to,
        early_help=inputs.early_help,
    )
    kept = labelled[~(labelled["already_statutory"] | labelled["censored"])]
    keys = ["family_id", "profile_date"]
    frame = (
        families.merge(kept[[*keys, "escalated", "outcome_level"]], on=keys, how="inner")
        .merge(profiles, on=keys, how="left")
        .reset_index(drop=True)
    )
    receipt_notes: list[tuple[str, tuple[int, ...]]] = []
    if inputs.early_help is not None:
        frame, receipt_notes = _with_receipt(frame, inputs, spells, c, labelled_to)
    for rule in made:
        frame[rule.indicator] = frame[rule.indicator].astype("Int8")
    roles = inputs.roles
    frame = frame.rename(columns={"family_id": roles.family_id, "profile_date": roles.profile_date})
    linked = membership[membership["person_id"].isin(set(spells["child_id"]))]
    entries = care_entries(
        labelled,
        membership,
        spells,
        birth_dates(None if s903 is None else s903.children, None if cin is None else cin.children),
        horizon_months=c.horizon_months,
    )
    report = PrepareReport(
        rows_read=len(families),
        families_read=int(families["family_id"].nunique()),
        rows_kept=len(frame),
        families=int(frame[roles.family_id].nunique()),
        profile_dates=int(frame[roles.profile_date].nunique()),
        children_linked=int(linked["person_id"].nunique()),
        spells={k: int(v) for k, v in spells["level"].value_counts().sort_index().items()},
        excluded=label_report.excluded,
        coverage={r.indicator: float(profiles[r.indicator].notna().mean()) for r in made},
        not_recorded=[r.indicator for r in rules if r not in made],
        definitions=definitions.describe(supplied_levels(s903, cin)),
        returns=ends,
        labelled_to=labelled_to,
        notes=_return_notes(s903, cin) + receipt_notes,
        roles=_output_roles(roles, made, receipt=inputs.early_help is not None),
        entries_into_care=EntryHistory.from_entries(entries, horizon_months=c.horizon_months)
        if s903 is not None
        else None,
    )
    return frame, report

"""Early-help spells: a council's own export, in its own column names."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ..schema import Problem, SchemaError
from ._common import (
    Paths,
    as_paths,
    member_during,
    membership_links,
    parse_return_dates,
    read_text_csv,
)

__all__ = ["early_help_families", "read_early_help"]

_ID_COLUMNS = ("family_id", "person_id")


def _read_one(path: str, columns: Mapping[str, str]) -> tuple[pd.DataFrame, list[Problem]]:
    frame, problems = read_text_csv(
        path,
        (),
        what="the early-help file",
        fix="pass the early-help spells exported as CSV",
        missing_rule="",
        missing_fix="",
    )
    if problems:
        return pd.DataFrame(), problems
    frame = frame.rename(columns=dict(columns))
    ids = [c for c in _ID_COLUMNS if c in frame.columns]
    missing = ([] if ids else ["family_id or person_id"]) + [
        c for c in ("start",) if c not in frame.columns
    ]
    if missing:
        theirs = ", ".join(repr(c) for c in frame.columns[:8])
        return pd.DataFrame(), [
            Problem(
                ", ".join(missing),
                f"the early-help file has no such column (it has {theirs})",
                "name the columns in the export, or map them: columns={'Their name': "
                "'start', ...} (early_help_columns in prepare.toml)",
                file=path,
            )
        ]
    out = pd.DataFrame({c: frame[c].str.strip().replace("", None) for c in ids})
    out["start"], problems = parse_return_dates(
        frame["start"], file=path, column="start", required=True
    )
    if "end" in frame.columns:
        out["end"], found = parse_return_dates(
            frame["end"], file=path, column="end", required=False
        )
        problems += found
    else:
        out["end"] = pd.NaT
    return out, problems


def read_early_help_tables(
    paths: Paths, columns: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, list[Problem]]:
    """:func:`read_early_help` returning its problems instead of raising them."""
    parts, problems = [], []
    for path in as_paths(paths):
        frame, found = _read_one(str(path), columns or {})
        parts.append(frame)
        problems += found
    if not parts:
        problems.append(
            Problem("(whole file)", "no early-help file was given", "pass one or more CSV files")
        )
    if problems:
        return pd.DataFrame(), problems
    spells = pd.concat(parts, ignore_index=True)
    keys = [c for c in (*_ID_COLUMNS, "start") if c in spells.columns]
    return spells.drop_duplicates(keys, keep="last", ignore_index=True), []


def read_early_help(paths: Paths, *, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read early-help spells from one or more CSV exports.

    Each row is a spell of a family (``family_id``) or of a person (``person_id``) with
    its ``start`` and, optionally, ``end``; ``columns`` maps the export's own names onto
    these. Dates may be DD/MM/YYYY or ISO, value by value. The same spell in several
    exports is kept once.

    Raises
    ------
    SchemaError
        Every problem in every file at once (file, column, rule, examples, fix).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "eh.csv"
    >>> _ = path.write_text("Family Ref,EH Start\\nF1,03/02/2021\\nF2,2021-05-01\\n")
    >>> eh = read_early_help(path, columns={"Family Ref": "family_id", "EH Start": "start"})
    >>> eh[["family_id", "start"]].astype(str).values.tolist()
    [['F1', '2021-02-03'], ['F2', '2021-05-01']]
    """
    spells, problems = read_early_help_tables(paths, columns)
    if problems:
        raise SchemaError(problems)
    return spells


def early_help_families(spells: pd.DataFrame, membership: pd.DataFrame) -> pd.DataFrame:
    """Early-help spells per family (``family_id, start``): a person's spell goes to the
    families they belong to on its start date (membership ``valid_from``/``valid_to``,
    blank: always); a family's spell stays.

    >>> members = pd.DataFrame({"family_id": ["F", "G"], "person_id": ["p", "p"],
    ...     "valid_to": ["2020-12-31", None], "valid_from": [None, "2021-01-01"]})
    >>> eh = pd.DataFrame({"person_id": ["p"], "start": pd.to_datetime(["2021-03-01"])})
    >>> early_help_families(eh, members).values.tolist()
    [['G', Timestamp('2021-03-01 00:00:00')]]
    """
    parts = []
    has_family = (
        spells["family_id"].notna()
        if "family_id" in spells
        else pd.Series(False, index=spells.index)
    )
    if "family_id" in spells:
        parts.append(spells.loc[has_family, ["family_id", "start"]])
    if "person_id" in spells:
        by_person = spells.loc[~has_family & spells["person_id"].notna(), ["person_id", "start"]]
        linked = by_person.merge(membership_links(membership), on="person_id")
        member = member_during(linked, linked["start"], linked["start"])
        parts.append(linked.loc[member, ["family_id", "start"]])
    if not parts:
        return pd.DataFrame({"family_id": [], "start": []})
    return pd.concat(parts, ignore_index=True)

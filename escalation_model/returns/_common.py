"""What the readers of statutory returns share: paths, dates per value, problems."""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd

from .._files import not_text_table as _not_text_table
from ..schema import Problem
from ..schema._problems import examples

__all__ = [
    "Paths",
    "as_paths",
    "collection_year_end",
    "implausible_dates",
    "member_during",
    "membership_links",
    "parse_return_dates",
    "read_text_csv",
]

Paths = str | PathLike[str] | Sequence[str | PathLike[str]]


def as_paths(paths: Paths) -> list[Path]:
    """One path or several, as a list."""
    if isinstance(paths, str | PathLike):
        return [Path(paths)]
    return [Path(p) for p in paths]


#: The oldest a date in a return can be, in years before its collection year's end: care
#: leavers are supported to 25, so no record of a child in a return is older.
OLDEST_YEARS = 26


def collection_year_end(date: pd.Timestamp) -> pd.Timestamp:
    """The 31 March ending the collection year (1 April to 31 March) that holds ``date``.

    >>> [str(collection_year_end(pd.Timestamp(d)).date()) for d in ("2018-03-31", "2018-04-01")]
    ['2018-03-31', '2019-03-31']
    """
    year = date.year + (1 if date.month >= 4 else 0)
    return pd.Timestamp(year=year, month=3, day=31)


def implausible_dates(
    dates: pd.Series, year_end: pd.Timestamp, *, file: str, column: str, quote: bool = True
) -> list[Problem]:
    """A note (a :class:`Problem` that does not stop the work) for dates more than
    :data:`OLDEST_YEARS` years before the collection year's end: a year typed wrong, or
    a placeholder such as 1900 or 1970 (published sample returns hold such dates).

    >>> s = pd.Series(pd.to_datetime(["1066-10-14", "2019-06-01", "1970-01-01"], format="ISO8601"))
    >>> [p.n_rows for p in implausible_dates(s, pd.Timestamp("2020-03-31"), file="f", column="c")]
    [2]
    """
    if pd.isna(year_end):
        return []
    oldest = year_end - pd.DateOffset(years=OLDEST_YEARS)
    bad = dates.notna() & (dates < oldest)
    if not bad.any():
        return []
    return [
        Problem(
            column,
            f"dates before {oldest:%d/%m/%Y}, more than {OLDEST_YEARS} years before the "
            f"collection year's end ({year_end:%d/%m/%Y}), kept as written: none can fall "
            "in a profile window, but an open record dated so is open on every profile date",
            "check the year in the case system's extract (a placeholder such as 01/01/1900 "
            "is a blank: leave the cell empty)",
            examples=examples(dates[bad].dt.strftime("%d/%m/%Y")) if quote else (),
            n_rows=int(bad.sum()),
            file=file,
        )
    ]


def parse_return_dates(
    values: pd.Series,
    *,
    file: str,
    column: str,
    required: bool,
    first_row: int = 2,
    quote: bool = True,
    row_numbers: Sequence[int] | None = None,
) -> tuple[pd.Series, list[Problem]]:
    """Dates written DD/MM/YYYY or ISO (YYYY-MM-DD, with or without a time), decided
    value by value: returns mix both. A blank is NaT; a blank where ``required``, or a
    value neither format reads, is a problem quoting file rows and (unless ``quote`` is
    False, as for birth dates, which identify people) examples.

    >>> s = pd.Series(["01/04/2020", "2020-04-02", "2020-04-03T00:00:00", ""])
    >>> dates, problems = parse_return_dates(s, file="x.csv", column="DEC", required=False)
    >>> [str(d.date()) for d in dates[:3]], problems
    (['2020-04-01', '2020-04-02', '2020-04-03'], [])
    """
    numbers = (
        list(row_numbers) if row_numbers is not None else range(first_row, first_row + len(values))
    )

    def rows(mask: pd.Series) -> tuple[int, ...]:
        return tuple(int(numbers[i]) for i in mask.to_numpy().nonzero()[0][:5])

    text = values.astype("string").str.strip().fillna("")
    uk = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
    iso = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    dates = uk.fillna(iso).astype("datetime64[s]")
    problems = []
    bad = (text != "") & dates.isna()
    if bad.any():
        problems.append(
            Problem(
                column,
                "dates that are neither DD/MM/YYYY nor YYYY-MM-DD",
                "correct them in the case system's extract (a date such as 31/03/2021)",
                examples=examples(text[bad]) if quote else (),
                n_rows=int(bad.sum()),
                file=file,
                rows=rows(bad),
            )
        )
    blank = text == ""
    if required and blank.any():
        problems.append(
            Problem(
                column,
                "blank dates where every row needs one",
                "fill them, or remove the rows from the extract",
                n_rows=int(blank.sum()),
                file=file,
                rows=rows(blank),
            )
        )
    return dates, problems


def _read_csv(path: str | PathLike[str]) -> pd.DataFrame:
    """Every cell as text: with pyarrow's reader (about twice as fast on large returns),
    and pandas' own where pyarrow cannot read the file, so that an unreadable file raises
    pandas' errors, reported by :func:`read_text_csv`."""
    options: dict[str, Any] = {"dtype": str, "keep_default_na": False, "encoding": "utf-8-sig"}
    try:
        import pyarrow.lib

        try:
            return pd.read_csv(path, engine="pyarrow", **options)
        except (pyarrow.lib.ArrowException, ValueError):
            pass
    except ImportError:  # pragma: no cover - pyarrow comes with the stack
        pass
    return pd.read_csv(path, **options)


def read_text_csv(
    path: str | PathLike[str],
    required: Sequence[str],
    *,
    what: str,
    fix: str,
    missing_rule: str,
    missing_fix: str,
    upper_columns: bool = False,
) -> tuple[pd.DataFrame, list[Problem]]:
    """A CSV read as text (blanks are ``""``), and the columns it must have checked: the
    frame and its problems (an unreadable file, or missing columns), never a parser
    traceback. ``what`` names the file in the message, ``fix`` says what to pass instead;
    ``missing_rule``/``missing_fix`` say what a missing column means here (``{missing}``
    in ``missing_fix`` is replaced by the missing columns).
    """
    if kind := _not_text_table(path):
        problem = Problem("(whole file)", f"{what} is {kind}, not a CSV file", fix, file=str(path))
        return pd.DataFrame(columns=list(required)), [problem]
    try:
        frame = _read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = "cannot be read" if isinstance(exc, OSError) else "is not a readable CSV file"
        problem = Problem(
            "(whole file)", f"{what} {reason} ({type(exc).__name__})", fix, file=str(path)
        )
        return pd.DataFrame(columns=list(required)), [problem]
    if upper_columns:
        frame.columns = [str(c).strip().upper() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        names = ", ".join(missing)
        problem = Problem(names, missing_rule, missing_fix.format(missing=names), file=str(path))
        return frame, [problem]
    return frame, []


def membership_links(membership: pd.DataFrame) -> pd.DataFrame:
    """``family_id, person_id, valid_from, valid_to`` with the dates as datetime64[s]
    (NaT where blank or where the table has no such column: open-ended).

    >>> links = membership_links(pd.DataFrame({"family_id": ["F"], "person_id": ["p"]}))
    >>> links.columns.tolist(), links["valid_to"].isna().item(), str(links["valid_to"].dtype)
    (['family_id', 'person_id', 'valid_from', 'valid_to'], True, 'datetime64[s]')
    """
    out = membership[["family_id", "person_id"]].copy()
    for col in ("valid_from", "valid_to"):
        values = membership[col] if col in membership.columns else pd.NaT
        out[col] = pd.to_datetime(pd.Series(values, index=out.index)).astype("datetime64[s]")
    return out


def member_during(links: pd.DataFrame, start: Any, end: Any) -> pd.Series:
    """Whether each membership (``valid_from``, ``valid_to``) overlaps ``[start, end]``;
    with ``start == end``, whether the person belongs to the family on that date. The one
    rule for membership dates (labels, agency records, early help).

    >>> links = membership_links(pd.DataFrame({"family_id": ["F"], "person_id": ["p"],
    ...     "valid_from": ["2021-01-01"], "valid_to": [None]}))
    >>> day, next_day = pd.Timestamp("2020-12-31"), pd.Timestamp("2021-01-01")
    >>> member_during(links, day, day).item(), member_during(links, day, next_day).item()
    (False, True)
    """
    return (links["valid_from"].isna() | (links["valid_from"] <= end)) & (
        links["valid_to"].isna() | (links["valid_to"] >= start)
    )

"""One date parser for profile dates, used by validation, splits and aggregation.

A date is read only when it can be read for certain:

- ISO 8601 text (``2015-08-08``, with an optional time and offset); offsets are converted
  to UTC, so a column with mixed offsets gives one naive timeline;
- day-first or month-first text (``05/06/2014``) only with an explicit ``date_format``
  (the ``[roles]`` table's ``date_format = "%d/%m/%Y"``), or when the column itself shows
  which it is (some first field above 12 and no second field above 12 means day-first;
  the reverse means month-first); a column where every such date reads both ways is
  refused rather than guessed;
- datetime columns as they are (timezone-aware ones converted to UTC);
- numbers never (``20150808`` and Excel serials would be read as 1970).

Years before :data:`EARLIEST_YEAR` are refused as implausible.
"""

from __future__ import annotations

import re

import pandas as pd

from ._problems import N_EXAMPLES, Problem, examples
from ._roles import ColumnRoles

__all__ = ["EARLIEST_YEAR", "date_problems", "parse_dates", "parse_profile_dates"]

#: Profile dates before this year are refused (a 1970 date usually means a number read as
#: a date; 1600 a typing error).
EARLIEST_YEAR = 1990
_ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([T ].*)?$")
_NUMERIC_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_FIX_FORMAT = (
    "write the dates as YYYY-MM-DD, or name their format in the [roles] table of the roles "
    'file, for example date_format = "%d/%m/%Y"'
)
#: Dates are held to the second, so that years far outside the nanosecond range (1600,
#: 2999) are read and then refused by the plausibility rules, not by an overflow.
_UNIT = "datetime64[s]"


def _local_calendar(parsed: pd.Series) -> pd.Series:
    """Time-zone-aware dates as the calendar dates they are where they were written:
    2014-04-01 00:00 BST stays 1 April (in UTC it is 31 March, another quarter).

    >>> s = pd.Series(pd.to_datetime(["2014-04-01"]).tz_localize("Europe/London"))
    >>> str(_local_calendar(s)[0].date())
    '2014-04-01'
    """
    if getattr(parsed.dt, "tz", None) is not None:
        return parsed.dt.tz_localize(None)
    return parsed


#: A UTC offset at the end of an ISO date-time ("Z", "+01:00", "-0500").
_OFFSET = r"(Z|[+-]\d{2}:?\d{2})$"


def _to_datetime(text: pd.Series, fmt: str) -> pd.Series:
    if fmt == "ISO8601":  # the local date and time as written; the offset dropped
        text = text.str.replace(_OFFSET, "", regex=True)
    utc = "%z" in fmt
    parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=utc)
    return _local_calendar(parsed).astype(_UNIT)


def _day_first(text: pd.Series, column: str, role: str) -> tuple[str | None, list[Problem]]:
    """Which of %d/%m/%Y and %m/%d/%Y the column's numeric dates are, if certain."""
    parts = text.str.extract(_NUMERIC_DMY).astype(float)
    first_big, second_big = bool((parts[0] > 12).any()), bool((parts[1] > 12).any())
    found = re.search(r"[/.\-]", str(text.iloc[0]))
    sep = found.group() if found else "/"
    if first_big and not second_big:
        return f"%d{sep}%m{sep}%Y", []
    if second_big and not first_big:
        return f"%m{sep}%d{sep}%Y", []
    rule = (
        "dates such as these read both as day/month and as month/day, and nothing in the "
        "column says which"
        if not first_big
        else "dates are written sometimes day first and sometimes month first"
    )
    return None, [Problem(column, rule, _FIX_FORMAT, role, examples(text), len(text))]


def parse_dates(
    values: pd.Series,
    column: str,
    *,
    date_format: str | None = None,
    role: str = "profile_date",
) -> tuple[pd.Series, list[Problem]]:
    """Read ``values`` as dates by the rules above.

    Returns the dates (naive, ``datetime64[s]``, missing where absent or unreadable) and
    the problems found, each naming the column, the rule, examples and the fix. Nothing
    is guessed: what cannot be read for certain is a problem, never a silent 1970.

    Examples
    --------
    >>> s = pd.Series(["05/06/2014", "25/12/2014"])
    >>> dates, problems = parse_dates(s, "DateProfiled")
    >>> [str(d.date()) for d in dates], problems
    (['2014-06-05', '2014-12-25'], [])
    >>> _, problems = parse_dates(pd.Series(["05/06/2014"]), "DateProfiled")
    >>> "both as day/month and as month/day" in str(problems[0])
    True
    >>> _, problems = parse_dates(pd.Series([20150808]), "DateProfiled")
    >>> "numbers" in str(problems[0])
    True
    """
    problems: list[Problem] = []
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = _local_calendar(values).astype(_UNIT)
    elif pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        known = values[values.notna()]
        problems.append(
            Problem(
                column,
                "dates are numbers (such as 20150808, a year, or a spreadsheet serial), which "
                "cannot be read as dates for certain",
                _FIX_FORMAT,
                role,
                examples(known),
                len(known),
            )
        )
        parsed = pd.Series(pd.NaT, index=values.index, dtype=_UNIT)
    else:
        parsed, found = _parse_text(values, column, date_format, role)
        problems += found
    early = parsed < pd.Timestamp(EARLIEST_YEAR, 1, 1)
    if early.any():
        problems.append(
            Problem(
                column,
                f"dates before {EARLIEST_YEAR} are not plausible profile dates",
                "correct the dates (a 1970 date usually means a number was read as a date)",
                role,
                tuple(str(d.date()) for d in parsed[early].unique()[:N_EXAMPLES]),
                int(early.sum()),
            )
        )
    return parsed, problems


def _parse_text(
    values: pd.Series, column: str, date_format: str | None, role: str
) -> tuple[pd.Series, list[Problem]]:
    text = values.astype("string").str.strip()
    present = text.notna() & (text != "")
    parsed = pd.Series(pd.NaT, index=values.index, dtype=_UNIT)
    problems: list[Problem] = []
    if date_format:
        parsed[present] = _to_datetime(text[present], date_format)
    else:
        iso = present & text.str.match(_ISO).fillna(False)
        numeric = present & text.str.match(_NUMERIC_DMY).fillna(False)
        if iso.any():
            parsed[iso] = _to_datetime(text[iso], "ISO8601")
        if numeric.any():
            fmt, found = _day_first(text[numeric], column, role)
            problems += found
            if fmt:
                parsed[numeric] = _to_datetime(text[numeric], fmt)
    unread = present & parsed.isna()
    if problems:  # ambiguous dates are reported once, not again as unreadable
        unread &= ~(present & text.str.match(_NUMERIC_DMY).fillna(False))
    if unread.any():
        shown = f"in the format {date_format!r}" if date_format else "as dates"
        problems.append(
            Problem(
                column,
                f"values that cannot be read {shown}",
                _FIX_FORMAT,
                role,
                examples(text[unread]),
                int(unread.sum()),
            )
        )
    return parsed, problems


def date_problems(frame: pd.DataFrame, roles: ColumnRoles) -> list[Problem]:
    """The profile-date problems of ``frame`` (none when it has no profile-date role)."""
    col = roles.profile_date
    if not col or col not in frame.columns:
        return []
    return parse_dates(frame[col], col, date_format=roles.date_format)[1]


def parse_profile_dates(frame: pd.DataFrame, roles: ColumnRoles) -> pd.Series:
    """The profile dates of a frame that passed validation, read by the same rules.

    Raises :class:`SchemaError` if they cannot be read (the frame was not validated).
    """
    from ._problems import SchemaError

    col = str(roles.profile_date)
    if pd.api.types.is_datetime64_dtype(frame[col]) and frame[col].dt.tz is None:
        return frame[col]
    parsed, problems = parse_dates(frame[col], col, date_format=roles.date_format)
    if problems:
        raise SchemaError(problems)
    return parsed

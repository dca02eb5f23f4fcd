"""Reading and writing family-level files, and fingerprints of data."""

from __future__ import annotations

import hashlib
from os import PathLike
from pathlib import Path

import pandas as pd

from .._errors import EscalationModelError
from .._files import not_text_table
from ..schema import ColumnRoles

__all__ = ["DataFileError", "fingerprint", "read_families", "write_families"]


class DataFileError(EscalationModelError):
    """A data file that cannot be read as one row per family; the message names the file,
    the problem and the fix."""


_SEPARATORS = (",", ";", "\t", "|")
_SEPARATOR_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def _header(path: Path, encoding: str) -> tuple[list[str], str]:
    """The header's column names and the separator they are written with."""
    import csv

    try:
        with open(path, encoding=encoding, newline="") as fh:
            first, second = fh.readline(), fh.readline()
    except UnicodeDecodeError:
        raise _encoding_error(path, encoding) from None
    if not first.strip():
        raise DataFileError(
            f"{path}: the file is empty (no header line). Fix: export the extract again with "
            "a header row naming the columns."
        )
    sep = max(_SEPARATORS, key=lambda s: (first.count(s), s == ","))
    if first.count(sep) == 0 and max(second.count(s) for s in _SEPARATORS) > 0:
        raise DataFileError(
            f"{path}: line 1 has no separator but line 2 has some: line 1 looks like a title "
            "above the header, not the header. Fix: delete the lines above the header row."
        )
    return next(csv.reader([first], delimiter=sep)), sep


def _encoding_error(path: Path, encoding: str) -> DataFileError:
    return DataFileError(
        f"{path}: the file is not {encoding} text (a spreadsheet may have saved it as "
        "Windows-1252 or Latin-1). Fix: save it as 'CSV UTF-8', or pass the encoding "
        "(read_families(path, encoding='cp1252'))."
    )


def _text_columns(roles: ColumnRoles | None) -> list[str]:
    """Columns read as text whatever they look like: identifiers, areas, protected groups
    and levels (so ward 0001 stays 0001, and 0001 and 01 stay two wards)."""
    roles = roles if roles is not None else ColumnRoles()
    cols = [roles.family_id, *roles.area, *roles.protected, roles.outcome_level]
    return [c for c in cols if c]


def read_families(
    path: str | PathLike[str],
    roles: ColumnRoles | None = None,
    *,
    encoding: str = "utf-8-sig",
) -> pd.DataFrame:
    """Read a CSV or Parquet file of families, without recoding anything.

    For CSV, the separator (comma, semicolon, tab or vertical bar) is found from the
    header and recorded in ``frame.attrs["read_notes"]`` when it is not a comma; the
    columns of the identifier, area, protected and outcome-level roles are read as text,
    so leading zeros are kept. A repeated column name, an empty file, a file in another
    encoding or with broken rows is refused with :class:`DataFileError` naming the file
    and the fix (never a raw parser error).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file {path} does not exist. Fix: check the path.")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _read_parquet(path)
    if suffix not in (".csv", ".txt", ".tsv"):
        raise DataFileError(
            f"{path}: unsupported file type '{suffix}'. Fix: save it as .csv (UTF-8) or .parquet."
        )
    if kind := not_text_table(path):
        raise DataFileError(
            f"{path} is {kind}, not a CSV file; nothing was read. Fix: export the extract as "
            "a plain CSV (UTF-8), or as .parquet."
        )
    names, sep = _header(path, encoding)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataFileError(
            f"{path}: the header repeats the column name(s) {repeated}, which would be "
            "renamed silently. Fix: give every column a different name."
        )
    text = {c: "string" for c in _text_columns(roles) if c in names}
    try:
        frame = pd.read_csv(path, sep=sep, dtype=text, encoding=encoding)
    except UnicodeDecodeError:
        raise _encoding_error(path, encoding) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        detail = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else ""
        raise DataFileError(
            f"{path}: the rows cannot be read as a table ({type(exc).__name__}: {detail}). "
            "Fix: check that every row has as many fields as the header and that text "
            "holding the separator is quoted."
        ) from None
    if sep != ",":
        frame.attrs["read_notes"] = [
            f"{path.name} is separated by {_SEPARATOR_NAMES[sep]}, not commas; read as such"
        ]
    return frame


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for a damaged or foreign file
        raise DataFileError(
            f"{path}: not a readable Parquet file ({type(exc).__name__}). Fix: write it "
            "again with pandas.DataFrame.to_parquet, or export the extract as CSV."
        ) from None
    repeated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if repeated:
        raise DataFileError(
            f"{path}: repeated column names {repeated}. Fix: give every column a different name."
        )
    return frame


def write_families(
    frame: pd.DataFrame, path: str | PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write a frame to CSV or Parquet (by the file's ending); never replaces a file unless
    ``overwrite=True``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{path} already exists and would be overwritten. Fix: choose another name or "
            "pass overwrite=True (--overwrite on the command line)."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix == ".csv":
        frame.to_csv(path, index=False, date_format="%Y-%m-%d")
    else:
        raise DataFileError(f"{path}: unsupported file type '{suffix}'. Fix: use .csv or .parquet.")
    return path


def fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 of the frame's column names, dtypes and values, in order.

    The same data gives the same fingerprint on any machine; any change of a value, a
    column or the row order changes it.
    """
    h = hashlib.sha256()
    h.update("|".join(f"{c}:{t}" for c, t in frame.dtypes.astype(str).items()).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()

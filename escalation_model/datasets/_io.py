"""Reading and writing family-level files, and fingerprints of data."""

from __future__ import annotations

import hashlib
from os import PathLike
from pathlib import Path

import pandas as pd

__all__ = ["fingerprint", "read_families", "write_families"]


def read_families(path: str | PathLike[str]) -> pd.DataFrame:
    """Read a CSV or Parquet file of families, as written, without recoding anything."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file {path} does not exist. Fix: check the path.")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix in (".csv", ".txt"):
        return pd.read_csv(path)
    raise ValueError(f"{path}: unsupported file type '{suffix}'. Fix: use .csv or .parquet.")


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
        raise ValueError(f"{path}: unsupported file type '{suffix}'. Fix: use .csv or .parquet.")
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

"""What a file plainly is, before any parser sees it."""

from __future__ import annotations

from os import PathLike

__all__ = ["not_text_table"]

#: The first bytes of files often passed where a CSV belongs.
_MAGIC = (
    (b"\x1f\x8b", "gzip-compressed"),
    (b"PK\x03\x04", "a zip archive (an .xlsx workbook is one: save the sheet as CSV)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) workbook"),
    (b"%PDF", "a PDF document"),
    (b"PAR1", "a Parquet file"),
)


def not_text_table(path: str | PathLike[str]) -> str | None:
    """What a file is if it is plainly not a CSV (XML, a workbook, compressed), else None.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = p.write_text('<?xml version="1.0"?><Message/>')
    >>> not_text_table(p)
    'XML (a CIN census is XML: pass it as cin_census)'
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError:
        return None  # reported by the reader, with the reason
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "XML (a CIN census is XML: pass it as cin_census)"
    return None

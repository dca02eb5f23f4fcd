"""Escaping by output context: one function for each place a data-derived string is
written (a CSV cell, Markdown inline text, a Markdown table cell, HTML text, an MLflow
description or tag). Each makes the string inert there: it cannot open a formula, a link,
an image, an element or a new row, whatever Unicode it holds (control characters, CR and
LF, NUL, bidirectional overrides, backslashes). Tested by property over arbitrary text
(``tests/security/test_escaping_properties.py``).
"""

from __future__ import annotations

import html
import re
from typing import Any

__all__ = [
    "FORMULA_PREFIXES",
    "csv_cell",
    "html_text",
    "markdown_cell",
    "markdown_inline",
    "mlflow_text",
    "plain",
]

#: Leading characters a spreadsheet reads as the start of a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

#: Characters that end a line or row somewhere (C0/C1 controls, NUL, DEL, Unicode line and
#: paragraph separators) and bidirectional controls that reorder what a reader sees.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def plain(value: Any) -> str:
    """Text with every control character replaced by a space (one line, shown in the
    order it is stored).

    >>> plain("a\\r=b\\x00c\\u202ed")
    'a =b c d'
    """
    return _CONTROLS.sub(" ", "" if value is None else str(value))


def csv_cell(value: Any) -> Any:
    """A text cell made safe for a spreadsheet: one line, and a leading apostrophe where
    it would start a formula (also after leading spaces, which some programs strip);
    other values unchanged.

    >>> csv_cell("\\r=cmd|calc"), csv_cell("LA01"), csv_cell(-3)
    ("' =cmd|calc", 'LA01', -3)
    """
    if not isinstance(value, str):
        return value
    text = plain(value)
    if text.lstrip().startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


#: Markdown's active characters, each escaped with a backslash (the backslash first).
_MD_ACTIVE = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def markdown_inline(value: Any) -> str:
    """Text inert in Markdown: every active character escaped (backslash included, so
    ``\\[x\\](url)`` stays text), raw HTML escaped, one line.

    >>> markdown_inline("\\\\[x\\\\](http://e) <b>")
    '\\\\\\\\\\\\[x\\\\\\\\\\\\]\\\\(http://e\\\\) &lt;b&gt;'
    """
    text = plain(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_ACTIVE.sub(r"\\\1", text)


def markdown_cell(value: Any) -> str:
    """:func:`markdown_inline` for a table cell (``|`` is escaped there too)."""
    return markdown_inline(value)


def html_text(value: Any) -> str:
    """Text inert in HTML (element and attribute): escaped, one line.

    >>> html_text('<img src=x onerror="a">')
    '&lt;img src=x onerror=&quot;a&quot;&gt;'
    """
    return html.escape(plain(value), quote=True)


def mlflow_text(value: Any, limit: int = 500) -> str:
    """Text for an MLflow description or tag, which the UI renders as Markdown: inert
    there, and no longer than ``limit`` characters.

    >>> mlflow_text("<img src=x onerror=alert(1)>.csv")
    '&lt;img src=x onerror=alert\\\\(1\\\\)&gt;\\\\.csv'
    """
    return markdown_inline(value)[:limit]

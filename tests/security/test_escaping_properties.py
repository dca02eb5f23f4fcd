"""Escaping by context, by property: for arbitrary Unicode (control characters, CR and LF,
NUL, bidirectional overrides, backslashes), the escaped text cannot open a formula, a
link, an image, an element or a new row where it is written. Each renderer is a real one:
Python's csv reader, the markdown the card's HTML is made from (the library's own inline
renderer), html.parser."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation_model._escape import (
    FORMULA_PREFIXES,
    csv_cell,
    html_text,
    markdown_cell,
    markdown_inline,
    mlflow_text,
)
from escalation_model._publish import write_csv
from escalation_model.reporting._render import _md_escape

#: Text an attacker would try, and anything else Hypothesis finds.
NASTY = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from(list("\\[]()=+-@\t\r\n\x00<>!|`*_#\u202e\u2028&;\"'x:"))),
    st.sampled_from(
        ["\r=cmd|calc", "\\[x\\](http://e)", "![i](http://e)", "<img src=x onerror=a>"]
    ),
)


@settings(max_examples=300, deadline=None)
@given(NASTY)
def test_a_csv_cell_stays_one_cell_and_never_a_formula(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("csv")
    write_csv(pd.DataFrame({"area": [text, "next"], "families": [10, 20]}), folder / "t.csv")
    rows = list(csv.reader(io.StringIO((folder / "t.csv").read_text("utf-8"), newline="")))
    assert len(rows) == 3 and all(len(r) == 2 for r in rows)  # no row split, no cell added
    cell = rows[1][0]
    assert not cell.lstrip().startswith(FORMULA_PREFIXES) or cell.startswith("'")
    assert not re.search(r"[\x00-\x1f]", cell)


def _unescaped(md: str) -> bool:
    """Whether Markdown text holds an active character not escaped by a backslash."""
    i = 0
    while i < len(md):
        c = md[i]
        if c == "\\":
            i += 2
            continue
        if c in "[]<>\r\n\x00":
            return True
        i += 1
    return False


@settings(max_examples=300, deadline=None)
@given(NASTY)
def test_markdown_inline_and_cells_open_nothing(text):
    for escaped in (markdown_inline(text), markdown_cell(text), mlflow_text(text, 10_000)):
        assert not _unescaped(escaped)
        assert "|" not in escaped.replace("\\|", "")


@settings(max_examples=300, deadline=None)
@given(NASTY)
def test_the_card_s_markdown_values_open_no_link_or_element(text):
    escaped = _md_escape(text)
    assert "<" not in escaped and ">" not in escaped and "\n" not in escaped
    assert not re.search(r"(?<!\\)(?:\\\\)*\[", escaped.replace("\\\\", ""))


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


@settings(max_examples=300, deadline=None)
@given(NASTY)
def test_html_text_opens_no_element(text):
    parser = _Elements()
    parser.feed(f'<p title="{html_text(text)}">{html_text(text)}</p>')
    assert parser.tags == ["p"]


def test_the_named_cases():
    assert csv_cell("\r=cmd|calc") == "' =cmd|calc"
    assert not _unescaped(markdown_inline("\\[x\\](url)"))
    assert "<img" not in mlflow_text("<img src=x onerror=alert(1)>.csv")
    assert "\x00" not in csv_cell("LA\x0001")

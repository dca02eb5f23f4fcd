"""Rendering a ModelCard through the templates in ``templates/`` (Jinja2)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from ._content import NOT_FOR, PERSON_FIELDS, CardContent

__all__ = ["render_html", "render_markdown"]

SYNTHETIC_BANNER = (
    "SYNTHETIC DATA: these figures describe the library's synthetic population, not real families."
)


def _env(*, markdown: bool = False) -> Any:
    """The templates' environment. HTML: autoescape always on (whatever a template is
    called). Markdown: every interpolated value passes through :func:`_md_escape`."""
    from jinja2 import Environment, PackageLoader

    env = Environment(
        loader=PackageLoader("escalation_model.reporting", "templates"),
        autoescape=not markdown,
        finalize=_md_escape if markdown else None,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cell"] = _cell
    env.filters["inline"] = _inline
    return env


_MD_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",  # first of all: '\\[x\\](url)' must not become a link
        **{chr(c): " " for c in (*range(0x20), 0x7F, 0x2028, 0x2029, *range(0x202A, 0x202F))},
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "|": "\\|",
        "[": "\\[",
        "]": "\\]",
        "\n": " ",
        "\r": " ",
    }
)


def _md_escape(value: Any) -> Any:
    """A value made inert in Markdown: no raw HTML (``<script>``), no links or images
    (``[x](javascript:...)``), no broken table cells (``|``, line breaks). The card's own
    **bold** and `code` marks are kept.

    >>> print(_md_escape("<script>alert(1)</script> | [x](javascript:y)"))
    &lt;script&gt;alert(1)&lt;/script&gt; \\| \\[x\\](javascript:y)
    >>> print(_md_escape("\\\\[x\\\\](http://e)"))
    \\\\\\[x\\\\\\](http://e)
    """
    if value is None:
        return ""
    return str(value).translate(_MD_ESCAPES)


def _inline(text: str) -> Any:
    """Escape, then render Markdown's **bold** and `code` as HTML."""
    import re

    from markupsafe import Markup, escape

    html = str(escape(text))
    html = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html)
    html = re.sub(r"`(.+?)`", r"<code>\1</code>", html)
    return Markup(html)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return "suppressed"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.3g}"
    return str(value)


def _context(card: CardContent, *, embed: bool) -> dict[str, Any]:
    images: dict[str, str] = {}
    if card.plots_dir:
        figures = [f for s in card.sections.values() for f in s.figures]
        for fig in [*card.first_page_figures, *figures]:
            path = Path(card.plots_dir) / fig["file"]
            if path.is_file():
                images[fig["file"]] = (
                    "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
                    if embed
                    else f"plots/{fig['file']}"
                )
    return {
        "card": card,
        "sections": card.ordered_sections(),
        "images": images,
        "not_for": NOT_FOR,
        "banner": SYNTHETIC_BANNER if card.synthetic else "",
        "person_fields": PERSON_FIELDS,
    }


def render_markdown(card: CardContent) -> str:
    return _env(markdown=True).get_template("card.md.j2").render(**_context(card, embed=False))


def render_html(card: CardContent) -> str:
    """One self-contained HTML file: plots embedded, no network needed, printable."""
    return _env().get_template("card.html.j2").render(**_context(card, embed=True))

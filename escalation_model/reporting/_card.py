"""The model card and commissioning report: built from a study's summary, never from
hand-typed figures; rendered through templates (``templates/``).

The reporting modules run one way: the content (:mod:`._content`) and the formats,
then the first page and the sections that fill it (:mod:`._first_page`,
:mod:`._build`), then the renderings (:mod:`._render`); this module, on top, joins them.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

from .._errors import EscalationModelError
from ._build import build_card
from ._content import CardContent
from ._render import render_html, render_markdown
from ._summary import StudySummary

__all__ = ["ModelCard"]


class ModelCard(CardContent):
    """A model card as data. Build it with :meth:`from_summary` (or :meth:`from_study`),
    add to it with the ``add_*`` methods, fill the gaps with :meth:`fill` or
    :meth:`fill_from_toml`, and render it with :mod:`escalation_model.reporting`.

    Attributes
    ----------
    title : str
    synthetic : bool
        Whether the data is the synthetic population; every rendered page says so.
    first_page : list of str
        Plain-English paragraphs for commissioners.
    first_page_figures : list of dict
        The figures printed on the first page (``caption``, ``file``).
    facts : dict
        Every figure the text quotes, by name: ``{"value": number, "text": as printed}``.
    sections : dict of Section
    filled : dict
        Person-only fields filled so far.
    plots_dir : str or None
        Folder holding the run's plots (embedded in the HTML).
    """

    # ------------------------------------------------------------------ building
    @classmethod
    def from_study(cls, result: Any, plots_dir: str | PathLike[str] | None = None) -> ModelCard:
        """Build the card from a :class:`~escalation_model.study.StudyResult`."""
        return cls.from_summary(result.study_summary(), plots_dir=plots_dir)

    @classmethod
    def from_summary(
        cls, summary: StudySummary | dict[str, Any], plots_dir: str | PathLike[str] | None = None
    ) -> ModelCard:
        """Build the card from a run's summary (typed, or ``summary.json``'s data).
        Analyses the run lacks are said to be missing; nothing fails for want of them.

        Raises
        ------
        EscalationModelError
            If ``summary`` does not follow ``summary.schema.json``.
        """
        from pydantic import ValidationError

        if not isinstance(summary, StudySummary):
            try:
                summary = StudySummary.model_validate(summary)
            except ValidationError as exc:
                where = ", ".join(
                    ".".join(str(p) for p in e["loc"]) or "(top)" for e in exc.errors()[:3]
                )
                raise EscalationModelError(
                    f"the summary does not follow summary.schema.json ({exc.error_count()} "
                    f"problem(s), at {where}). Fix: build the card from a summary.json written "
                    "by this version of escalation-model (re-run the study)."
                ) from None
        return build_card(cls, summary, None if plots_dir is None else str(plots_dir))

    def to_markdown(self) -> str:
        return render_markdown(self)

    def to_html(self) -> str:
        return render_html(self)

    def write(self, folder: str | PathLike[str], stem: str = "model_card") -> list[Path]:
        """Write ``stem.md``, ``stem.html`` and ``stem.json`` into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        for suffix, text in (
            ("md", self.to_markdown()),
            ("html", self.to_html()),
            ("json", self.to_json()),
        ):
            path = folder / f"{stem}.{suffix}"
            path.write_text(text, "utf-8")
            out.append(path)
        return out

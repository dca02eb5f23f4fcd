"""The card's content as data: sections, facts, person-only fields and their gaps.

The bottom of the reporting package: the first page and the sections (:mod:`._first_page`,
:mod:`._build`) fill a :class:`CardContent`, the templates (:mod:`._render`) render one,
and :class:`~escalation_model.reporting.ModelCard` (:mod:`._card`) ties them together."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

from .._errors import EscalationModelError

__all__ = [
    "CardContent",
    "CardFieldsError",
    "Headline",
    "NOT_FOR",
    "NOT_FOR_SHORT",
    "Panel",
    "Section",
    "PERSON_FIELDS",
    "SECTION_ORDER",
    "read_card_fields",
]

#: Sections, in order: Mitchell et al. (2019), then the UK Algorithmic Transparency
#: Recording Standard (ATRS) fields.
SECTION_ORDER: tuple[tuple[str, str], ...] = (
    ("model_details", "Model details"),
    ("intended_use", "Intended use"),
    ("factors", "Factors"),
    ("metrics", "Metrics"),
    ("evaluation_data", "Evaluation data"),
    ("training_data", "Training data"),
    ("quantitative_analyses", "Quantitative analyses"),
    ("equality", "Equality page: every group checked"),
    ("impact", "Has it made any difference?"),
    ("rollout", "Has the roll-out across areas made any difference?"),
    ("ethical_considerations", "Ethical considerations"),
    ("published_statistics", "Published statistics (for information governance)"),
    ("caveats_and_recommendations", "Caveats and recommendations"),
    ("owner_and_responsibility", "Owner and responsibility (ATRS)"),
    ("description_and_rationale", "Description and rationale (ATRS)"),
    ("decision_process", "How the tool feeds decisions, and who reviews them (ATRS)"),
    ("technical_specification", "Technical specification and data (ATRS)"),
    ("risks", "Risks (ATRS)"),
    ("mitigations", "Mitigations (ATRS)"),
    ("impact_assessments", "Impact assessments (ATRS)"),
    ("reproducibility", "Reproducing this card"),
    ("glossary", "Glossary"),
)

#: Fields only a person can fill; shown as marked gaps until filled from a TOML file.
PERSON_FIELDS: dict[str, str] = {
    "owner": "the organisation and team that own the model",
    "contact": "a named contact for questions and complaints",
    "senior_responsible_owner": "the senior responsible owner",
    "decision_process": "how outputs feed commissioning decisions, and who reviews them",
    "impact_assessment": "the data protection and equality impact assessments, with dates",
}

NOT_FOR = (
    "This model must not be used to make, inform or prioritise decisions about any "
    "individual family or child, to refer a family, or to decide anyone's eligibility for a "
    "service. It estimates how many families in an area or group are likely to need "
    "statutory children's services, to shape commissioning of early help."
)

#: The prohibition as page one prints it, first and in two lines.
NOT_FOR_SHORT = (
    "Never use it to make, inform or prioritise a decision about a family or child, to refer "
    "anyone, or to decide eligibility: it estimates how many families in an area or group "
    "may need statutory services, to plan early help."
)


@dataclass
class Headline:
    """A figure page one prints in large type, with what it counts and its range."""

    label: str
    value: str
    detail: str = ""


@dataclass
class Panel:
    """One question of page one: at most three short sentences, and its chart."""

    question: str
    sentences: list[str] = field(default_factory=list)
    figure: dict[str, str] | None = None


@dataclass
class Section:
    """One section of the card: prose (Markdown), tables, figures, and whether it holds a
    gap a person must fill."""

    key: str
    title: str
    text: list[str] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)
    figures: list[dict[str, str]] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)


@dataclass
class CardContent:
    """What a card holds: filled by the builders, rendered by the templates. The
    public class is :class:`~escalation_model.reporting.ModelCard`, which adds building
    from a summary and rendering."""

    title: str
    synthetic: bool
    #: page one's notes: the prohibition first, then (synthetic data) what the figures are
    first_page: list[str] = field(default_factory=list)
    headlines: list[Headline] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)
    #: page one's last line: where the glossary and the detail are
    footnote: str = ""
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    sections: dict[str, Section] = field(default_factory=dict)
    filled: dict[str, str] = field(default_factory=dict)
    plots_dir: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ fluent API
    def all_text(self, *, skip: tuple[str, ...] = ()) -> str:
        """Every word the card prints (first page, sections but ``skip``, table captions
        and cells, figure captions), joined: what the glossary and the tests read."""
        parts = [self.page_one()]
        for key, section in self.sections.items():
            if key in skip:
                continue
            parts += [section.title, *section.text]
            parts += [f.get("caption", "") for f in section.figures]
            for table in section.tables:
                parts.append(str(table["caption"]))
                parts += [f"{k} {v}" for row in table["rows"] for k, v in row.items()]
        return "\n".join(parts)

    def page_one(self) -> str:
        """Every word of page one (notes, headline figures, questions, sentences, chart
        captions, the footnote), a line each."""
        parts = [*self.first_page, *(f"{h.value} {h.label} ({h.detail})" for h in self.headlines)]
        for panel in self.panels:
            parts += [panel.question, *panel.sentences]
            parts += [panel.figure["caption"]] if panel.figure else []
        return "\n".join([*parts, self.footnote])

    def panel(self, question: str) -> Panel:
        """Page one's panel answering ``question`` (KeyError if there is none)."""
        for p in self.panels:
            if p.question == question:
                return p
        raise KeyError(question)

    def add_fact(self, name: str, value: float | None, text: str) -> str:
        self.facts[name] = {"value": value, "text": text}
        return text

    def add_section(self, key: str, title: str | None = None) -> Section:
        if key not in self.sections:
            default = dict(SECTION_ORDER).get(key, key.replace("_", " ").capitalize())
            self.sections[key] = Section(key=key, title=title or default)
        return self.sections[key]

    def add_text(self, key: str, *paragraphs: str) -> CardContent:
        self.add_section(key).text.extend(paragraphs)
        return self

    def add_table(self, key: str, caption: str, rows: list[dict[str, Any]]) -> CardContent:
        self.add_section(key).tables.append({"caption": caption, "rows": rows})
        return self

    @property
    def first_page_figures(self) -> list[dict[str, str]]:
        """The charts of page one, in order."""
        return [p.figure for p in self.panels if p.figure]

    def add_figure(self, key: str, caption: str, filename: str) -> CardContent:
        self.add_section(key).figures.append({"caption": caption, "file": filename})
        return self

    def add_gap(self, key: str, field_name: str) -> CardContent:
        self.add_section(key).gaps.append(field_name)
        return self

    def fill(self, **values: str) -> CardContent:
        """Fill person-only fields (``owner``, ``contact``, ``impact_assessment``, ...)."""
        unknown = sorted(set(values) - set(PERSON_FIELDS))
        if unknown:
            raise CardFieldsError(
                f"unknown card field(s) {unknown}. Fix: use only the fillable fields "
                f"{sorted(PERSON_FIELDS)}."
            )
        self.filled.update({k: str(v) for k, v in values.items()})
        return self

    def fill_from_toml(self, path: str | PathLike[str]) -> CardContent:
        """Fill person-only fields from the ``[card]`` table of a TOML file."""
        return self.fill(**read_card_fields(path))

    @property
    def open_gaps(self) -> list[str]:
        gaps = {g for s in self.sections.values() for g in s.gaps}
        return sorted(gaps - set(self.filled))

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict[str, Any]:
        """Plain data (the JSON rendering; validated by ``card.schema.json``)."""
        return {
            "schema_version": "1.0",
            "title": self.title,
            "synthetic_data": self.synthetic,
            "not_for": NOT_FOR,
            "first_page": self.first_page,
            "briefing": {
                "headlines": [vars(h) for h in self.headlines],
                "panels": [vars(p) for p in self.panels],
                "footnote": self.footnote,
            },
            "facts": self.facts,
            "sections": [
                {
                    "key": s.key,
                    "title": s.title,
                    "text": s.text,
                    "tables": s.tables,
                    "figures": s.figures,
                    "gaps": [
                        {
                            "field": g,
                            "description": PERSON_FIELDS.get(g, g),
                            "filled": self.filled.get(g),
                        }
                        for g in s.gaps
                    ],
                }
                for s in self.ordered_sections()
            ],
            "open_gaps": self.open_gaps,
            "provenance": self.provenance,
        }

    def ordered_sections(self) -> list[Section]:
        order = [k for k, _ in SECTION_ORDER]
        keys = sorted(self.sections, key=lambda k: order.index(k) if k in order else len(order))
        return [self.sections[k] for k in keys]

    def to_json(self) -> str:
        """Strict JSON: suppressed or missing figures are ``null``, never ``NaN``."""
        return (
            json.dumps(_clean(self.to_dict()), indent=2, default=_json_default, allow_nan=False)
            + "\n"
        )


class CardFieldsError(EscalationModelError):
    """A ``[card]`` fields file that cannot be used."""


def read_card_fields(path: str | PathLike[str]) -> dict[str, str]:
    """The ``[card]`` table of a TOML file, checked (run it before any work).

    Raises :class:`CardFieldsError` naming the file, the problem and the fix."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise CardFieldsError(f"{path}: not valid TOML ({exc}). Fix: correct the syntax.") from None
    table = data.get("card")
    if not isinstance(table, dict):
        raise CardFieldsError(f"{path}: no [card] table. Fix: put the fields under [card].")
    unknown = sorted(set(table) - set(PERSON_FIELDS))
    not_text = sorted(k for k, v in table.items() if not isinstance(v, str))
    if unknown or not_text:
        what = [f"unknown field(s) {unknown}"] if unknown else []
        what += [f"field(s) that are not text {not_text}"] if not_text else []
        raise CardFieldsError(
            f"{path}: {'; '.join(what)}. Fix: use only {sorted(PERSON_FIELDS)}, each as text "
            'in quotes (owner = "...").'
        )
    return {str(k): str(v) for k, v in table.items()}


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)

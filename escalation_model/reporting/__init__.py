"""The model card and commissioning report: data, templates, and renderings."""

from ._card import PERSON_FIELDS, SECTION_ORDER, ModelCard, Section

__all__ = ["PERSON_FIELDS", "SECTION_ORDER", "ModelCard", "Section"]

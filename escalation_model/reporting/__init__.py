"""The model card and commissioning report: data, templates, and renderings."""

from ._card import ModelCard
from ._content import (
    PERSON_FIELDS,
    SECTION_ORDER,
    CardFieldsError,
    Section,
    read_card_fields,
)

__all__ = [
    "PERSON_FIELDS",
    "SECTION_ORDER",
    "CardFieldsError",
    "ModelCard",
    "Section",
    "read_card_fields",
]

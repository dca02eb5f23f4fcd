"""Column roles, the indicator registry and validation with clear errors."""

from ._registry import (
    AREA_FACTORS,
    ESCALATED_LEVELS,
    HOUSEHOLD,
    OUTCOME_LEVELS,
    PROTECTED,
    REGISTRY,
    SECONDARY,
    THINK_FAMILY,
    Variable,
    label_for,
)
from ._roles import ColumnRoles, RoleError
from ._validate import (
    Problem,
    SchemaError,
    SchemaWarning,
    ValidationReport,
    leakage_problems,
    validate,
)

__all__ = [
    "AREA_FACTORS",
    "ESCALATED_LEVELS",
    "HOUSEHOLD",
    "OUTCOME_LEVELS",
    "PROTECTED",
    "REGISTRY",
    "SECONDARY",
    "THINK_FAMILY",
    "ColumnRoles",
    "Problem",
    "RoleError",
    "SchemaError",
    "SchemaWarning",
    "ValidationReport",
    "Variable",
    "label_for",
    "leakage_problems",
    "validate",
]

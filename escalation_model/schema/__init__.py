"""Column roles, the indicator registry and validation with clear errors."""

from ._dates import parse_dates, parse_profile_dates
from ._notes import NOTES, area_keys
from ._registry import (
    AREA_FACTORS,
    ESCALATED_LEVELS,
    HOUSEHOLD,
    NOT_RECORDED,
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
    CHECKS,
    Problem,
    SchemaError,
    SchemaWarning,
    ValidationReport,
    leakage_problems,
    validate,
)

__all__ = [
    "NOTES",
    "area_keys",
    "AREA_FACTORS",
    "CHECKS",
    "ESCALATED_LEVELS",
    "HOUSEHOLD",
    "NOT_RECORDED",
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
    "parse_dates",
    "parse_profile_dates",
    "validate",
]

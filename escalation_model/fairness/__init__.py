"""Fairness audits built on fairlearn."""

from ._audit import (
    AUDIT_METRICS,
    FairnessAudit,
    Tolerances,
    families_needed,
    holm,
    select_at_capacity,
)
from ._frame import audit_model, sensitive_features_from
from ._mitigation import compare_mitigations

__all__ = [
    "AUDIT_METRICS",
    "FairnessAudit",
    "Tolerances",
    "audit_model",
    "compare_mitigations",
    "families_needed",
    "holm",
    "select_at_capacity",
    "sensitive_features_from",
]

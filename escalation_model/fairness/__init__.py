"""Fairness audits built on fairlearn."""

from ._audit import AUDIT_METRICS, FairnessAudit, Tolerances, select_at_capacity
from ._frame import audit_model, sensitive_features_from
from ._mitigation import compare_mitigations

__all__ = [
    "AUDIT_METRICS",
    "FairnessAudit",
    "Tolerances",
    "audit_model",
    "compare_mitigations",
    "select_at_capacity",
    "sensitive_features_from",
]

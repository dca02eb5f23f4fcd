"""What the fairness audit measures per group: a vocabulary the configuration checks
``[fairness] prioritised`` against, kept below both so that the configuration imports
nothing above it."""

from __future__ import annotations

__all__ = ["AUDIT_METRICS"]

#: Metrics per group, with plain-English names.
AUDIT_METRICS: dict[str, str] = {
    "selection_rate": "share of the group offered early help",
    "true_positive_rate": "share of the group's future escalations reached",
    "false_positive_rate": "share of the group's non-escalating families offered help",
    "false_negative_rate": "share of the group's future escalations missed",
    "precision": "share of the group's offered families who go on to escalate",
    "roc_auc": "ranking quality within the group",
    "mean_predicted": "mean predicted probability",
    "observed_rate": "observed escalation rate",
    "calibration_ratio": "observed over expected escalations (1 = right on average)",
    "brier": "Brier score within the group",
}

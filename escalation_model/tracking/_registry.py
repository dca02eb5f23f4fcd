"""The registry's policy: every run's model becomes a version, described and tagged; the
``candidate`` alias moves only to a comparable run that is not worse.

Comparable: the same kind of data (synthetic or an analyst's file), the same column
roles, capacity and outcome horizon, and at least 80% as many test families as the
current candidate (a small trial run never displaces a full one). Not worse: the primary
model's ROC AUC interval reaches the candidate's estimate. ``champion`` is never set
here: a person sets it (``mlflow`` CLI or ``MlflowClient.set_registered_model_alias``),
as the README documents.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from .._escape import mlflow_text

__all__ = [
    "ALIAS_POLICY",
    "AliasDecision",
    "RegistryFacts",
    "decide_alias",
    "describe_version",
    "registry_facts",
]

MODEL_DESCRIPTION = (
    "Risk of a family's escalation into statutory children's services within 12 months, "
    "for commissioning early help at population level. Never for decisions about individual "
    "families. Each version is one run of escalation-model run; its run holds the model "
    "card and every published table."
)
#: The alias policy, as a tag on the registered model (what the UI shows beside it).
ALIAS_POLICY = (
    "Every run's model becomes a version. 'candidate' moves only to a run whose data and "
    "configuration are comparable with the current candidate's (same kind of data, column "
    "roles, capacity and horizon; at least 80% as many test families) and whose primary "
    "ROC AUC interval reaches the candidate's estimate; otherwise the run's "
    "'registry.candidate' tag says why it did not move. 'champion' is set only by a person "
    "(see the README's MLflow section)."
)
#: Test families a comparable run must have, as a share of the candidate's.
MIN_TEST_SHARE = 0.8


@dataclass(frozen=True)
class RegistryFacts:
    """What the alias policy compares, recorded as version tags."""

    comparison_key: str
    test_families: float
    auc: float | None
    auc_lower: float | None
    auc_upper: float | None

    def tags(self) -> dict[str, str]:
        return {
            "comparison_key": self.comparison_key,
            "test_families": f"{self.test_families:.0f}",
            "primary.roc_auc": "" if self.auc is None else f"{self.auc:.4f}",
            "primary.roc_auc.lower": "" if self.auc_lower is None else f"{self.auc_lower:.4f}",
            "primary.roc_auc.upper": "" if self.auc_upper is None else f"{self.auc_upper:.4f}",
        }

    @classmethod
    def from_tags(cls, tags: dict[str, str]) -> RegistryFacts | None:
        try:
            return cls(
                tags["comparison_key"],
                float(tags["test_families"]),
                *(
                    float(tags[k]) if tags.get(k) else None
                    for k in ("primary.roc_auc", "primary.roc_auc.lower", "primary.roc_auc.upper")
                ),
            )
        except (KeyError, ValueError):
            return None


@dataclass(frozen=True)
class AliasDecision:
    move: bool
    reason: str


def registry_facts(result: Any) -> RegistryFacts:
    """The facts of a finished study that decide whether it may become the candidate."""
    summary = result.study_summary()
    primary = result.config.models.primary
    key = json.dumps(
        {
            "synthetic": result.is_synthetic,
            "roles": result.roles_dict,
            "capacity": result.config.evaluation.capacity,
            "horizon_days": result.config.split.horizon_days,
            "primary": primary,
        },
        sort_keys=True,
        default=str,
    )
    metrics = summary.models.metrics.get(primary, {}) if summary.models else {}
    auc = metrics.get("roc_auc")
    n_test = summary.models.split.n_test if summary.models and summary.models.split else None
    return RegistryFacts(
        comparison_key=hashlib.sha256(key.encode()).hexdigest()[:16],
        test_families=float(n_test or 0),
        auc=None if auc is None else auc.estimate,
        auc_lower=None if auc is None else auc.lower,
        auc_upper=None if auc is None else auc.upper,
    )


def decide_alias(new: RegistryFacts, current: RegistryFacts | None, alias: str) -> AliasDecision:
    """Whether ``alias`` moves from the current version (its facts) to the new one.

    >>> old = RegistryFacts("k", 60000, 0.876, 0.86, 0.89)
    >>> decide_alias(RegistryFacts("k", 10000, 0.87, 0.84, 0.90), old, "candidate").move
    False
    >>> decide_alias(RegistryFacts("k", 60500, 0.875, 0.86, 0.89), old, "candidate").move
    True
    """
    if current is None:
        return AliasDecision(True, f"no version held '{alias}'")
    if new.comparison_key != current.comparison_key:
        return AliasDecision(
            False,
            f"'{alias}' stays: this run is not comparable with it (a different kind of data, "
            "roles, capacity, horizon or primary model)",
        )
    if new.test_families < MIN_TEST_SHARE * current.test_families:
        return AliasDecision(
            False,
            f"'{alias}' stays: this run tested {new.test_families:,.0f} families, fewer than "
            f"{MIN_TEST_SHARE:.0%} of its {current.test_families:,.0f}",
        )
    if None not in (new.auc_upper, current.auc) and new.auc_upper < current.auc:  # type: ignore[operator]
        return AliasDecision(
            False,
            f"'{alias}' stays: this run's ROC AUC ({new.auc:.3f}, up to {new.auc_upper:.3f}) "
            f"is worse than its {current.auc:.3f}",
        )
    return AliasDecision(True, f"comparable with the previous '{alias}' and not worse")


def describe_version(result: Any, facts: RegistryFacts, run_id: str) -> str:
    """The model version's description: data, size, primary metric with its interval."""
    auc = (
        "ROC AUC not estimated"
        if facts.auc is None
        else f"ROC AUC {facts.auc:.3f} ({facts.auc_lower:.3f} to {facts.auc_upper:.3f}) on "
        f"{facts.test_families:,.0f} test families"
    )
    return (
        f"{result.config.models.primary} trained on {mlflow_text(result.data_source)}; {auc}. "
        f"Data fingerprint (SHA-256) {result.data_fingerprint}. Model card: "
        f"runs:/{run_id}/model_card.html. For population-level commissioning only."
    )

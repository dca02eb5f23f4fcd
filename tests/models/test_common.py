"""scikit-learn's own estimator checks over every estimator, with known failures explained."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from escalation_model.models import (
    AreaDeprivationRuleClassifier,
    CalibratedRiskClassifier,
    FivePlusRuleClassifier,
    LightGBMRiskClassifier,
    LogisticRiskClassifier,
)

ESTIMATORS = [
    FivePlusRuleClassifier(),
    AreaDeprivationRuleClassifier(),
    LogisticRiskClassifier(),
    LightGBMRiskClassifier(n_estimators=20, min_child_samples=5),
    CalibratedRiskClassifier(LightGBMRiskClassifier(n_estimators=20, min_child_samples=5)),
]

_RULE_DOES_NOT_LEARN = (
    "a rule is fixed: its ranking is the count of indicators (or the deprivation decile) "
    "and does not learn from X, so it cannot reach the accuracy this check asks for on "
    "sklearn's synthetic blobs"
)


def expected_failed_checks(estimator):
    if isinstance(estimator, FivePlusRuleClassifier | AreaDeprivationRuleClassifier):
        return {"check_classifiers_train": _RULE_DOES_NOT_LEARN}
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)

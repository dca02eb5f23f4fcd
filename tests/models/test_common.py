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


_FRAMES_ARE_READ_THROUGH_ROLES = (
    "a DataFrame is always read through its column roles: a frame of unnamed numeric "
    "columns is refused with a SchemaError rather than read as a plain array, so that an "
    "outcome or identifier column can never become a feature"
)


_LIGHTGBM_COUNTS_ROWS = (
    "LightGBM counts rows, not weights, for min_child_samples and its histogram bins, so "
    "a weight of 2 is not two copies of a family; LightGBM's own estimator checks skip "
    "this check for the same reason (lightgbm-org/LightGBM#6679)"
)


def expected_failed_checks(estimator):
    failed = {
        "check_classifier_data_not_an_array": _FRAMES_ARE_READ_THROUGH_ROLES,
        "check_sample_weights_pandas_series": _FRAMES_ARE_READ_THROUGH_ROLES,
    }
    if isinstance(estimator, LightGBMRiskClassifier):
        failed["check_sample_weight_equivalence_on_dense_data"] = _LIGHTGBM_COUNTS_ROWS
    if isinstance(estimator, FivePlusRuleClassifier | AreaDeprivationRuleClassifier):
        failed["check_classifiers_train"] = _RULE_DOES_NOT_LEARN
    return failed


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)

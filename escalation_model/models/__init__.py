"""Estimators: the rules a council uses today, and the learned models."""

from ._factory import check_hyperparameters, make_models
from ._learned import (
    CalibratedRiskClassifier,
    LightGBMRiskClassifier,
    LogisticRiskClassifier,
    level_rows,
)
from ._persist import file_sha256, load_model, save_model
from ._rules import AreaDeprivationRuleClassifier, FivePlusRuleClassifier
from ._sampling import CaseControlSample, case_control_sample

__all__ = [
    "AreaDeprivationRuleClassifier",
    "CalibratedRiskClassifier",
    "CaseControlSample",
    "FivePlusRuleClassifier",
    "LightGBMRiskClassifier",
    "LogisticRiskClassifier",
    "case_control_sample",
    "check_hyperparameters",
    "file_sha256",
    "level_rows",
    "load_model",
    "make_models",
    "save_model",
]

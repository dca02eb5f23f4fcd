"""Estimators: the rules a council uses today, and the learned models."""

from ._factory import make_models
from ._learned import CalibratedRiskClassifier, LightGBMRiskClassifier, LogisticRiskClassifier
from ._persist import load_model, save_model
from ._rules import AreaDeprivationRuleClassifier, FivePlusRuleClassifier

__all__ = [
    "AreaDeprivationRuleClassifier",
    "CalibratedRiskClassifier",
    "FivePlusRuleClassifier",
    "LightGBMRiskClassifier",
    "LogisticRiskClassifier",
    "load_model",
    "make_models",
    "save_model",
]

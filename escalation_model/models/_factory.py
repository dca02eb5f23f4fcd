"""The default line-up of a study: the two rules and the learned models."""

from __future__ import annotations

from typing import Any

from ..config import ConfigError, ModelsConfig
from ..schema import ColumnRoles
from ._learned import CalibratedRiskClassifier, LightGBMRiskClassifier, LogisticRiskClassifier
from ._rules import AreaDeprivationRuleClassifier, FivePlusRuleClassifier

__all__ = ["make_models", "check_hyperparameters", "FIVE_PLUS_RULE", "AREA_RULE"]

FIVE_PLUS_RULE = "five_plus_rule"
AREA_RULE = "area_rule"


def check_hyperparameters(config: ModelsConfig) -> None:
    """Refuse hyperparameter names the estimators do not have, before any data is read.

    The names are the estimators' own (``get_params``), checked here where the
    estimators live, so the configuration imports nothing above it.

    Examples
    --------
    >>> check_hyperparameters(ModelsConfig(lightgbm={"n_estimators": 50}))
    >>> check_hyperparameters(ModelsConfig(logistic={"c": 1.0}))
    Traceback (most recent call last):
    ...
    escalation_model.config.ConfigError: [models].logistic: unknown hyperparameter(s) ['c'] ...
    """
    estimators = {"lightgbm": LightGBMRiskClassifier, "logistic": LogisticRiskClassifier}
    problems = []
    for name, estimator in estimators.items():
        known = set(estimator().get_params()) - {"roles", "include_protected"}
        unknown = sorted(set(getattr(config, name)) - known)
        if unknown:
            problems.append(
                f"[models].{name}: unknown hyperparameter(s) {unknown} (the estimator has "
                f"{sorted(known)}). Fix: use the estimator's own parameter names, listed "
                "here (include_protected is set in [models] itself)."
            )
    if problems:
        raise ConfigError("\n".join(problems))


def make_models(
    roles: ColumnRoles | None = None,
    *,
    include_protected: bool = False,
    calibrate: bool = True,
    calibration_refit: bool = ModelsConfig.model_fields["calibration_refit"].default,
    random_state: int = 0,
    lightgbm_params: dict[str, Any] | None = None,
    logistic_params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The estimators a study compares, by name (unfitted).

    Returns ``five_plus_rule`` and ``area_rule`` (the rules a council uses today),
    ``logistic`` and ``lightgbm`` (the latter wrapped in held-out calibration when
    ``calibrate=True``; ``calibration_refit`` is :class:`CalibratedRiskClassifier`'s
    ``refit``, by default the run configuration's). Without a ``deprivation`` role there
    is no area rule.

    Examples
    --------
    >>> sorted(make_models())
    ['area_rule', 'five_plus_rule', 'lightgbm', 'logistic']
    """
    gbm = LightGBMRiskClassifier(
        roles=roles,
        include_protected=include_protected,
        random_state=random_state,
        **(lightgbm_params or {}),
    )
    models: dict[str, Any] = {FIVE_PLUS_RULE: FivePlusRuleClassifier(roles=roles)}
    if roles is None or roles.deprivation:  # area-based targeting needs a deprivation decile
        models[AREA_RULE] = AreaDeprivationRuleClassifier(roles=roles)
    return {
        **models,
        "logistic": LogisticRiskClassifier(
            roles=roles, include_protected=include_protected, **(logistic_params or {})
        ),
        "lightgbm": (CalibratedRiskClassifier(gbm, refit=calibration_refit) if calibrate else gbm),
    }

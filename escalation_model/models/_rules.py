"""The rules a council uses today, as scorers that fit the sklearn contract."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.utils.validation import check_is_fitted

from .._limits import FIVE_OR_MORE
from ..schema import ColumnRoles, Problem, SchemaError
from ._base import RiskClassifierBase

__all__ = ["AreaDeprivationRuleClassifier", "FivePlusRuleClassifier"]


class _RuleBase(RiskClassifierBase):
    """A rule: a fixed score; ``fit`` only maps the score to a probability.

    The probability of each score level is learned by isotonic regression on the training
    data, so that Brier score, log loss and calibration can be compared with the models;
    ranking metrics use the raw score (:meth:`decision_function`).
    """

    def _score_matrix(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _fit_matrix(
        self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> None:
        score = self._score_matrix(X)
        self.isotonic_ = IsotonicRegression(
            y_min=1e-6, y_max=1 - 1e-6, increasing=True, out_of_bounds="clip"
        ).fit(score, y, sample_weight=sample_weight)

    def _proba_matrix(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.isotonic_.predict(self._score_matrix(X)))

    def rule_score(self, X: Any) -> np.ndarray:
        """The rule's own score (higher = targeted first)."""
        check_is_fitted(self, "isotonic_")
        return self._score_matrix(self._matrix_for_predict(X))

    def _cutoff(self) -> float:  # pragma: no cover
        raise NotImplementedError

    def proba_and_score(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """``predict_proba(X)[:, 1]`` and ``decision_function(X)`` from one encoding of
        ``X`` (each alone encodes every feature of every family)."""
        matrix = self._matrix_for_predict(X)
        return self._probability(matrix), self._flagged_above_zero(self._score_matrix(matrix))

    def _flagged_above_zero(self, score: np.ndarray) -> np.ndarray:
        return score - self._cutoff() + 0.5

    def decision_function(self, X: Any) -> np.ndarray:
        """The rule's score shifted so that positive means flagged by the rule.

        Ranks families exactly as :meth:`rule_score` does.
        """
        return self._flagged_above_zero(self.rule_score(X))

    def predict(self, X: Any) -> np.ndarray:
        """Flag the families the rule selects."""
        flagged = self.decision_function(X) > 0
        return self.classes_[flagged.astype(int)]


class FivePlusRuleClassifier(_RuleBase):
    """The founding paper's rule: target families with ``threshold`` or more Think Family
    indicators. Score = number of indicators recorded as present.

    Parameters
    ----------
    roles : ColumnRoles, optional
        Column roles; the score counts the ``think_family`` columns. On a plain array the
        score counts the columns equal to 1.
    threshold : int, default=5
        ``predict`` flags families at or above it.

    Examples
    --------
    >>> from escalation_model.datasets import make_synthetic_population
    >>> pop = make_synthetic_population(5_000, random_state=0)
    >>> rule = FivePlusRuleClassifier().fit(pop.frame, pop.frame["escalated"])
    >>> int(rule.rule_score(pop.frame).max()) <= 10
    True
    """

    def __init__(self, roles: ColumnRoles | None = None, threshold: int = FIVE_OR_MORE):
        self.roles = roles
        self.threshold = threshold

    include_protected = False

    def _score_matrix(self, X: np.ndarray) -> np.ndarray:
        if self.encoder_ is not None:
            roles = self.roles if self.roles is not None else ColumnRoles()
            names = list(self.encoder_.get_feature_names_out())
            idx = [names.index(c) for c in roles.think_family]
            X = X[:, idx]
        return np.nansum(X == 1.0, axis=1).astype(float)

    def _cutoff(self) -> float:
        return float(self.threshold)


class AreaDeprivationRuleClassifier(_RuleBase):
    """Area-based targeting: families in the most deprived areas first.

    Score = ``11 - deprivation decile`` (10 for the most deprived decile). On a plain array
    the first column is read as the decile.

    Parameters
    ----------
    roles : ColumnRoles, optional
    most_deprived_deciles : int, default=2
        ``predict`` flags families in deciles ``1 .. most_deprived_deciles`` (the most
        deprived fifth of areas by default).
    """

    def __init__(self, roles: ColumnRoles | None = None, most_deprived_deciles: int = 2):
        self.roles = roles
        self.most_deprived_deciles = most_deprived_deciles

    include_protected = False

    def _score_matrix(self, X: np.ndarray) -> np.ndarray:
        if self.encoder_ is not None:
            roles = self.roles if self.roles is not None else ColumnRoles()
            if not roles.deprivation:
                raise SchemaError(
                    [
                        Problem(
                            "(deprivation)",
                            "area-based targeting needs the 'deprivation' role",
                            "map the 'deprivation' role to your deprivation decile column",
                        )
                    ]
                )
            col = list(self.encoder_.get_feature_names_out()).index(roles.deprivation)
            decile = X[:, col]
        else:
            decile = X[:, 0]
        return 11.0 - np.nan_to_num(decile, nan=11.0)

    def _cutoff(self) -> float:
        return float(11 - self.most_deprived_deciles)

"""Shared machinery of the risk classifiers: roles or plain arrays, binary targets."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ..features import RolesEncoder, uses_roles
from ..schema import ColumnRoles

__all__ = ["RiskClassifierBase"]


class RiskClassifierBase(ClassifierMixin, BaseEstimator):
    """Base of every classifier here.

    ``X`` is either a DataFrame read through column roles (``roles``, or the default roles
    when the frame holds their feature columns), or any numeric array, whose columns are
    then all features. ``y`` must hold exactly two classes; the second of ``classes_`` is
    "escalated". Subclasses implement ``_fit_matrix`` and ``_proba_matrix``.
    """

    roles: ColumnRoles | None
    include_protected: bool
    encoder_: RolesEncoder | None

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        return tags

    # ------------------------------------------------------------------ data handling
    def _matrix_for_fit(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        if uses_roles(X):
            y_arr = np.asarray(y)
            check_classification_targets(y_arr)
            y01 = self._encode_target(y_arr)
            encoder = RolesEncoder(
                self.roles, include_protected=getattr(self, "include_protected", False)
            ).fit(X, y01)
            self.encoder_ = encoder
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
            self.n_features_in_ = X.shape[1]
            return encoder.transform(X), y01
        X_arr, y_arr = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        check_classification_targets(y_arr)
        self.encoder_ = None
        return X_arr, self._encode_target(y_arr)

    def _matrix_for_predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "classes_")
        if self.encoder_ is not None:
            if not hasattr(X, "columns"):
                raise ValueError(
                    "this model was fitted on a DataFrame in column roles; pass a DataFrame "
                    "with the same columns"
                )
            return self.encoder_.transform(X)
        return validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)

    def _encode_target(self, y: np.ndarray) -> np.ndarray:
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ValueError(
                "Only binary classification is supported. The type of the target is "
                f"{y_type}. Escalation is binary: 1 = escalated, 0 = not."
            )
        classes = np.unique(y)
        if classes.size != 2:
            raise ValueError(
                f"escalation models need exactly two classes in y, got {classes.size} "
                f"class(es) {list(classes)[:5]}; check the outcome column"
            )
        self.classes_ = classes
        return (y == classes[1]).astype(np.int64)

    @property
    def feature_names_(self) -> list[str]:
        """Names of the features the model uses, after encoding."""
        check_is_fitted(self, "classes_")
        if self.encoder_ is not None:
            return list(self.encoder_.get_feature_names_out())
        return [f"x{i}" for i in range(self.n_features_in_)]

    @property
    def feature_labels_(self) -> list[str]:
        """Plain-English labels of :attr:`feature_names_`."""
        if self.encoder_ is not None:
            return list(self.encoder_.labels_)
        return self.feature_names_

    # ------------------------------------------------------------------ the contract
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> RiskClassifierBase:
        """Fit on families ``X`` (frame in roles, or array) and outcomes ``y``, each family
        counting ``sample_weight`` times (default 1: the weights of a case-control sample,
        for example, are the inverse of each family's chance of being drawn)."""
        matrix, y01 = self._matrix_for_fit(X, y)
        weight = None if sample_weight is None else _check_sample_weight(sample_weight, matrix)
        self._fit_matrix(matrix, y01, weight)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities of each class, shape ``(n, 2)``; column 1 is escalation."""
        p = self._probability(self._matrix_for_predict(X))
        return np.column_stack([1.0 - p, p])

    def _probability(self, matrix: np.ndarray) -> np.ndarray:
        """The probability of escalation from the encoded matrix, within [0, 1]."""
        return np.clip(self._proba_matrix(matrix), 0.0, 1.0)

    def predict(self, X: Any) -> np.ndarray:
        """The class with the higher probability."""
        p = self.predict_proba(X)[:, 1]
        return self.classes_[(p > 0.5).astype(int)]

    def decision_function(self, X: Any) -> np.ndarray:
        """The ranking score, on the log-odds scale (positive = predicted to escalate)."""
        p = np.clip(self.predict_proba(X)[:, 1], 1e-12, 1 - 1e-12)
        return np.log(p) - np.log1p(-p)

    def _fit_matrix(
        self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> None:  # pragma: no cover
        raise NotImplementedError

    def _proba_matrix(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

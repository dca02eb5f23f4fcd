"""What fairlearn's ThresholdOptimizer would cost: reported, never applied by default."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import roc_auc_score

from .._selection import select_at_capacity

__all__ = ["compare_mitigations"]


class _ScoreAsProbability(ClassifierMixin, BaseEstimator):
    """A prefit 'estimator' whose single input column is already the probability, so that
    ThresholdOptimizer sees the model's scores without re-reading the families."""

    def fit(self, X: Any, y: Any) -> _ScoreAsProbability:
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        p = np.asarray(X, dtype=float)[:, 0]
        return np.column_stack([1 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] > 0.5).astype(int)


def _gaps(y: np.ndarray, selected: np.ndarray, codes: np.ndarray) -> dict[str, float]:
    """The largest gaps between groups (``codes``: each family's group as an integer, as
    from ``pandas.factorize``) with 10 or more families on each side of the outcome."""
    tpr, fpr, sel = [], [], []
    for g in range(int(codes.max(initial=-1)) + 1):
        m = codes == g
        if (y[m] == 1).sum() >= 10 and (y[m] == 0).sum() >= 10:
            tpr.append(selected[m & (y == 1)].mean())
            fpr.append(selected[m & (y == 0)].mean())
            sel.append(selected[m].mean())
    return {
        "true_positive_rate_gap": float(np.ptp(tpr)) if tpr else float("nan"),
        "false_positive_rate_gap": float(np.ptp(fpr)) if fpr else float("nan"),
        "selection_rate_gap": float(np.ptp(sel)) if sel else float("nan"),
    }


def compare_mitigations(
    proba_train: np.ndarray,
    y_train: np.ndarray,
    groups_train: np.ndarray,
    proba_test: np.ndarray,
    y_test: np.ndarray,
    groups_test: np.ndarray,
    *,
    capacity: float | int = 0.05,
    constraints: tuple[str, ...] = ("equalized_odds", "demographic_parity"),
    random_state: int = 0,
) -> pd.DataFrame:
    """Compare the unmitigated model with fairlearn's ``ThresholdOptimizer``.

    The optimiser is fitted on the training families' probabilities and applied to the test
    families. Its predictions are **randomised**: families with the same score and group
    may get different decisions, which is one reason the library reports it and does not
    apply it. Because it chooses its own thresholds, it does not respect the service's
    capacity; the table therefore also shows the unmitigated model at the optimiser's
    selection rate, so the cost is compared like for like.

    Returns
    -------
    pandas.DataFrame
        One row per strategy: selection rate, escalations reached (recall), precision,
        ROC AUC of its score, and the largest gaps between groups in true positive, false
        positive and selection rates.
    """
    from fairlearn.postprocessing import ThresholdOptimizer

    y_train = np.asarray(y_train).astype(int)
    y_test = np.asarray(y_test).astype(int)
    groups_train = np.asarray(pd.Series(groups_train).astype("string").fillna("(missing)"))
    groups_test = np.asarray(pd.Series(groups_test).astype("string").fillna("(missing)"))
    codes_test = pd.factorize(groups_test)[0]  # the groups as integers, compared once each
    model_auc = float(roc_auc_score(y_test, proba_test))  # every unmitigated row's
    rows = []

    def row(name: str, selected: np.ndarray, auc: float, note: str) -> None:
        reached = selected[y_test == 1].mean()
        rows.append(
            {
                "strategy": name,
                "selection_rate": float(selected.mean()),
                "escalations_reached": float(reached),
                "precision": float(y_test[selected].mean()) if selected.any() else float("nan"),
                "roc_auc": auc,
                **_gaps(y_test, selected, codes_test),
                "note": note,
            }
        )

    base_sel = select_at_capacity(proba_test, capacity, random_state)
    row("unmitigated at capacity", base_sel, model_auc, "highest risk first, up to capacity")
    for constraint in constraints:
        opt = ThresholdOptimizer(
            estimator=_ScoreAsProbability().fit(None, None),
            constraints=constraint,
            objective="balanced_accuracy_score",
            prefit=True,
            predict_method="predict_proba",
        )
        opt.fit(proba_train[:, None], y_train, sensitive_features=groups_train)
        chosen = np.asarray(
            opt.predict(
                proba_test[:, None], sensitive_features=groups_test, random_state=random_state
            )
        ).astype(bool)
        pmf = opt._pmf_predict(proba_test[:, None], sensitive_features=groups_test)[:, 1]
        row(
            f"ThresholdOptimizer ({constraint})",
            chosen,
            float(roc_auc_score(y_test, pmf)),
            "randomised decisions; thresholds per group; ignores capacity",
        )
        same = select_at_capacity(proba_test, max(int(chosen.sum()), 1), random_state)
        row(
            f"unmitigated at the same selection rate as {constraint}",
            same,
            model_auc,
            "for a like-for-like comparison",
        )
    return pd.DataFrame(rows)

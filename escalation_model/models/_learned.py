"""Learned models: regularised logistic regression and LightGBM, and held-out calibration."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from .._threads import capped
from ..schema import ColumnRoles
from ._base import RiskClassifierBase

__all__ = [
    "CalibratedRiskClassifier",
    "LightGBMRiskClassifier",
    "LogisticRiskClassifier",
    "level_rows",
]


class LogisticRiskClassifier(RiskClassifierBase):
    """Regularised logistic regression, readable as a table of odds ratios.

    Missing ("not known") indicators are imputed as 0 and flagged by an added indicator
    column, so "not known" has its own coefficient; features are then standardised.

    Parameters
    ----------
    roles : ColumnRoles, optional
    C : float, default=1.0
        Inverse strength of the L2 penalty.
    include_protected : bool, default=False
        Use protected characteristics as features (off unless the analyst opts in).
    max_iter : int, default=1000

    Examples
    --------
    >>> from escalation_model.datasets import make_synthetic_population
    >>> pop = make_synthetic_population(20_000, random_state=0)
    >>> lr = LogisticRiskClassifier().fit(pop.frame, pop.frame["escalated"])
    >>> table = lr.odds_ratios()
    >>> bool(table.set_index("feature").loc["domestic_abuse", "odds_ratio"] > 1)
    True
    """

    def __init__(
        self,
        roles: ColumnRoles | None = None,
        C: float = 1.0,
        include_protected: bool = False,
        max_iter: int = 1000,
    ):
        self.roles = roles
        self.C = C
        self.include_protected = include_protected
        self.max_iter = max_iter

    def _fit_matrix(
        self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> None:
        self.pipeline_ = Pipeline(
            [
                (
                    "impute",
                    SimpleImputer(
                        strategy="constant",
                        fill_value=0.0,
                        add_indicator=True,
                        keep_empty_features=True,
                    ),
                ),
                # in place on the imputer's own output (a fresh matrix): the same
                # values without a third copy of the training matrix
                ("scale", StandardScaler(copy=False)),
                ("model", LogisticRegression(C=self.C, max_iter=self.max_iter)),
            ]
        ).fit(X, y, scale__sample_weight=sample_weight, model__sample_weight=sample_weight)
        self.n_iter_ = self.pipeline_.named_steps["model"].n_iter_

    def _proba_matrix(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.pipeline_.predict_proba(X)[:, 1])

    def odds_ratios(self) -> pd.DataFrame:
        """Odds ratio per unit of each feature (per indicator present, per decile).

        Rows for "not known" flags compare families whose value is not recorded with
        families recorded as 0. Coefficients are on the original scale (the standardised
        coefficient divided by the feature's standard deviation).
        """
        check_is_fitted(self, "pipeline_")
        imputer: SimpleImputer = self.pipeline_.named_steps["impute"]
        scaler: StandardScaler = self.pipeline_.named_steps["scale"]
        model: LogisticRegression = self.pipeline_.named_steps["model"]
        names = list(self.feature_names_)
        labels = list(self.feature_labels_)
        if imputer.indicator_ is not None:
            for j in imputer.indicator_.features_:
                names.append(f"{names[j]} not known")
                labels.append(f"{labels[j]}: not known")
        scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
        coef = model.coef_[0] / scale
        return pd.DataFrame(
            {
                "feature": names,
                "label": labels,
                "coefficient": coef,
                "odds_ratio": np.exp(coef),
                "standardised_coefficient": model.coef_[0],
            }
        ).sort_values("standardised_coefficient", ascending=False, ignore_index=True)


class LightGBMRiskClassifier(RiskClassifierBase):
    """Gradient-boosted trees (LightGBM), optionally monotone in every indicator.

    With ``monotone=True`` (and data in roles), an extra indicator or household factor can
    never lower the predicted risk, and a less deprived decile can never raise it.

    Parameters
    ----------
    roles : ColumnRoles, optional
    n_estimators, learning_rate, num_leaves, min_child_samples, subsample, colsample_bytree,
    reg_lambda : LightGBM hyperparameters. ``n_estimators=200`` (with the learning rate
        of 0.03): with 400 trees the predictions were too spread (calibration slope 0.97
        on the test year, and the expected escalations in the model's own top 5%
        overstated by 2.8% over 6 populations of 300,000); with 200, slope 1.01 and
        -0.3%, with the same ROC AUC to four decimals (``evaluation/bench_coverage.py``).
    monotone : bool, default=True
    include_protected : bool, default=False
    random_state : int, default=0
    n_jobs : int, default=2
        Threads; at most ``OMP_NUM_THREADS`` when that is set (the numbers do not
        depend on it).

    Examples
    --------
    >>> from escalation_model.datasets import make_synthetic_population
    >>> pop = make_synthetic_population(20_000, random_state=0)
    >>> gbm = LightGBMRiskClassifier(n_estimators=50).fit(pop.frame, pop.frame["escalated"])
    >>> gbm.predict_proba(pop.frame).shape
    (20000, 2)
    """

    def __init__(
        self,
        roles: ColumnRoles | None = None,
        n_estimators: int = 200,
        learning_rate: float = 0.03,
        num_leaves: int = 15,
        min_child_samples: int = 100,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        monotone: bool = True,
        include_protected: bool = False,
        random_state: int = 0,
        n_jobs: int = 2,
    ):
        self.roles = roles
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.monotone = monotone
        self.include_protected = include_protected
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _fit_matrix(
        self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> None:
        from lightgbm import LGBMClassifier

        params: dict[str, Any] = dict(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            subsample=self.subsample,
            subsample_freq=1 if self.subsample < 1 else 0,
            colsample_bytree=self.colsample_bytree,
            reg_lambda=self.reg_lambda,
            random_state=self.random_state,
            n_jobs=capped(self.n_jobs),
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        )
        if self.monotone and self.encoder_ is not None:
            params["monotone_constraints"] = list(self.encoder_.monotone_)
            params["monotone_constraints_method"] = "advanced"
        self.booster_model_ = LGBMClassifier(**params).fit(X, y, sample_weight=sample_weight)

    def _proba_matrix(self, X: np.ndarray) -> np.ndarray:
        proba = np.asarray(self.booster_model_.predict_proba(X))
        return proba[:, 1]

    def predict_log_odds(self, X: Any) -> np.ndarray:
        """The model's raw score (log-odds), the scale on which SHAP values add up."""
        matrix = self._matrix_for_predict(X)
        return np.asarray(self.booster_model_.predict(matrix, raw_score=True))


class CalibratedRiskClassifier(RiskClassifierBase):
    """Calibrate a model's probabilities on held-out data, but only where that helps.

    ``fit`` trains the model on the earlier ``1 - holdout`` share of the rows (by profile
    date when the data is in roles) and compares, on the later share, the log loss of its
    raw probabilities with that of two calibrations, each cross-fitted in two halves so
    the comparison is out of sample: a logistic recalibration (an intercept and a slope on
    the log-odds: it corrects predictions that are too spread, or shifted by the time
    between the periods, with two parameters) and isotonic regression (any monotone map,
    at the cost of ties and of variance on rare outcomes). The one with the lowest
    held-out log loss is kept (fitted on the whole later share) on top of the model fitted
    on the earlier share; all are monotone, so the ranking is the model's. Otherwise the
    model is used as it is: with ``refit=True`` it is first
    refitted on all rows (a second fit, so about twice the time); with ``refit=False`` the
    model fitted on the earlier share is kept, as in the usual train / calibration-set
    practice. The decision, both figures and the rows the final model learned from are in
    ``calibration_report_``.

    Parameters
    ----------
    estimator : RiskClassifierBase
        The model to calibrate (for example :class:`LightGBMRiskClassifier`).
    holdout : float, default=0.2
        Share of the rows (the latest, by profile date) held out for the check.
    methods : tuple of {"logistic", "isotonic"}, default=("logistic", "isotonic")
        The calibrations compared with the raw probabilities (none: only the check). One
        is kept only if it lowers the held-out log loss by more than two standard errors
        of the paired difference (``CALIBRATION_MARGIN_SE``), so that neither a tie nor
        the probability floor decides.
    floor : float, default=1e-6
        Probabilities are kept within this of 0 and 1 when scoring the check.
    refit : bool, default=True
        Refit on all rows when calibration is not kept. On 1,000,000 synthetic families
        (600,784 training rows) this moved the test ROC AUC by 0.0001 and doubled the
        fitting time (``evaluation/bench_stages.py``); on small data it matters more.
    """

    def __init__(
        self,
        estimator: Any = None,
        holdout: float = 0.2,
        refit: bool = True,
        methods: tuple[str, ...] = ("logistic", "isotonic"),
        floor: float = 1e-6,
    ):
        self.estimator = estimator
        self.holdout = holdout
        self.refit = refit
        self.methods = methods
        self.floor = floor

    @property
    def roles(self) -> ColumnRoles | None:  # type: ignore[override]
        return getattr(self.estimator, "roles", None)

    # no sample weights: the held-out check and the calibrations are unweighted
    def fit(self, X: Any, y: Any) -> CalibratedRiskClassifier:  # type: ignore[override]
        unknown = set(self.methods) - {"logistic", "isotonic"}
        if unknown:
            raise ValueError(
                f"unknown calibration method(s) {sorted(unknown)}. "
                "Fix: use 'logistic' and/or 'isotonic'."
            )
        base = self.estimator if self.estimator is not None else LightGBMRiskClassifier()
        if not isinstance(X, pd.DataFrame):
            X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        y_arr = np.asarray(y)
        self._encode_target(y_arr)
        n = len(y_arr)
        order = np.arange(n)
        if isinstance(X, pd.DataFrame):
            roles = self.roles if self.roles is not None else ColumnRoles()
            if roles.profile_date and roles.profile_date in X.columns:
                order = np.argsort(X[roles.profile_date].to_numpy(), kind="stable")
        cut = int(round(n * (1 - self.holdout)))
        early, late = order[:cut], order[cut:]

        def rows(idx: np.ndarray) -> Any:
            return X.iloc[idx] if isinstance(X, pd.DataFrame) else np.asarray(X)[idx]

        half = len(late) // 2
        checkable = all(
            np.unique(y_arr[part]).size == 2 for part in (early, late[:half], late[half:])
        )
        if not checkable:
            # too little data to judge calibration out of sample: use the model as it is
            self.calibration_report_ = {
                "holdout_rows": int(len(late)),
                "calibrated": False,
                "reason": "both outcomes are not present in every part of the holdout",
                "model_rows": int(n),
            }
            self.model_ = clone(base).fit(X, y_arr)
            self.calibrator_ = None
            return self._finish_fit()
        model = clone(base).fit(rows(early), y_arr[early])
        y_late = (y_arr[late] == self.classes_[1]).astype(int)
        p_late = model.predict_proba(rows(late))[:, 1]
        per_family = {"raw": _family_losses(y_late, p_late, self.floor)}
        for method in self.methods:
            crossed = np.empty_like(p_late)
            for a, b in ((slice(0, half), slice(half, None)), (slice(half, None), slice(0, half))):
                fitted = _calibrator(method, p_late[a], y_late[a], self.floor)
                crossed[b] = _apply(fitted, p_late[b])
            per_family[method] = _family_losses(y_late, crossed, self.floor)
        losses = {k: float(v.mean()) for k, v in per_family.items()}
        best = _clearly_best(per_family)
        self.calibration_report_ = {
            "holdout_rows": int(len(late)),
            "log_loss_raw": losses["raw"],
            "log_loss_logistic": losses.get("logistic"),
            "log_loss_isotonic": losses.get("isotonic"),
            "log_loss_calibrated": losses[best],
            "calibrated": best != "raw",
            "method": best,
        }
        self.model_, self.calibrator_ = model, None
        if best != "raw":
            self.calibrator_ = _calibrator(best, p_late, y_late, self.floor)
        elif self.refit:
            self.model_ = clone(base).fit(X, y_arr)
        refitted = self.model_ is not model
        self.calibration_report_["model_rows"] = int(n if refitted else len(early))
        return self._finish_fit()

    def _finish_fit(self) -> CalibratedRiskClassifier:
        self.encoder_ = getattr(self.model_, "encoder_", None)
        if self.encoder_ is not None:
            self.n_features_in_ = self.model_.n_features_in_
            self.feature_names_in_ = self.model_.feature_names_in_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        if not isinstance(X, pd.DataFrame) or self.encoder_ is None:
            X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        p = self.model_.predict_proba(X)[:, 1]
        if self.calibrator_ is not None:
            p = _apply(self.calibrator_, p)
        return np.column_stack([1.0 - p, p])


def _log_loss(y: np.ndarray, p: np.ndarray, floor: float = 1e-6) -> float:
    """Mean log loss with probabilities kept within ``floor`` of 0 and 1."""
    return float(_family_losses(y, p, floor).mean())


def _family_losses(y: np.ndarray, p: np.ndarray, floor: float) -> np.ndarray:
    """Each held-out family's log loss (probabilities kept within ``floor`` of 0 and 1)."""
    q = np.clip(p, floor, 1 - floor)
    return np.where(y == 1, -np.log(q), -np.log1p(-q))


#: A calibration is kept only if it lowers the held-out log loss by this many standard
#: errors of the paired difference: a tie, or a constant such as the probability floor,
#: cannot tip the decision.
CALIBRATION_MARGIN_SE = 2.0


def _clearly_best(per_family: dict[str, np.ndarray]) -> str:
    """The calibration with the largest mean gain over the raw probabilities among those
    whose gain exceeds ``CALIBRATION_MARGIN_SE`` standard errors; else "raw".

    >>> rng = np.random.default_rng(0)
    >>> raw = rng.random(1000)
    >>> _clearly_best({"raw": raw, "logistic": raw - 0.001 + 0.05 * rng.normal(size=1000)})
    'raw'
    >>> _clearly_best({"raw": raw, "logistic": raw - 0.1 + 0.05 * rng.normal(size=1000)})
    'logistic'
    """
    raw = per_family["raw"]
    best, best_gain = "raw", 0.0
    for method, losses in per_family.items():
        if method == "raw":
            continue
        diff = raw - losses
        gain = float(diff.mean())
        se = float(diff.std(ddof=1) / np.sqrt(diff.size)) if diff.size > 1 else np.inf
        if gain > CALIBRATION_MARGIN_SE * se and gain > best_gain:
            best, best_gain = method, gain
    return best


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(q / (1 - q)).reshape(-1, 1)


def _calibrator(method: str, p: np.ndarray, y: np.ndarray, floor: float = 1e-6) -> Any:
    """A calibration map fitted on held-out probabilities: logistic (an intercept and a
    slope on the log-odds, unpenalised) or isotonic (kept within ``floor`` of 0 and 1)."""
    if method == "logistic":
        return LogisticRegression(C=np.inf, solver="lbfgs", max_iter=200).fit(_logit(p), y)
    return IsotonicRegression(y_min=floor, y_max=1 - floor, out_of_bounds="clip").fit(p, y)


def _apply(calibrator: Any, p: np.ndarray) -> np.ndarray:
    if isinstance(calibrator, LogisticRegression):
        return np.asarray(calibrator.predict_proba(_logit(p))[:, 1])
    return np.asarray(calibrator.predict(p))


def level_rows(model: Any, n_train: int) -> int:
    """How many of the ``n_train`` rows a model was fitted on set its overall level (its
    calibration-in-the-large): the calibration hold-out where a calibration was kept, the
    rows the final model learned from otherwise (all of them for a model without
    :class:`CalibratedRiskClassifier`'s check).

    >>> level_rows(LogisticRiskClassifier(), 1_000)
    1000
    >>> m = CalibratedRiskClassifier()
    >>> m.calibration_report_ = {"calibrated": True, "holdout_rows": 200, "model_rows": 800}
    >>> level_rows(m, 1_000)
    200
    """
    report = getattr(model, "calibration_report_", None)
    if not report:
        return int(n_train)
    rows = report["holdout_rows"] if report.get("calibrated") else report.get("model_rows")
    return int(min(rows, n_train)) if rows else int(n_train)

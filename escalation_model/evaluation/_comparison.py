"""Compare models and the rules they would replace, on the same families, with intervals."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._publish import (
    RANK_METRIC_DECIMALS,
    DisclosureRules,
    publish_figure,
    publish_share,
)
from .._selection import resolve_capacity
from .._threads import in_threads
from ..schema import ColumnRoles
from ._bootstrap import bootstrap_differences, bootstrap_metrics
from ._metrics import METRICS, point_estimates
from ._splits import Split, check_split

__all__ = ["ModelComparison", "compare_models", "evaluate_models", "ORACLE"]

ORACLE = "oracle"

#: Metrics that are functions of ranks alone: published to a few decimal places.
RANK_METRICS = frozenset({"roc_auc", "average_precision"})


def _scores(model: Any, X: Any) -> tuple[np.ndarray, np.ndarray]:
    """Probability and ranking score. A rule ranks by its own score; a model by its
    probability (its decision function is a monotone map of it, so ranks are the same
    and predicting twice would be wasted work)."""
    if hasattr(model, "proba_and_score"):  # a rule: both from one encoding
        proba, score = model.proba_and_score(X)
        return np.asarray(proba, dtype=float), np.asarray(score, dtype=float)
    proba = np.asarray(model.predict_proba(X)[:, 1], dtype=float)
    if hasattr(model, "rule_score"):
        score = np.asarray(model.decision_function(X), dtype=float)
    else:
        score = proba
    return proba, score


class ModelComparison:
    """Every model and rule evaluated on the same test families, with bootstrap intervals.

    Computed on construction (fairlearn style); results are properties. Individual scores
    are kept in memory for plots and never written out.

    Parameters
    ----------
    predictions : mapping of name to (probability, ranking score)
        On the same test families. Include ``"oracle"`` on synthetic data.
    y : array of 0/1
        Observed outcomes of the test families.
    reference : str, default="five_plus_rule"
        The rule every other model is compared with (paired differences).
    capacity : float or int, default=0.05
        Places in the early-help service: a share of families (< 1) or a count.
    n_bootstrap : int, default=1000
    confidence : float, default=0.95
    random_state : int, default=0
    metrics : sequence of str, optional
        Only these metrics of :data:`METRICS` (default: all). Leaving out the calibration
        intercept and slope skips their logistic fits in every bootstrap replicate.
    n_jobs : int, optional
        Bootstraps run at once, each on its own thread (default: one per core, at most
        ``OMP_NUM_THREADS``). Each has its own seeded generator, so the intervals do not
        depend on it.
    """

    def __init__(
        self,
        predictions: Mapping[str, tuple[np.ndarray, np.ndarray]],
        y: np.ndarray,
        *,
        reference: str = "five_plus_rule",
        capacity: float | int = 0.05,
        n_bootstrap: int = 1000,
        confidence: float = 0.95,
        random_state: int = 0,
        metrics: tuple[str, ...] | list[str] | None = None,
        n_jobs: int | None = None,
    ):
        unknown = sorted(set(metrics or ()) - set(METRICS))
        if unknown:
            raise ValueError(f"unknown metric(s) {unknown}; choose from {list(METRICS)}")
        wanted = [m for m in METRICS if metrics is None or m in metrics]
        y = np.asarray(y).astype(int)
        if reference not in predictions:
            raise ValueError(
                f"reference '{reference}' is not among the models {sorted(predictions)}"
            )
        self.capacity = capacity
        self.n_bootstrap = n_bootstrap
        self.confidence = confidence
        self.reference = reference
        self.n_families = int(len(y))
        self.n_escalations = int(y.sum())
        self._y = y
        self._predictions = {k: (np.asarray(p), np.asarray(s)) for k, (p, s) in predictions.items()}

        # the exact estimates, then every bootstrap: each independent (its own seed), so
        # they run side by side
        names = list(self._predictions)
        exact = in_threads(
            [partial(point_estimates, y, *self._predictions[k], capacity) for k in names], n_jobs
        )
        estimates = {
            k: {m: every[m] for m in wanted} for k, every in zip(names, exact, strict=True)
        }
        ref = self._predictions[reference]
        others = [name for name in self._predictions if name != reference]
        deltas = {
            name: {m: estimates[name][m] - estimates[reference][m] for m in wanted}
            for name in others
        }
        settings: dict[str, Any] = {
            "capacity": capacity,
            "n_bootstrap": n_bootstrap,
            "confidence": confidence,
        }
        intervals = in_threads(
            [
                partial(
                    bootstrap_metrics,
                    y,
                    *self._predictions[name],
                    estimates[name],
                    **settings,
                    random_state=random_state + i,
                )
                for i, name in enumerate(names)
            ]
            + [
                partial(
                    bootstrap_differences,
                    y,
                    self._predictions[name],
                    ref,
                    deltas[name],
                    **settings,
                    random_state=random_state + 1000 + names.index(name),
                )
                for name in others
            ],
            n_jobs,
        )
        rows = [
            (name, metric, estimates[name][metric], *ci[metric])
            for name, ci in zip(names, intervals[: len(names)], strict=True)
            for metric in wanted
        ]
        self._table = pd.DataFrame(rows, columns=["model", "metric", "estimate", "lower", "upper"])
        diffs = [
            (name, reference, metric, deltas[name][metric], *ci[metric])
            for name, ci in zip(others, intervals[len(names) :], strict=True)
            for metric in wanted
        ]
        self._differences = pd.DataFrame(
            diffs, columns=["model", "reference", "metric", "difference", "lower", "upper"]
        )

    # ------------------------------------------------------------------ results
    @property
    def table(self) -> pd.DataFrame:
        """Tidy table: ``model, metric, estimate, lower, upper``."""
        return self._table.copy()

    @property
    def differences(self) -> pd.DataFrame:
        """Paired differences to the reference rule: ``model, reference, metric,
        difference, lower, upper``."""
        return self._differences.copy()

    def published(self, rules: DisclosureRules | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """:attr:`table` and :attr:`differences` as they may be published.

        Precision, recall and lift at capacity are ratios of counts of families: their
        estimates are ratios of the published counts (``publish_share``: escalations
        reached, places, escalations, families), so that a rate x a published count gives
        back no unrounded count; their differences are differences of those. ROC AUC and
        average precision, functions of ranks, are given to 3 decimal places; every other
        figure, and every interval bound, to 4 significant figures.
        """
        rules = rules or DisclosureRules()
        n_esc, n = self.n_escalations, self.n_families
        places = resolve_capacity(self.capacity, n)
        counted: dict[tuple[str, str], float] = {}
        for r in self._table.itertuples(index=False):
            if r.metric == "recall_at_capacity":
                reached = float(r.estimate) * n_esc
                counted[(r.model, "recall_at_capacity")] = publish_share(reached, n_esc, rules)
                precision = publish_share(reached, places, rules)
                counted[(r.model, "precision_at_capacity")] = precision
                counted[(r.model, "lift_at_capacity")] = precision / publish_share(n_esc, n, rules)

        def point(model: str, metric: str, value: float) -> float:
            if (model, metric) in counted:
                return counted[(model, metric)]
            return publish_figure(
                value, decimals=RANK_METRIC_DECIMALS if metric in RANK_METRICS else None
            )

        table = self._table.copy()
        table["estimate"] = [
            point(m, k, v)
            for m, k, v in table[["model", "metric", "estimate"]].itertuples(index=False)
        ]
        diffs = self._differences.copy()
        diffs["difference"] = [
            counted[(m, k)] - counted[(ref, k)]
            if (m, k) in counted and (ref, k) in counted
            else point("", k, v)
            for m, ref, k, v in diffs[["model", "reference", "metric", "difference"]].itertuples(
                index=False
            )
        ]
        for t in (table, diffs):
            for col in ("lower", "upper"):
                t[col] = publish_figure(t[col].to_numpy(dtype=float))
        return table, diffs

    @property
    def models(self) -> list[str]:
        return list(self._predictions)

    def probabilities(self, model: str) -> np.ndarray:
        """A copy of ``model``'s probabilities for the test families, in their order (in
        memory only: individual scores are never written out by the library)."""
        return self._predictions[model][0].copy()

    def estimate(self, model: str, metric: str) -> tuple[float, float, float]:
        """``(estimate, lower, upper)`` of one metric of one model."""
        row = self._table[(self._table.model == model) & (self._table.metric == metric)]
        if row.empty:
            raise KeyError(f"no metric '{metric}' for model '{model}'")
        r = row.iloc[0]
        return float(r.estimate), float(r.lower), float(r.upper)

    def difference(self, model: str, metric: str) -> tuple[float, float, float]:
        """``(difference, lower, upper)`` of ``model - reference`` for one metric."""
        d = self._differences
        row = d[(d.model == model) & (d.metric == metric)]
        if row.empty:
            raise KeyError(f"no difference for '{model}', '{metric}'")
        r = row.iloc[0]
        return float(r.difference), float(r.lower), float(r.upper)

    def wide(self, metrics: list[str] | None = None) -> pd.DataFrame:
        """One row per model, one column per metric, formatted ``est (lo to hi)``."""
        t = self._table
        if metrics is not None:
            t = t[t.metric.isin(metrics)]
        text = t.assign(
            value=[
                f"{e:.3f} ({lo:.3f} to {hi:.3f})"
                for e, lo, hi in zip(t.estimate, t.lower, t.upper, strict=True)
            ]
        )
        return text.pivot(index="model", columns="metric", values="value").loc[
            self.models, [m for m in METRICS if m in set(t.metric)]
        ]

    # ------------------------------------------------------------------ plots
    def plot_roc(self, ax: Any = None) -> Any:
        """ROC curves of every model and rule."""
        from ._plots import plot_roc

        return plot_roc(self._y, self._predictions, ax=ax)

    def plot_precision_recall(self, ax: Any = None) -> Any:
        """Precision-recall curves."""
        from ._plots import plot_precision_recall

        return plot_precision_recall(self._y, self._predictions, ax=ax)

    def plot_calibration(self, ax: Any = None, n_groups: int = 10) -> Any:
        """Observed against predicted escalation in equal-sized groups, with 95% intervals."""
        from ._plots import plot_calibration

        return plot_calibration(self._y, self._predictions, n_groups=n_groups, ax=ax)

    def plot_capacity(self, ax: Any = None, max_share: float = 0.3) -> Any:
        """Share of future escalations reached against the capacity of the service."""
        from ._plots import plot_capacity

        return plot_capacity(
            self._y, self._predictions, capacity=self.capacity, max_share=max_share, ax=ax
        )

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        auc = self._table[self._table.metric == "roc_auc"]
        rec = self._table[self._table.metric == "recall_at_capacity"]
        lines = "".join(
            f"<tr><td>{m}</td><td>{a:.3f}</td><td>{r:.1%}</td></tr>"
            for m, a, r in zip(auc.model, auc.estimate, rec.estimate, strict=True)
        )
        return (
            f"<b>ModelComparison</b> on {self.n_families:,} test families "
            f"(capacity {self.capacity}); {self.n_bootstrap} bootstrap resamples."
            f"<table><tr><th>model</th><th>ROC AUC</th><th>escalations reached</th></tr>"
            f"{lines}</table>"
        )

    def __repr__(self) -> str:
        return (
            f"ModelComparison(models={self.models}, n_families={self.n_families}, "
            f"capacity={self.capacity}, n_bootstrap={self.n_bootstrap})"
        )


def compare_models(
    models: Mapping[str, Any],
    X: Any,
    y: Any,
    *,
    oracle: np.ndarray | pd.Series | None = None,
    **kwargs: Any,
) -> ModelComparison:
    """Evaluate fitted models (and, on synthetic data, the oracle) on the same families.

    Parameters
    ----------
    models : mapping of name to fitted estimator
    X, y : test families and their outcomes
    oracle : array, optional
        True probabilities of the test families (synthetic data); reported as ``oracle``.
    **kwargs
        Passed to :class:`ModelComparison` (``reference``, ``capacity``, ...).
    """
    preds = {name: _scores(model, X) for name, model in models.items()}
    if oracle is not None:
        o = np.asarray(oracle, dtype=float)
        preds[ORACLE] = (o, o)
    return ModelComparison(preds, np.asarray(y), **kwargs)


def evaluate_models(
    frame: pd.DataFrame,
    roles: ColumnRoles | None,
    split: Split,
    models: Mapping[str, Any],
    *,
    oracle: np.ndarray | pd.Series | None = None,
    train_weight: np.ndarray | None = None,
    family_codes: np.ndarray | None = None,
    **kwargs: Any,
) -> tuple[ModelComparison, dict[str, Any]]:
    """Fit every model on the split's training families and compare them on its test
    families. The split is checked first (no family on both sides).

    ``train_weight`` (aligned with ``split.train``) weights each training family in the
    fits, as for a case-control sample (:func:`escalation_model.models.case_control_sample`).
    ``family_codes`` are passed to :func:`check_split` (one frame split many times).

    Returns the comparison and the fitted models (in memory).
    """
    roles = roles or ColumnRoles()
    check_split(frame, roles, split, horizon_days=None, family_codes=family_codes)
    if not roles.outcome:
        raise ValueError("evaluation needs the 'outcome' role")
    train = frame.iloc[split.train]
    test = frame.iloc[split.test]
    y_train = train[roles.outcome].to_numpy()
    weight = {} if train_weight is None else {"sample_weight": train_weight}
    fitted = {name: clone(model).fit(train, y_train, **weight) for name, model in models.items()}
    o = None if oracle is None else np.asarray(oracle)[split.test]
    comparison = compare_models(fitted, test, test[roles.outcome].to_numpy(), oracle=o, **kwargs)
    return comparison, fitted

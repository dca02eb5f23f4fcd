from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from escalation_model.evaluation import METRICS, evaluate_models, temporal_split
from escalation_model.models import make_models

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def evaluated(small_population):
    pop = small_population
    split = temporal_split(pop.frame, pop.roles)
    models = make_models(pop.roles, lightgbm_params={"n_estimators": 100})
    cmp_, fitted = evaluate_models(
        pop.frame, pop.roles, split, models, oracle=pop.oracle, n_bootstrap=200
    )
    return cmp_, fitted, pop.frame.iloc[split.test]


@pytest.fixture(scope="module")
def comparison(evaluated):
    return evaluated[0]


def test_test_probabilities_are_the_models_own(evaluated):
    cmp_, fitted, test = evaluated
    p = cmp_.probabilities("lightgbm")
    np.testing.assert_array_equal(p, fitted["lightgbm"].predict_proba(test)[:, 1])
    p[:] = -1.0  # a copy: the comparison is unchanged
    assert cmp_.probabilities("lightgbm").min() >= 0.0


def test_tidy_table_has_every_model_and_metric(comparison):
    t = comparison.table
    assert list(t.columns) == ["model", "metric", "estimate", "lower", "upper"]
    assert set(t.model) == {"five_plus_rule", "area_rule", "logistic", "lightgbm", "oracle"}
    assert set(t.metric) == set(METRICS)
    finite = t.dropna()
    assert (finite.lower <= finite.estimate + 1e-12).all()
    assert (finite.estimate <= finite.upper + 1e-12).all()


def test_differences_are_against_the_five_plus_rule(comparison):
    d = comparison.differences
    assert set(d.reference) == {"five_plus_rule"}
    assert "five_plus_rule" not in set(d.model)
    diff, lo, hi = comparison.difference("area_rule", "recall_at_capacity")
    assert hi < 0  # area-based targeting reaches fewer escalations than the 5+ rule


def test_oracle_is_best_or_within_noise(comparison):
    o, _, _ = comparison.estimate("oracle", "roc_auc")
    for model in ("five_plus_rule", "area_rule", "logistic", "lightgbm"):
        assert comparison.estimate(model, "roc_auc")[0] <= o + 0.01


def test_plots_return_figures(comparison):
    for name in ("plot_roc", "plot_precision_recall", "plot_calibration", "plot_capacity"):
        fig = getattr(comparison, name)()
        assert fig.axes and fig.axes[0].get_title()
        assert len(fig.axes[0].get_legend().get_texts()) == 5


def test_wide_view(comparison):
    w = comparison.wide(["roc_auc", "recall_at_capacity"])
    assert w.shape == (5, 2)
    assert "to" in w.iloc[0, 0]


def test_unknown_reference_is_refused(comparison):
    from escalation_model.evaluation import ModelComparison

    y = np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="reference"):
        ModelComparison({"a": (np.ones(4) / 2, np.ones(4))}, y)


def test_a_subset_of_metrics_has_the_same_intervals():
    from escalation_model.evaluation import ModelComparison

    rng = np.random.default_rng(2)
    p = rng.beta(1, 20, 5000)
    y = (rng.random(5000) < p).astype(int)
    preds = {"five_plus_rule": (p.round(2), p.round(2)), "model": (p, p)}
    full = ModelComparison(preds, y, n_bootstrap=200)
    some = ModelComparison(preds, y, n_bootstrap=200, metrics=["roc_auc", "recall_at_capacity"])
    keep = full.table.metric.isin(["roc_auc", "recall_at_capacity"])
    pd.testing.assert_frame_equal(some.table, full.table[keep].reset_index(drop=True))
    keep = full.differences.metric.isin(["roc_auc", "recall_at_capacity"])
    pd.testing.assert_frame_equal(some.differences, full.differences[keep].reset_index(drop=True))
    with pytest.raises(ValueError, match="unknown metric"):
        ModelComparison(preds, y, metrics=["auc"])


def test_transfer_fits_a_calibrated_model_on_one_thread():
    from escalation_model.evaluation._transfer import _one_thread
    from escalation_model.models import CalibratedRiskClassifier, LightGBMRiskClassifier

    model = CalibratedRiskClassifier(LightGBMRiskClassifier(n_jobs=2))
    assert _one_thread(model).get_params()["estimator__n_jobs"] == 1
    assert model.get_params()["estimator__n_jobs"] == 2  # the original is untouched


def test_bootstraps_on_threads_give_the_same_intervals(monkeypatch):
    """The bootstraps run side by side on threads where cores allow; each keeps its own
    seed (model i: random_state + i), so the tables are those of one bootstrap at a
    time, and of bootstrap_metrics called on its own."""
    import threading

    from escalation_model.evaluation import _comparison
    from escalation_model.evaluation._bootstrap import bootstrap_metrics
    from escalation_model.evaluation._metrics import point_estimates

    rng = np.random.default_rng(3)
    n = 4000
    truth = rng.beta(1, 12, n)
    y = (rng.random(n) < truth).astype(int)
    rule = np.floor(truth * 8)
    preds = {
        "five_plus_rule": (np.clip(rule / 8, 0.01, 0.99), rule),
        "noisy": (np.clip(truth + rng.normal(0, 0.03, n), 0.001, 0.999),) * 2,
        "oracle": (truth, truth),
    }
    ran_on = []

    def recorded(*args, **kwargs):
        ran_on.append(threading.current_thread().name)
        return bootstrap_metrics(*args, **kwargs)

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    one = _comparison.ModelComparison(preds, y, n_bootstrap=150, random_state=7)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    monkeypatch.setattr(_comparison, "bootstrap_metrics", recorded)
    two = _comparison.ModelComparison(preds, y, n_bootstrap=150, random_state=7, n_jobs=2)
    assert len(ran_on) == 3 and all(name.startswith("escalation-model") for name in ran_on)
    pd.testing.assert_frame_equal(one.table, two.table)
    pd.testing.assert_frame_equal(one.differences, two.differences)
    est = point_estimates(y, *preds["noisy"], 0.05)
    alone = bootstrap_metrics(
        y, *preds["noisy"], est, capacity=0.05, n_bootstrap=150, random_state=8
    )
    row = two.table.set_index(["model", "metric"]).loc[("noisy", "roc_auc")]
    assert (row.lower, row.upper) == alone["roc_auc"]

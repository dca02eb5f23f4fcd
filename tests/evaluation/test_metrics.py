"""Metrics and their fast bootstrap, checked against sklearn and a row-level bootstrap."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score

from escalation_model.evaluation import (
    bootstrap_differences,
    bootstrap_metrics,
    calibration_intercept,
    calibration_slope,
    capacity_curve,
    capacity_metrics,
    point_estimates,
)
from escalation_model.evaluation._bootstrap import _Engine


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(3)
    n = 4000
    p = rng.beta(0.6, 12, n)
    y = (rng.random(n) < p).astype(int)
    rule = np.minimum(10, np.floor(p * 40 + rng.normal(0, 1, n)).clip(0)).astype(float)
    return y, p, rule


def test_calibration_matches_sklearn(sample):
    y, p, _ = sample
    x = logit(p)[:, None]
    ref = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(x, y)
    assert calibration_slope(y, p) == pytest.approx(ref.coef_[0][0], rel=1e-6)
    # intercept with the slope fixed at 1: mean of y equals mean of expit(a + logit p)
    a = calibration_intercept(y, p)
    assert np.mean(1 / (1 + np.exp(-(a + logit(p))))) == pytest.approx(y.mean(), rel=1e-6)


def test_capacity_metrics_without_ties():
    y = np.array([1, 0, 1, 0, 0, 1, 0, 0, 0, 0])
    s = np.arange(10, 0, -1).astype(float)
    m = capacity_metrics(y, s, 3)
    assert m["precision_at_capacity"] == pytest.approx(2 / 3)
    assert m["recall_at_capacity"] == pytest.approx(2 / 3)
    assert m["lift_at_capacity"] == pytest.approx((2 / 3) / 0.3)


def test_capacity_metrics_share_tied_places():
    # 2 places; three families tied at the top, one of whom escalates: expect 2/3 reached
    y = np.array([1, 0, 0, 1])
    s = np.array([5.0, 5.0, 5.0, 1.0])
    m = capacity_metrics(y, s, 2)
    assert m["recall_at_capacity"] == pytest.approx((2 / 3) / 2)
    rng = np.random.default_rng(0)
    sims = [y[np.lexsort((rng.random(4), -s))][:2].sum() for _ in range(20000)]
    assert np.mean(sims) / 2 == pytest.approx(m["recall_at_capacity"], abs=0.01)


def test_capacity_curve_agrees_with_capacity_metrics(sample):
    y, p, rule = sample
    for share in (0.01, 0.05, 0.2):
        for s in (p, rule):
            curve = capacity_curve(y, s, np.array([share]))[0]
            assert curve == pytest.approx(capacity_metrics(y, s, share)["recall_at_capacity"])


def test_point_estimates_use_sklearn(sample):
    y, p, rule = sample
    est = point_estimates(y, p, p, 0.05)
    assert est["roc_auc"] == roc_auc_score(y, p)
    assert est["average_precision"] == average_precision_score(y, p)


def test_binned_metrics_are_exact_for_rule_scores(sample):
    y, _, rule = sample
    proba = (rule + 1) / 40  # a probability constant within each score, as a rule's is
    engine = _Engine(y, [proba], [rule], n_bins=4000, capacity=0.05)
    ones = np.ones((1, engine.n1.size))
    binned = {k: float(v[0]) for k, v in engine.replicate_metrics(ones, ones)[0].items()}
    exact = point_estimates(y, proba, rule, 0.05)
    for metric in (
        "roc_auc",
        "average_precision",
        "brier",
        "log_loss",
        "calibration_slope",
        "calibration_intercept",
        "recall_at_capacity",
        "precision_at_capacity",
    ):
        assert binned[metric] == pytest.approx(exact[metric], rel=1e-9), metric


def _row_bootstrap(y, p, s, n_boot, rng):
    reps = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        reps.append(point_estimates(y[idx], p[idx], s[idx], 0.05))
    return {k: np.quantile([r[k] for r in reps], [0.025, 0.975]) for k in reps[0]}


@pytest.mark.slow
def test_intervals_agree_with_a_row_level_bootstrap(sample):
    y, p, _ = sample
    est = point_estimates(y, p, p, 0.05)
    fast = bootstrap_metrics(y, p, p, est, capacity=0.05, n_bootstrap=1000, random_state=1)
    naive = _row_bootstrap(y, p, p, 400, np.random.default_rng(2))
    assert np.isnan(fast.pop("ece")).all()  # published without an interval (NO_INTERVAL)
    for metric, (lo, hi) in fast.items():
        nlo, nhi = naive[metric]
        width = nhi - nlo
        assert lo < est[metric] < hi, metric
        assert abs(lo - nlo) < 0.25 * width + 1e-9, metric
        assert abs(hi - nhi) < 0.25 * width + 1e-9, metric


def test_paired_difference_interval_excludes_zero_when_a_model_is_better(sample):
    y, p, rule = sample
    proba_rule = (rule + 1) / 40
    a = point_estimates(y, p, p, 0.05)
    b = point_estimates(y, proba_rule, rule, 0.05)
    diffs = {k: a[k] - b[k] for k in a}
    ci = bootstrap_differences(
        y, (p, p), (proba_rule, rule), diffs, capacity=0.05, n_bootstrap=500, random_state=0
    )
    lo, hi = ci["roc_auc"]
    assert 0 < lo < diffs["roc_auc"] < hi
    # a model compared with itself differs by exactly nothing
    same = bootstrap_differences(
        y, (p, p), (p, p), {k: 0.0 for k in a}, capacity=0.05, n_bootstrap=200, random_state=0
    )
    assert same["roc_auc"] == pytest.approx((0.0, 0.0), abs=1e-12)


def test_bootstrap_is_reproducible(sample):
    y, p, _ = sample
    est = point_estimates(y, p, p, 0.05)
    a = bootstrap_metrics(y, p, p, est, capacity=0.05, n_bootstrap=200, random_state=5)
    b = bootstrap_metrics(y, p, p, est, capacity=0.05, n_bootstrap=200, random_state=5)
    assert a.keys() == b.keys()
    for k in a:  # bit for bit (NaN where a metric has no interval)
        np.testing.assert_array_equal(a[k], b[k])

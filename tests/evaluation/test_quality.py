"""The models issue's quality targets, on 100,000 synthetic families with the temporal split."""

from __future__ import annotations

import pytest

from escalation_model.datasets import make_synthetic_population
from escalation_model.evaluation import evaluate_models, temporal_split
from escalation_model.models import make_models


@pytest.mark.slow
def test_lightgbm_is_near_the_oracle_and_beats_the_five_plus_rule():
    pop = make_synthetic_population(100_000, random_state=2015)
    split = temporal_split(pop.frame, pop.roles)
    cmp_, _ = evaluate_models(
        pop.frame,
        pop.roles,
        split,
        make_models(pop.roles),
        oracle=pop.oracle,
        capacity=0.05,
        n_bootstrap=500,
    )
    gbm = cmp_.estimate("lightgbm", "roc_auc")[0]
    oracle = cmp_.estimate("oracle", "roc_auc")[0]
    print(f"\nLightGBM AUC {gbm:.4f}, oracle {oracle:.4f}")
    assert oracle - gbm <= 0.01
    slope = cmp_.estimate("lightgbm", "calibration_slope")[0]
    assert 0.9 <= slope <= 1.1
    diff, lo, hi = cmp_.difference("lightgbm", "recall_at_capacity")
    print(f"reach at 5% vs 5+ rule: {diff:+.3f} ({lo:+.3f} to {hi:+.3f})")
    assert lo > 0

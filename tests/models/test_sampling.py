"""The case-control sample the model of entry into care is fitted on."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from escalation_model.evaluation import temporal_split
from escalation_model.models import LightGBMRiskClassifier, case_control_sample


@given(
    cases=st.integers(0, 300),
    controls=st.integers(0, 5_000),
    per_case=st.integers(1, 30),
    floor=st.integers(0, 2_000),
    seed=st.integers(0, 2**16),
)
def test_every_case_is_kept_and_the_weights_restore_the_controls(
    cases, controls, per_case, floor, seed
):
    y = np.random.default_rng(seed).permutation(np.r_[np.ones(cases), np.zeros(controls)])
    s = case_control_sample(y, controls_per_case=per_case, min_controls=floor, random_state=seed)
    assert np.all(np.diff(s.rows) > 0)
    assert (y[s.rows] == 1).sum() == cases
    drawn = int((y[s.rows] == 0).sum())
    keep = max(per_case * cases, floor)
    assert drawn == (controls if keep == 0 else min(controls, keep))
    if s.weight is None:
        assert s.rows.size == y.size
    else:
        assert np.all(s.weight[y[s.rows] == 1] == 1.0)
        assert np.isclose(s.weight.sum(), y.size)


def test_the_same_seed_draws_the_same_families():
    y = np.r_[np.ones(50), np.zeros(20_000)]
    a, b = (case_control_sample(y, min_controls=1_000, random_state=3) for _ in range(2))
    c = case_control_sample(y, min_controls=1_000, random_state=4)
    assert np.array_equal(a.rows, b.rows) and not np.array_equal(a.rows, c.rows)


def test_a_weighted_sample_keeps_the_population_scale_and_the_ranking(small_population):
    """Fitted on every case and a tenth of the rest, weighted, the model's mean probability
    on the test families is the observed rate (unweighted it would be about ten times too
    high), and its ranking is the full fit's."""
    from sklearn.metrics import roc_auc_score

    pop = small_population
    split = temporal_split(pop.frame, pop.roles)
    train, test = pop.frame.iloc[split.train], pop.frame.iloc[split.test]
    y = train["escalated"].to_numpy()
    s = case_control_sample(y, controls_per_case=1, min_controls=int((y == 0).sum() // 10))
    assert s.sampled
    model = LightGBMRiskClassifier(roles=pop.roles, n_estimators=60)
    full = model.fit(train, y).predict_proba(test)[:, 1]
    weighted = (
        LightGBMRiskClassifier(roles=pop.roles, n_estimators=60)
        .fit(train.iloc[s.rows], y[s.rows], sample_weight=s.weight)
        .predict_proba(test)[:, 1]
    )
    unweighted = (
        LightGBMRiskClassifier(roles=pop.roles, n_estimators=60)
        .fit(train.iloc[s.rows], y[s.rows])
        .predict_proba(test)[:, 1]
    )
    observed = test["escalated"].mean()
    assert abs(weighted.mean() / observed - 1) < 0.15
    assert unweighted.mean() / observed > 3
    auc = [roc_auc_score(test["escalated"], p) for p in (full, weighted)]
    assert abs(auc[0] - auc[1]) < 0.01

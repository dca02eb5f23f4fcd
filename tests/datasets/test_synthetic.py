"""The synthetic population: structure, exact oracle, options and reproducibility."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from escalation_model.datasets import load_parameters, make_synthetic_population
from escalation_model.datasets._synthetic import CHUNK_SIZE
from escalation_model.schema import OUTCOME_LEVELS, validate


def _n_tf(frame, roles):
    return frame[list(roles.think_family)].fillna(0).sum(axis=1).astype(int)


def test_frame_follows_the_default_roles(small_population):
    pop = small_population
    assert set(pop.roles.columns()) == set(pop.frame.columns)
    assert pop.frame["profile_date"].min() >= pd.Timestamp("2011-01-01")
    assert pop.frame["profile_date"].max() <= pd.Timestamp("2015-12-31")
    assert pop.frame["authority_code"].nunique() == 8
    assert pop.frame["deprivation_decile"].between(1, 10).all()
    assert set(pop.frame["outcome_level"].cat.categories) == set(OUTCOME_LEVELS)
    assert "true_probability" not in pop.frame.columns
    assert pop.oracle.index.equals(pop.frame.index)
    validate(pop.frame, pop.roles)


def test_same_seed_same_data_bit_for_bit():
    a = make_synthetic_population(3_000, random_state=11)
    b = make_synthetic_population(3_000, random_state=11)
    pd.testing.assert_frame_equal(a.frame, b.frame, check_exact=True)
    np.testing.assert_array_equal(a.oracle.to_numpy(), b.oracle.to_numpy())
    c = make_synthetic_population(3_000, random_state=12)
    assert not a.frame["escalated"].equals(c.frame["escalated"])


def test_unseeded_run_records_its_seed():
    a = make_synthetic_population(500)
    b = make_synthetic_population(500, random_state=a.options["seed"])
    pd.testing.assert_frame_equal(a.frame, b.frame)


def test_generation_in_chunks_is_seamless():
    n = CHUNK_SIZE + 1_000
    pop = make_synthetic_population(n, random_state=3)
    assert len(pop.frame) == n
    assert pop.frame["family_id"].is_unique
    tail = pop.frame.iloc[CHUNK_SIZE:]
    assert 0.005 < tail["escalated"].mean() < 0.08


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="n_families"):
        make_synthetic_population(0)
    with pytest.raises(ValueError, match="early_help_effect"):
        make_synthetic_population(100, early_help_effect=1.5)
    with pytest.raises(ValueError, match="referral_bias"):
        make_synthetic_population(100, referral_bias={"column": "child_sex"})


# ---------------------------------------------------------------- the oracle is exact


def _oracle_by_hand(pop, i):
    """P(escalated | visible row i), from the parameters, in plain Python loops."""
    p = pop.parameters
    row = pop.frame.iloc[i]
    ward = pop.wards.set_index("ward_code").loc[str(row["ward_code"])]
    z = float(ward["deprivation_score"])
    k_n = p.n_classes

    def sig(x):
        return 1.0 / (1.0 + math.exp(-x))

    at_least = [1.0] + [sig(t + p.class_deprivation * z) for t in p.class_thresholds] + [0.0]
    prior = [at_least[k] - at_least[k + 1] for k in range(k_n)]
    items = {**p.think_family, **p.secondary, **p.household, "child_disability": p.disability}
    like = []
    for k in range(k_n):
        total = math.log(prior[k])
        for name, item in items.items():
            x = row[name]
            if pd.isna(x):
                continue
            q = sig(item.base + item.loading * k + item.deprivation * z)
            total += math.log(q if x == 1 else 1 - q)
        like.append(total)
    m = max(like)
    post = [math.exp(v - m) for v in like]
    post = [v / sum(post) for v in post]

    def rec(name):
        v = row[name]
        return 0.0 if pd.isna(v) else float(v)

    logit = p.esc_intercept
    n_vf = 0.0
    for name in (*p.think_family, *p.secondary):
        logit += p.esc_items[name] * rec(name)
        n_vf += rec(name)
    for name in p.household:
        logit += p.esc_items[name] * rec(name)
    logit += p.esc_hinge * max(0.0, n_vf - p.esc_hinge_start)
    logit += p.esc_pair_effect * rec(p.esc_pair[0]) * rec(p.esc_pair[1])
    logit += p.esc_trio_effect * rec(p.esc_trio[0]) * rec(p.esc_trio[1]) * rec(p.esc_trio[2])
    logit += p.esc_deprivation * z
    logit += p.esc_ethnicity.get(str(row["child_ethnicity"]), 0.0)
    logit += p.esc_disability * rec("child_disability")
    logit += p.esc_age.get(str(row["child_age_band"]), 0.0)
    days = (row["profile_date"] - pd.Timestamp("2011-01-01")).days
    logit += p.esc_trend_per_year * (2011.0 + days / 365.25 - 2013.0)
    return sum(post[k] * sig(logit + p.esc_class * k) for k in range(k_n))


def test_oracle_matches_bayes_rule_by_hand(small_population):
    pop = small_population
    n_tf = _n_tf(pop.frame, pop.roles)
    has_missing = pop.frame[list(pop.roles.indicators())].isna().any(axis=1)
    picks = list(range(5))
    picks += list(np.flatnonzero(n_tf.to_numpy() >= 6)[:5])
    picks += list(np.flatnonzero(has_missing.to_numpy())[:5])
    for i in picks:
        assert pop.oracle.iloc[i] == pytest.approx(_oracle_by_hand(pop, i), rel=1e-9)


def test_oracle_is_calibrated(large_population):
    pop = large_population
    y = pop.frame["escalated"].to_numpy()
    q = pop.oracle.to_numpy()
    groups = pd.qcut(q, 20, labels=False, duplicates="drop")
    for g in np.unique(groups):
        sel = groups == g
        expected = q[sel].sum()
        se = math.sqrt((q[sel] * (1 - q[sel])).sum())
        assert abs(y[sel].sum() - expected) < 4 * se + 1, g
    # also within segments the oracle does not see directly as one number
    for col in ("authority_code", "child_ethnicity", "deprivation_decile"):
        for _, idx in pop.frame.groupby(col, observed=True).indices.items():
            expected = q[idx].sum()
            se = math.sqrt((q[idx] * (1 - q[idx])).sum())
            assert abs(y[idx].sum() - expected) < 4 * se + 1, col


def test_oracle_is_better_than_the_five_plus_rule(large_population):
    from sklearn.metrics import roc_auc_score

    pop = large_population
    y = pop.frame["escalated"]
    auc_oracle = roc_auc_score(y, pop.oracle)
    auc_rule = roc_auc_score(y, _n_tf(pop.frame, pop.roles))
    assert auc_oracle > auc_rule + 0.02
    assert 0.80 < auc_oracle < 0.95


# ---------------------------------------------------------------- options


def test_referral_bias_raises_the_groups_escalation_at_equal_need():
    bias = {"column": "child_ethnicity", "group": "Black", "odds_ratio": 3.0}
    base = make_synthetic_population(150_000, random_state=5)
    biased = make_synthetic_population(150_000, random_state=5, referral_bias=bias)
    grp = (base.frame["child_ethnicity"] == "Black").to_numpy()
    # same families, same indicators; only the escalation differs
    pd.testing.assert_series_equal(base.frame["domestic_abuse"], biased.frame["domestic_abuse"])
    ratio = biased.oracle[grp].mean() / base.oracle[grp].mean()
    assert 1.5 < ratio < 3.0  # odds ratio 3; a ratio of means is smaller where risk is high
    assert biased.oracle[~grp].equals(base.oracle[~grp])
    assert biased.frame.loc[grp, "escalated"].mean() > 1.4 * base.frame.loc[grp, "escalated"].mean()


def test_early_help_effect_has_its_known_size():
    base = make_synthetic_population(150_000, random_state=9)
    helped = make_synthetic_population(
        150_000, random_state=9, early_help_effect=0.4, early_help_start="2014-01-01"
    )
    n_tf = _n_tf(base.frame, base.roles)
    eligible = ((n_tf >= 5) & (base.frame["profile_date"] >= "2014-01-01")).to_numpy()
    np.testing.assert_allclose(helped.oracle[eligible], 0.6 * base.oracle[eligible], rtol=1e-12)
    assert helped.oracle[~eligible].equals(base.oracle[~eligible])
    observed = (
        helped.frame.loc[eligible, "escalated"].sum() / base.frame.loc[eligible, "escalated"].sum()
    )
    assert 0.45 < observed < 0.75


def test_missing_rate_option():
    pop = make_synthetic_population(20_000, random_state=1, missing_rate=0.2)
    assert 0.18 < pop.frame["domestic_abuse"].isna().mean() < 0.22
    assert pop.frame["lone_parent"].notna().all()


def test_parameters_carry_their_provenance():
    params = load_parameters()
    assert "calibrate_synthetic.py" in params.note
    assert params.n_classes == 4


def test_true_probability_reproduces_the_oracle_and_answers_counterfactuals(small_population):
    pop = small_population
    np.testing.assert_array_equal(pop.true_probability(pop.frame).to_numpy(), pop.oracle)
    rows = pop.frame.head(500).copy()
    with_da = rows.assign(domestic_abuse=pd.array([1] * len(rows), dtype="Int8"))
    without = rows.assign(domestic_abuse=pd.array([0] * len(rows), dtype="Int8"))
    assert (pop.true_probability(with_da) > pop.true_probability(without)).all()


def test_the_looked_after_oracle_is_calibrated():
    """P(looked after | visible columns) agrees with the levels drawn, overall and by
    tenth of the oracle (within sampling error), and ranks better than the escalation
    oracle does for entry into care."""
    from sklearn.metrics import roc_auc_score

    pop = make_synthetic_population(200_000, random_state=21)
    la = (pop.frame["outcome_level"] == "looked_after").to_numpy()
    p = pop.oracle_looked_after.to_numpy()
    assert abs(p.mean() - la.mean()) < 3 * np.sqrt(p.mean() / len(p))
    tenth = pd.qcut(p, 10, labels=False)
    for t in range(10):
        expected, observed = p[tenth == t].sum(), la[tenth == t].sum()
        assert abs(observed - expected) < 4 * np.sqrt(expected) + 2, t
    assert roc_auc_score(la, p) > roc_auc_score(la, pop.oracle.to_numpy())
    assert (p <= pop.oracle.to_numpy() + 1e-12).all()  # entry into care is an escalation

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy.special import logit
from scipy.stats import spearmanr

from escalation_model.datasets import make_synthetic_population
from escalation_model.explain import explain_model
from escalation_model.models import LogisticRiskClassifier, make_models

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def population():
    return make_synthetic_population(200_000, random_state=5)


@pytest.fixture(scope="module")
def gbm_explanation(population):
    f = population.frame
    model = make_models()["lightgbm"].fit(f, f["escalated"])
    return model, explain_model(model, f, sample_size=10_000, interaction_sample=1000)


def test_attributions_add_up_to_the_log_odds(gbm_explanation, population):
    model, ex = gbm_explanation
    f = population.frame
    idx = np.sort(np.random.default_rng(0).choice(len(f), size=10_000, replace=False))
    log_odds = model.model_.predict_log_odds(f.iloc[idx])
    total = ex.explanation.values.sum(axis=1) + ex.explanation.base_values
    np.testing.assert_allclose(total, log_odds, atol=1e-6)


def test_logistic_attributions_add_up(small_population):
    f = small_population.frame
    lr = LogisticRiskClassifier().fit(f, f["escalated"])
    ex = explain_model(lr, f, sample_size=3000)
    idx = np.sort(np.random.default_rng(0).choice(len(f), size=3000, replace=False))
    p = lr.predict_proba(f.iloc[idx])[:, 1]
    total = ex.explanation.values.sum(axis=1) + ex.explanation.base_values
    np.testing.assert_allclose(total, logit(p), atol=1e-6)
    assert ex.interactions is None
    assert any(n.endswith("not known") for n in ex.importance.feature)


def test_driver_ranking_recovers_the_true_effects(gbm_explanation, population):
    _, ex = gbm_explanation
    f = population.frame
    indicators = list(population.roles.indicators())
    sample = f.sample(5000, random_state=1)
    true = []
    for col in indicators:
        on, off = sample.copy(), sample.copy()
        on[col] = on[col].astype("Float64")
        on[col] = 1
        off[col] = 0
        effect = np.abs(
            logit(population.true_probability(on)) - logit(population.true_probability(off))
        ).mean()
        prevalence = f[col].mean()
        true.append(effect * 2 * prevalence * (1 - prevalence))  # mean |SHAP| if additive
    shap_imp = ex.importance.set_index("feature").loc[indicators, "mean_abs"].to_numpy()
    rho = spearmanr(shap_imp, true).statistic
    print(f"\nSpearman correlation with the generator's effects: {rho:.3f}")
    assert rho >= 0.8


def test_planted_interaction_is_among_the_strongest_pairs(gbm_explanation, population):
    _, ex = gbm_explanation
    combined = ex.combined_needs(list(population.roles.indicators()))
    top = {
        frozenset((a, b))
        for a, b in zip(combined.feature_a[:3], combined.feature_b[:3], strict=True)
    }
    assert frozenset(("domestic_abuse", "substance_misuse")) in top
    assert "domestic abuse and substance misuse" in " ".join(ex.summary())


def test_sampling_error_and_segments(gbm_explanation):
    _, ex = gbm_explanation
    assert (ex.importance.head(10)["relative_se"] < 0.05).all()
    assert (ex.importance.lower <= ex.importance.mean_abs).all()
    seg = ex.by_segment
    assert set(seg.segment) >= {
        "authority_code",
        "deprivation_decile",
        "n_think_family_band",
        "family_type",
    }
    assert (seg.n_sampled >= 10).all()
    assert "family_id" not in seg.columns


def test_same_seed_same_summaries(small_population):
    f = small_population.frame
    model = make_models()["lightgbm"].fit(f, f["escalated"])
    a = explain_model(model, f, sample_size=2000, interaction_sample=200, random_state=3)
    b = explain_model(model, f, sample_size=2000, interaction_sample=200, random_state=3)
    assert a.importance.equals(b.importance)


def test_plots(gbm_explanation):
    _, ex = gbm_explanation
    assert ex.plot_importance().axes[0].get_title() == "What drives predicted risk"
    pair = ex.headline_pair()
    assert pair is not None  # the planted interaction is headlined
    for n in (10, 2):  # the headlined pair is drawn and outlined however few are shown
        ax = ex.plot_interactions(n=n).axes[0]
        assert ax.get_title() == "How needs combine (outlined: the pair the card headlines)"
        ticks = [t.get_text() for t in ax.get_yticklabels()]
        assert {pair.label_a, pair.label_b} <= set(ticks)
        assert len(ax.patches) == 2
    assert len(ex.plot_dependence(3).axes) == 3
    assert ex.plot_beeswarm() is not None


def test_lightgbm_attributions_are_shaps_own(small_population):
    import shap

    from escalation_model.explain._population import _lightgbm_attributions
    from escalation_model.models import LightGBMRiskClassifier

    f = small_population.frame
    gbm = LightGBMRiskClassifier(n_estimators=60).fit(f, f["escalated"])
    X = gbm.encoder_.transform(f.head(500))
    booster = gbm.booster_model_.booster_
    values, base = _lightgbm_attributions(booster, X)
    theirs = shap.TreeExplainer(booster)(X)
    np.testing.assert_array_equal(values, theirs.values)
    np.testing.assert_array_equal(base, theirs.base_values)


def test_no_family_with_two_needs_means_no_interaction_table(small_population):
    f = small_population.frame
    model = make_models(calibrate=False)["lightgbm"].set_params(n_estimators=30)
    model.fit(f, f["escalated"])
    one_need = f.copy()
    indicators = list(small_population.roles.indicators())
    one_need[indicators] = 0
    one_need[indicators[0]] = 1
    ex = explain_model(model, one_need, sample_size=500, interaction_sample=100)
    assert ex.interactions is None
    assert len(ex.importance) == len(model.encoder_.get_feature_names_out())


def _with_pairs(*pairs):
    from escalation_model.explain._population import PopulationExplanation

    importance = pd.DataFrame(
        {"feature": ["a"], "label": ["A"], "mean_abs": [0.5], "lower": [0.4], "upper": [0.6]}
    )
    interactions = pd.DataFrame(
        pairs,
        columns=[
            "label_a",
            "label_b",
            "mean_interaction_when_both",
            "when_both_lower",
            "when_both_upper",
            "n_both_sampled",
        ],
    ).assign(feature_a="x", feature_b="y", mean_abs_interaction=0.1)
    interactions["supported"] = interactions["n_both_sampled"] >= 20
    return PopulationExplanation(None, importance, pd.DataFrame(), interactions, 1000, "lightgbm")


def test_a_combined_need_is_headlined_only_with_enough_families_and_a_clear_interval():
    ex = _with_pairs(
        ("Few", "Families", 0.9, 0.5, 1.3, 11),  # the largest, on 11 families: not headlined
        ("Wide", "Interval", 0.6, -0.1, 1.2, 200),  # enough families, but crosses zero
        ("Domestic abuse", "Substance misuse", 0.3, 0.25, 0.35, 40),
    )
    line = ex.summary()[-1]
    assert "domestic abuse and substance misuse" in line and "+0.30 (+0.25 to +0.35)" in line
    assert "about 40 here" in line
    none = _with_pairs(("Few", "Families", 0.9, 0.5, 1.3, 11))
    assert none.summary()[-1].startswith("No combined need is headlined")


def test_interactions_from_a_forked_process_are_those_computed_here(small_population):
    """start_explanation(fork=True) computes the interaction values in a forked process
    (shap holds the GIL while it runs); the explanation is explain_model's, number for
    number, and where that process dies the values are computed here instead."""
    import os

    from escalation_model.explain import _interactions, start_explanation

    f = small_population.frame
    model = make_models(lightgbm_params={"n_estimators": 30})["lightgbm"].fit(f, f["escalated"])
    kwargs = {"sample_size": 1500, "interaction_sample": 150, "random_state": 4}
    here = explain_model(model, f, **kwargs)
    started = start_explanation(model, f, fork=True, **kwargs)
    assert started.interactions is not None
    assert started.interactions[1]._process is not None  # a process was started
    forked = started.finish()
    assert started.interactions[1]._process is None  # and ended
    pd.testing.assert_frame_equal(forked.interactions, here.interactions)
    pd.testing.assert_frame_equal(forked.importance, here.importance)
    pd.testing.assert_frame_equal(forked.by_segment, here.by_segment)

    class Dies(_interactions.InteractionValues):
        def _child(self, send):
            os._exit(3)  # killed before sending anything

    started = start_explanation(model, f, fork=True, **kwargs)
    X, pending = started.interactions
    dying = Dies(pending._explainer, X, forked=True)
    pending.abandon()
    started.interactions = (X, dying)
    pd.testing.assert_frame_equal(started.finish().interactions, here.interactions)


def test_an_error_in_the_forked_process_prints_nothing_and_is_raised_here(capfd):
    """The forked process prints no traceback of its own: the values are computed again
    here, where the same error is raised as the run's."""
    from escalation_model.explain._interactions import InteractionValues

    class Broken:
        def shap_interaction_values(self, X):
            raise ValueError("the explainer cannot read this model")

    pending = InteractionValues(Broken(), np.ones((3, 2)), forked=True)
    with pytest.raises(ValueError, match="cannot read this model"):
        pending.get()
    assert capfd.readouterr().err == ""

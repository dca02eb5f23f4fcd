from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from escalation_model.models import (
    AreaDeprivationRuleClassifier,
    CalibratedRiskClassifier,
    FivePlusRuleClassifier,
    LightGBMRiskClassifier,
    LogisticRiskClassifier,
    level_rows,
    make_models,
)
from escalation_model.schema import ColumnRoles, SchemaError


@pytest.fixture(scope="module")
def data(small_population):
    f = small_population.frame
    return f, f["escalated"].to_numpy()


def test_five_plus_rule_counts_recorded_indicators(data):
    f, y = data
    rule = FivePlusRuleClassifier().fit(f, y)
    expected = f[list(ColumnRoles().think_family)].fillna(0).sum(axis=1).to_numpy()
    np.testing.assert_array_equal(rule.rule_score(f), expected)
    assert (rule.predict(f) == (expected >= 5)).all()
    p = rule.predict_proba(f)[:, 1]
    # probabilities rise with the count and match the training rates on average
    assert abs(p.mean() - y.mean()) < 0.002
    by_count = pd.Series(p).groupby(expected).mean()
    assert by_count.is_monotonic_increasing


def test_area_rule_targets_most_deprived(data):
    f, y = data
    rule = AreaDeprivationRuleClassifier().fit(f, y)
    np.testing.assert_array_equal(rule.rule_score(f), 11 - f["deprivation_decile"].to_numpy())
    assert (rule.predict(f) == (f["deprivation_decile"] <= 2).to_numpy()).all()


@pytest.mark.parametrize("rule", [FivePlusRuleClassifier(), AreaDeprivationRuleClassifier()])
def test_a_rules_probability_and_score_from_one_encoding_are_its_own(data, rule):
    f, y = data
    rule = rule.fit(f, y)
    proba, score = rule.proba_and_score(f)
    np.testing.assert_array_equal(proba, rule.predict_proba(f)[:, 1])
    np.testing.assert_array_equal(score, rule.decision_function(f))


def test_logistic_reads_as_odds_ratios(data):
    f, y = data
    lr = LogisticRiskClassifier().fit(f, y)
    t = lr.odds_ratios().set_index("feature")
    assert t.loc["domestic_abuse", "odds_ratio"] > 1.3
    assert t.loc["lone_parent", "odds_ratio"] > 1.3
    assert "domestic_abuse not known" in t.index  # missing indicators get their own term
    assert t.loc["domestic_abuse", "label"] == "Domestic abuse"
    assert not any(name.startswith("child_") for name in t.index)


def test_protected_characteristics_only_on_request(data):
    f, y = data
    plain = LightGBMRiskClassifier(n_estimators=20).fit(f, y)
    assert not any(n.startswith("child_ethnicity") for n in plain.feature_names_)
    opted = LightGBMRiskClassifier(n_estimators=20, include_protected=True).fit(f, y)
    assert "child_ethnicity=Mixed" in opted.feature_names_
    assert "child_disability" in opted.feature_names_


def test_monotone_lightgbm_never_lowers_risk_for_an_extra_indicator(data):
    f, y = data
    gbm = LightGBMRiskClassifier(n_estimators=100).fit(f, y)
    sample = f.head(3000)
    for col in ("domestic_abuse", "substance_misuse", "lone_parent", "family_loss"):
        off, on = sample.copy(), sample.copy()
        off[col] = 0
        on[col] = 1
        diff = gbm.predict_proba(on)[:, 1] - gbm.predict_proba(off)[:, 1]
        assert diff.min() >= -1e-12, col
    less, more = sample.copy(), sample.copy()
    less["deprivation_decile"] = 10
    more["deprivation_decile"] = 1
    assert (gbm.predict_proba(more)[:, 1] - gbm.predict_proba(less)[:, 1]).min() >= -1e-12


def test_same_seed_same_predictions(data):
    f, y = data
    a = LightGBMRiskClassifier(n_estimators=50).fit(f, y).predict_proba(f)
    b = LightGBMRiskClassifier(n_estimators=50).fit(f, y).predict_proba(f)
    np.testing.assert_array_equal(a, b)


def test_calibration_is_kept_only_where_it_helps(data):
    f, y = data
    cal = CalibratedRiskClassifier(LightGBMRiskClassifier(n_estimators=60)).fit(f, y)
    rep = cal.calibration_report_
    assert rep["calibrated"] == (rep["log_loss_calibrated"] < rep["log_loss_raw"])
    assert rep["holdout_rows"] == 4000
    p = cal.predict_proba(f)[:, 1]
    assert p.min() >= 0.0 and p.max() <= 1.0


def test_without_refit_the_checked_model_is_the_final_model(data):
    f, y = data
    gbm = LightGBMRiskClassifier(n_estimators=60)
    refit = CalibratedRiskClassifier(gbm, refit=True, methods=()).fit(f, y)
    kept = CalibratedRiskClassifier(gbm, refit=False, methods=()).fit(f, y)
    assert refit.calibration_report_["calibrated"] is False  # no calibration to compare
    assert refit.calibration_report_["model_rows"] == len(f)
    assert kept.calibration_report_["model_rows"] == len(f) - 4000
    # the kept model is the one fitted on the earlier rows: same as fitting those directly
    early = f.sort_values("profile_date", kind="stable").iloc[: len(f) - 4000]
    direct = LightGBMRiskClassifier(n_estimators=60).fit(early, early["escalated"])
    np.testing.assert_array_equal(kept.predict_proba(f), direct.predict_proba(f))
    assert not np.array_equal(kept.predict_proba(f), refit.predict_proba(f))
    # the rows that set each model's overall level (the calibration widening counts them)
    assert level_rows(refit, len(f)) == len(f)
    assert level_rows(kept, len(f)) == len(f) - 4000
    assert level_rows(gbm, len(f)) == len(f)


def test_a_leaking_column_is_refused(data):
    f, y = data
    leaky = f.assign(referred=f["escalated"])
    roles = ColumnRoles(household=(*ColumnRoles().household, "referred"))
    for model in (LogisticRiskClassifier(roles=roles), LightGBMRiskClassifier(roles=roles)):
        with pytest.raises(SchemaError, match=r"'referred'.*leakage.*Fix"):
            model.fit(leaky, y)


def test_an_identifier_among_features_is_refused(data):
    f, y = data
    roles = ColumnRoles(area_factors=("rural", "family_id"))
    with pytest.raises(SchemaError, match="family_id"):
        LightGBMRiskClassifier(roles=roles).fit(f, y)


def test_missing_feature_column_is_named(data):
    f, y = data
    with pytest.raises(SchemaError, match="'poor_housing'"):
        LogisticRiskClassifier(roles=ColumnRoles()).fit(f.drop(columns="poor_housing"), y)


def test_factory_lineup():
    models = make_models(calibrate=False)
    assert set(models) == {"five_plus_rule", "area_rule", "logistic", "lightgbm"}
    assert isinstance(models["lightgbm"], LightGBMRiskClassifier)
    assert isinstance(make_models()["lightgbm"], CalibratedRiskClassifier)


def test_a_frame_whose_columns_do_not_match_the_roles_is_refused(data):
    """Renamed numeric columns and no roles: refused, never read as a plain array (which
    would make the outcome column a feature and be right on every row)."""
    f, y = data
    renamed = f.select_dtypes("number").rename(columns=lambda c: f"X_{c}")
    for model in make_models().values():
        with pytest.raises(SchemaError, match="not in the data"):
            model.fit(renamed, y)


def test_logistic_recalibration_corrects_predictions_that_are_too_spread():
    """Predictions twice as spread as the truth on the log-odds: the logistic map (an
    intercept and a slope), fitted on one half, brings the other half's slope to 1 and
    lowers its log loss."""
    from scipy.special import expit, logit

    from escalation_model.evaluation._metrics import calibration_slope
    from escalation_model.models._learned import _apply, _calibrator, _log_loss

    rng = np.random.default_rng(0)
    truth = rng.beta(1, 20, 40_000)
    y = (rng.random(truth.size) < truth).astype(int)
    spread = expit(2 * logit(truth) + 3)
    cal = _calibrator("logistic", spread[:20_000], y[:20_000])
    fixed = _apply(cal, spread[20_000:])
    assert calibration_slope(y[20_000:], spread[20_000:]) == pytest.approx(0.5, abs=0.05)
    assert calibration_slope(y[20_000:], fixed) == pytest.approx(1.0, abs=0.1)
    assert _log_loss(y[20_000:], fixed) < _log_loss(y[20_000:], spread[20_000:])


def test_an_unknown_calibration_method_is_refused(data):
    f, y = data
    gbm = LightGBMRiskClassifier(n_estimators=20)
    with pytest.raises(ValueError, match="platt.*Fix:"):
        CalibratedRiskClassifier(gbm, methods=("platt",)).fit(f, y)


def test_the_calibration_decision_does_not_depend_on_the_probability_floor(data):
    """With the two-standard-error margin, the floor (1e-6 or 1e-4) cannot tip the choice
    between raw, logistic and isotonic; both held-out losses are recorded."""
    f, y = data
    gbm = LightGBMRiskClassifier(n_estimators=60)
    reports = [
        CalibratedRiskClassifier(gbm, refit=False, floor=floor).fit(f, y).calibration_report_
        for floor in (1e-6, 1e-4)
    ]
    assert reports[0]["method"] == reports[1]["method"]
    for rep in reports:
        assert {"log_loss_raw", "log_loss_logistic", "log_loss_isotonic"} <= rep.keys()


@pytest.mark.parametrize("limit", ["1", None], ids=["OMP_NUM_THREADS=1", "unset"])
def test_the_thread_cap_changes_threads_not_numbers(data, monkeypatch, limit):
    """LightGBM itself is the reference: the same model fitted on two threads, and on the
    one thread OMP_NUM_THREADS allows, predicts exactly the same."""
    f, y = data
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    two = LightGBMRiskClassifier(n_estimators=30, n_jobs=2).fit(f, y)
    if limit is not None:
        monkeypatch.setenv("OMP_NUM_THREADS", limit)
    capped = LightGBMRiskClassifier(n_estimators=30, n_jobs=2).fit(f, y)
    threads = 1 if limit is not None else 2
    assert capped.booster_model_.get_params()["n_jobs"] == threads
    assert capped.get_params()["n_jobs"] == 2  # the hyperparameter the run records
    np.testing.assert_array_equal(capped.predict_proba(f), two.predict_proba(f))

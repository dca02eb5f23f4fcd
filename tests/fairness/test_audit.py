from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from escalation_model.datasets import make_synthetic_population
from escalation_model.evaluation import temporal_split
from escalation_model.fairness import (
    FairnessAudit,
    Tolerances,
    audit_model,
    compare_mitigations,
    select_at_capacity,
    sensitive_features_from,
)
from escalation_model.models import LightGBMRiskClassifier

matplotlib.use("Agg")

BIAS = {"column": "child_ethnicity", "group": "Black", "odds_ratio": 3.0}


def _audit(bias, seed=3, n_bootstrap=400, n_families=100_000):
    pop = make_synthetic_population(n_families, random_state=seed, referral_bias=bias)
    split = temporal_split(pop.frame)
    train, test = pop.frame.iloc[split.train], pop.frame.iloc[split.test]
    model = LightGBMRiskClassifier(n_estimators=200).fit(train, train["escalated"])
    return audit_model(
        model,
        test,
        intersections=[("child_ethnicity", "deprivation_quintile")],
        n_bootstrap=n_bootstrap,
    )


@pytest.fixture(scope="module")
def small_audit():
    rng = np.random.default_rng(0)
    n = 3000
    sex = rng.choice(["F", "M"], n)
    eth = rng.choice(["A", "B", "C", "tiny"], n, p=[0.6, 0.25, 0.14, 0.01])
    p = rng.beta(1, 12, n) * np.where(eth == "B", 1.5, 1.0)
    y = (rng.random(n) < p).astype(int)
    return FairnessAudit(
        y,
        p,
        {"sex": sex, "ethnicity": eth},
        intersections=[("sex", "ethnicity")],
        capacity=0.1,
        n_bootstrap=300,
        random_state=1,
    )


def test_point_estimates_equal_fairlearn_metricframe(small_audit):
    a = small_audit
    for char in ("sex", "ethnicity"):
        mf = a.metric_frame(char).by_group
        mine = a.by_group[a.by_group.characteristic == char]
        for metric in (
            "selection_rate",
            "true_positive_rate",
            "false_positive_rate",
            "false_negative_rate",
            "precision",
        ):
            for group, value in mf[metric].items():
                est = mine[(mine.group == str(group)) & (mine.metric == metric)].estimate.item()
                assert est == pytest.approx(value, abs=1e-12, nan_ok=True), (char, group, metric)
        mf_p = a.metric_frame(char, kind="probability").by_group
        for metric in ("roc_auc", "brier", "mean_predicted"):
            for group, value in mf_p[metric].items():
                est = mine[(mine.group == str(group)) & (mine.metric == metric)].estimate.item()
                assert est == pytest.approx(value, rel=1e-9, nan_ok=True), (char, group, metric)


@pytest.mark.slow
def test_intervals_agree_with_fairlearns_bootstrap(small_audit):
    a = small_audit
    mf = a.metric_frame("sex")
    from fairlearn.metrics import MetricFrame, selection_rate, true_positive_rate

    boot = MetricFrame(
        metrics={"selection_rate": selection_rate, "true_positive_rate": true_positive_rate},
        y_true=a._y,
        y_pred=a.selected_.astype(int),
        sensitive_features=a._sf["sex"].to_numpy(),
        n_boot=300,
        ci_quantiles=[0.025, 0.975],
        random_state=0,
    )
    lo, hi = boot.by_group_ci
    mine = a.by_group[a.by_group.characteristic == "sex"]
    for metric in ("selection_rate", "true_positive_rate"):
        for group in mf.by_group.index:
            row = mine[(mine.group == group) & (mine.metric == metric)].iloc[0]
            width = hi.loc[group, metric] - lo.loc[group, metric]
            assert abs(row.lower - lo.loc[group, metric]) < 0.3 * width
            assert abs(row.upper - hi.loc[group, metric]) < 0.3 * width


def test_small_groups_stay_visible(small_audit):
    a = small_audit
    tiny = a.by_group[(a.by_group.characteristic == "ethnicity") & (a.by_group.group == "tiny")]
    assert len(tiny) > 0 and tiny.too_small.all()
    f = a.differences
    assert (f[f.group == "tiny"].finding == "too small to assess").all()
    assert any("tiny" in line for line in a.summary())


def test_reference_defaults_to_largest_and_can_be_chosen(small_audit):
    d = small_audit.differences
    assert set(d[d.characteristic == "ethnicity"].reference) == {"A"}
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = rng.random(500)
    a = FairnessAudit(y, p, {"g": np.repeat(["x", "y"], 250)}, reference={"g": "y"}, n_bootstrap=50)
    assert set(a.differences.reference) == {"y"}


def test_findings_wording_is_never_pass_fail(small_audit):
    words = set(small_audit.findings().finding)
    assert words <= {
        "within tolerance",
        "outside tolerance",
        "too uncertain to say",
        "too small to assess",
    }
    assert "Kleinberg" in small_audit.trade_offs()


def test_tolerances_are_configurable():
    rng = np.random.default_rng(2)
    n = 4000
    g = rng.choice(["a", "b"], n)
    p = rng.beta(1, 10, n)
    y = (rng.random(n) < p * np.where(g == "b", 1.6, 1.0)).astype(int)
    strict = FairnessAudit(y, p, {"g": g}, n_bootstrap=300)
    loose = FairnessAudit(
        y, p, {"g": g}, n_bootstrap=300, tolerances=Tolerances(calibration_ratio=(0.2, 5.0))
    )
    assert len(strict.outside_tolerance("calibration_ratio")) == 1
    assert len(loose.outside_tolerance("calibration_ratio")) == 0


def test_selection_at_capacity_breaks_ties_evenly():
    score = np.array([3.0] * 10 + [1.0] * 10)
    sel = select_at_capacity(score, 5)
    assert sel.sum() == 5 and sel[:10].sum() == 5
    np.testing.assert_array_equal(sel, select_at_capacity(score, 5))


@pytest.mark.parametrize("capacity", [1, 37, 0.05, 0.5, 500])
def test_selection_at_capacity_is_the_full_sort_order(capacity):
    # a rule's score (few distinct values, many ties at the boundary) and a continuous
    # one: the linear-time selection must equal sorting by (-score, tiebreak)
    rng = np.random.default_rng(3)
    for score in (rng.integers(0, 6, 500).astype(float), rng.random(500)):
        k = min(int(round(capacity * 500 if capacity < 1 else capacity)), 500)
        tiebreak = np.random.default_rng(11).random(500)
        expected = np.zeros(500, dtype=bool)
        expected[np.lexsort((tiebreak, -score))[:k]] = True
        np.testing.assert_array_equal(select_at_capacity(score, capacity, 11), expected)


def test_sensitive_features_from_frame(small_population):
    sf = sensitive_features_from(small_population.frame)
    assert list(sf.columns) == [
        "child_ethnicity",
        "child_disability",
        "child_sex",
        "child_age_band",
        "deprivation_quintile",
        "lone_parent",
    ]
    assert set(sf.deprivation_quintile.unique()) == {"1", "2", "3", "4", "5"}


def test_plot_has_one_panel_per_characteristic(small_audit):
    fig = small_audit.plot("calibration_ratio")
    assert len(fig.axes) == 3
    # one shared axis, and each panel shades the tolerance around its reference group
    assert len({ax.get_xlim() for ax in fig.axes}) == 1
    d = small_audit.differences.query("metric == 'calibration_ratio'")
    g = small_audit.published_by_group().query("metric == 'calibration_ratio'")
    for ax, char in zip(fig.axes, ["sex", "ethnicity", "sex x ethnicity"], strict=True):
        ref = d[d.characteristic == char].reference.iloc[0]
        value = g[(g.characteristic == char) & (g.group == ref)].estimate.item()
        (span,) = ax.patches
        x0, x1 = span.get_x(), span.get_x() + span.get_width()
        assert (x0, x1) == pytest.approx((0.8 * value, 1.25 * value))


@pytest.mark.slow
def test_planted_referral_bias_is_found_at_60000_test_families_and_nothing_else_is():
    """300,000 families: about 60,000 in the test year. The bias (odds ratio 3 for one
    group) is found after Holm's adjustment across the whole family of comparisons;
    without it, no group's calibration is called outside tolerance. (Other metrics can
    truly be outside their bands: selection rates differ by deprivation by design.)"""
    biased = _audit(BIAS, n_families=300_000)
    out = biased.outside_tolerance("calibration_ratio")
    hit = out[(out.characteristic == "child_ethnicity") & (out.group == "Black")]
    assert len(hit) == 1 and hit.value.item() > 1.25
    clean = _audit(None, n_families=300_000)
    assert clean.outside_tolerance("calibration_ratio").empty


@pytest.mark.slow
def test_at_20000_test_families_the_audit_says_what_it_could_have_detected():
    biased = _audit(BIAS)
    lines = "\n".join(biased.summary())
    assert "The audit tested" in lines and "Holm" in lines
    black = next(line for line in lines.splitlines() if line.startswith("child_ethnicity = Black"))
    assert "could have been detected" in black or "outside tolerance" in black


def test_mitigation_is_reported_with_its_cost(small_population):
    f = small_population.frame
    split = temporal_split(f)
    train, test = f.iloc[split.train], f.iloc[split.test]
    model = LightGBMRiskClassifier(n_estimators=80).fit(train, train["escalated"])
    table = compare_mitigations(
        model.predict_proba(train)[:, 1],
        train["escalated"],
        train["child_sex"],
        model.predict_proba(test)[:, 1],
        test["escalated"],
        test["child_sex"],
    )
    assert table.strategy.tolist()[0] == "unmitigated at capacity"
    assert table.selection_rate.iloc[0] == pytest.approx(0.05, abs=0.001)
    assert any("randomised" in n for n in table.note)
    assert isinstance(table, pd.DataFrame) and len(table) == 5


def test_holm_controls_the_family_and_keeps_its_order():
    from escalation_model.fairness import holm

    p = np.array([0.001, 0.2, 0.011, 0.04])
    adjusted = holm(p)
    assert adjusted.tolist() == pytest.approx([0.004, 0.2, 0.033, 0.08])
    assert (adjusted >= p).all()


def test_the_family_of_comparisons_and_the_power_are_stated(small_audit):
    tested = small_audit.differences.query("tested")
    assert small_audit.n_comparisons_ == len(tested) == small_audit.comparisons().comparisons.sum()
    assert "false_negative_rate" not in set(tested.metric)  # 1 - TPR: the same test
    d = small_audit.differences.set_index(["characteristic", "group", "metric"])
    for (c, g, m), row in d[d.tested].iterrows():
        if m == "true_positive_rate":
            assert d.loc[(c, g, "false_negative_rate"), "p_adjusted"] == row.p_adjusted
    assert (tested.p_adjusted >= 0).all() and (tested.p_adjusted <= 1).all()
    ratio = tested[tested.kind == "ratio"]
    assert (ratio.detectable_low < 0.8).all() and (ratio.detectable_high > 1.25).all()
    assert "comparisons" in small_audit.family_statement()


def test_half_the_error_rate_goes_to_the_prioritised_criterion_by_characteristic(small_audit):
    d = small_audit.differences
    tested = d[d.tested]
    headline = (tested.metric == "calibration_ratio") & ~tested.characteristic.str.contains(" x ")
    assert tested.level.sum() == pytest.approx(0.05)
    assert tested.level[headline].sum() == pytest.approx(0.025)
    assert tested.level[headline].nunique() == 1 and tested.level[~headline].nunique() == 1
    # a headline comparison is held to a looser level, so it can detect a smaller gap
    cal = tested[headline].iloc[0]
    other = tested[~headline & (tested.kind == "ratio")].iloc[0]
    assert cal.level > other.level
    n_headline = int(headline.sum())
    z = (np.log(cal.detectable_high) - np.log(1.25)) / cal.se
    assert z == pytest.approx(norm.ppf(1 - 0.025 / n_headline) + norm.ppf(0.8))
    assert "reserved, in advance" in small_audit.family_statement()


def test_weighted_holm_gives_a_rejected_hypothesis_share_to_the_rest():
    from escalation_model.fairness import holm

    p = np.array([0.001, 0.03, 0.03])
    # equal weights: 0.03 * 2 = 0.06; with half the weight on the first, the others
    # start at 0.025 each and take its share once it is rejected: 0.03 * 0.5 / 0.25
    assert holm(p).tolist() == pytest.approx([0.003, 0.06, 0.06])
    assert holm(p, np.array([0.5, 0.25, 0.25])).tolist() == pytest.approx([0.002, 0.06, 0.06])
    assert holm(np.array([0.02, 0.5]), np.array([0.5, 0.5])).tolist() == pytest.approx([0.04, 0.5])


def test_families_needed_shrinks_as_the_gap_grows(small_audit):
    from escalation_model.fairness import families_needed

    row = small_audit.findings().query("metric == 'calibration_ratio' and group == 'B'").iloc[0]
    small_gap = families_needed(small_audit, row.characteristic, "B", "calibration_ratio", 1.4)
    big_gap = families_needed(small_audit, row.characteristic, "B", "calibration_ratio", 2.0)
    assert big_gap < small_gap
    assert families_needed(small_audit, row.characteristic, "B", "calibration_ratio", 1.1) == float(
        "inf"
    )
    with pytest.raises(ValueError, match="Fix:"):
        families_needed(small_audit, row.characteristic, "nobody", "calibration_ratio", 2.0)


def test_each_bootstrap_replicate_selects_its_own_families_at_capacity():
    """The threshold moves with the sample: every replicate's selected weight is the
    capacity's share of its own families, taken from the highest bins down."""
    from escalation_model.fairness._engine import _reselected

    rng = np.random.default_rng(0)
    b = np.repeat(np.arange(10), 3)  # 10 bins, 3 cells each
    wc = rng.poisson(20, size=(50, b.size)).astype(float)
    chosen = _reselected(wc, b, 10, 0.15)
    np.testing.assert_allclose(chosen.sum(axis=1), 0.15 * wc.sum(axis=1))
    assert (chosen <= wc + 1e-12).all()
    top = b == 9
    np.testing.assert_allclose(chosen[:, top], wc[:, top])  # the top bin (10%) is all in
    assert (chosen[:, b < 8] == 0).all()  # nothing below the boundary bin


def test_a_small_group_whose_escalations_were_all_reached_keeps_an_honest_interval():
    """12 escalations, all among the highest scores: every bootstrap replicate reaches
    all of them (a percentile interval of [1, 1]). The group's rate takes the Wilson
    interval and the difference an Agresti-Coull floor: the interval says how little 12
    families show."""
    rng = np.random.default_rng(5)
    n_big = 20_000
    p_big = rng.beta(1, 20, n_big)
    y_big = (rng.random(n_big) < p_big).astype(int)
    p_small = np.r_[np.full(12, 0.9), np.full(300, 0.01)]
    y_small = np.r_[np.ones(12, int), np.zeros(300, int)]
    group = np.r_[np.full(n_big, "big"), np.full(p_small.size, "small")]
    audit = FairnessAudit(
        np.r_[y_big, y_small],
        np.r_[p_big, p_small],
        {"g": group},
        capacity=0.05,
        n_bootstrap=300,
        random_state=0,
    )
    rate = audit.by_group.query("group == 'small' and metric == 'true_positive_rate'").iloc[0]
    assert rate.estimate == 1.0
    assert rate.lower == pytest.approx(0.7575, abs=1e-3)  # Wilson, 12 of 12
    d = audit.differences.query("group == 'small' and metric == 'true_positive_rate'").iloc[0]
    assert d.lower < d.value - 0.15 and d.se > 0.08
    assert d.upper > d.value  # the bootstrap's [1, 1] minus the reference would end at it


def test_a_group_too_small_to_assess_states_what_its_size_could_have_shown():
    """A group of 83 families (3 escalations) is too small to assess; the audit still
    says what a group of its size could have detected, from the rounded family count and
    the population's rate (a design-based calculation), never from the group's own
    outcomes: changing them leaves the statement unchanged."""
    rng = np.random.default_rng(3)
    n = 20_000
    p = rng.uniform(0, 0.1, n)
    y = (rng.random(n) < p).astype(int)
    group = np.r_[np.full(n - 2_083, "big"), np.full(2_000, "mid"), np.full(83, "small")]

    def audit(outcomes):
        return FairnessAudit(outcomes, p, {"g": group}, n_bootstrap=50, random_state=0)

    a = audit(y)
    row = a.findings().query("group == 'small' and metric == 'calibration_ratio'").iloc[0]
    assert row.finding == "too small to assess"
    # 85 published families at the population's rate (from rounded counts) against
    # 17,915 in the reference
    ybar = round(y.sum() / 5) * 5 / 20_000
    se = np.sqrt(1 / (85 * ybar) + 1 / (17_915 * ybar))
    tested = a.differences.query("tested")
    z = norm.ppf(1 - tested.query("metric == 'calibration_ratio'").level.min()) + norm.ppf(0.8)
    assert row.detectable_high == pytest.approx(1.25 * np.exp(z * se), rel=1e-9)
    line = a.summary()[-1]
    assert line.startswith("Too small to assess") and "g = small (about 85 families: " in line
    assert f"above {row.detectable_high:.2f} could have been detected" in line
    flipped = y.copy()
    flipped[-83:] = 1 - flipped[-83:] * 0  # every family of the small group escalates
    flipped[-83:-3] = 0  # ... then all but three do not: a different group, same size
    other = audit(flipped).findings().query("group == 'small' and metric == 'calibration_ratio'")
    assert other.iloc[0].detectable_high == row.detectable_high

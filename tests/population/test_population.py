from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation_model.datasets import make_synthetic_population
from escalation_model.evaluation import temporal_split
from escalation_model.models import LightGBMRiskClassifier, make_models
from escalation_model.population import (
    DisclosureError,
    Scenario,
    add_segments,
    aggregate,
    apply_disclosure_control,
    assert_publishable,
    calibration_uncertainty,
    compare_strategies,
    demand_forecast,
    funnel_counts,
    monitor,
    plot_funnel,
    plot_strategies,
    poisson_binomial_interval,
    poisson_binomial_pmf,
    profile_table,
    scenario_table,
)

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def fitted():
    pop = make_synthetic_population(200_000, random_state=21)
    split = temporal_split(pop.frame)
    train, test = pop.frame.iloc[split.train], pop.frame.iloc[split.test]
    model = make_models()["lightgbm"].fit(train, train["escalated"])
    proba = model.predict_proba(test)[:, 1]
    return pop, test.reset_index(drop=True), proba, pop.oracle.to_numpy()[split.test]


def test_poisson_binomial_is_exact_against_convolution():
    rng = np.random.default_rng(0)
    p = rng.random(40) * 0.4
    direct = np.array([1.0])
    for q in p:
        direct = np.convolve(direct, [1 - q, q])
    pmf = poisson_binomial_pmf(p)
    np.testing.assert_allclose(pmf, direct[: pmf.size], atol=1e-14)


@pytest.mark.parametrize("blocks", [False, True])
@pytest.mark.parametrize("shape", ["rare", "uniform", "certain_and_impossible"])
def test_the_windowed_product_is_the_direct_convolution(monkeypatch, blocks, shape):
    """Partial products cut to their mean +- 12 sd, with and without the first blocks
    multiplied directly: the same distribution and limits as multiplying in one family at
    a time (the reference)."""
    from escalation_model.population import _poisson_binomial as pb

    if blocks:
        monkeypatch.setattr(pb, "_MANY", 1)
    rng = np.random.default_rng(5)
    p = {
        "rare": rng.beta(0.5, 12, 3_001),
        "uniform": rng.random(3_001),
        "certain_and_impossible": rng.choice([0.0, 1.0, 0.3, 0.01], 3_001),
    }[shape]
    direct = np.array([1.0])
    for q in p:
        direct = np.convolve(direct, [1 - q, q])
    pmf = poisson_binomial_pmf(p)
    assert direct[pmf.size :].sum() < 1e-15
    np.testing.assert_allclose(pmf, direct[: pmf.size], atol=1e-13)
    cdf = np.cumsum(direct)
    limits = (int(np.searchsorted(cdf, 0.025, "right")), int(np.searchsorted(cdf, 0.975)))
    assert pb.count_limits(p) == limits


@pytest.mark.parametrize("calibration_se", [0.0, 0.08])
def test_prefix_limits_are_each_prefix_s_own(calibration_se):
    """The capacity curve's limits, each prefix built from the last: the same as computing
    every prefix from scratch (the reference), across the plain and the blocked paths
    (20,000 families and more), with and without the calibration mixture."""
    from escalation_model.population._poisson_binomial import count_limits, prefix_count_limits

    rng = np.random.default_rng(3)
    p = np.sort(rng.beta(0.4, 6, 60_000))[::-1]  # in the model's order, as the curve is
    sizes = [0, 5, 500, 500, 19_999, 20_001, 41_000, 60_000]
    got = prefix_count_limits(p, sizes, 0.95, calibration_se)
    assert got == [count_limits(p[:k], 0.95, calibration_se) if k else (0, 0) for k in sizes]
    with pytest.raises(ValueError, match="ascending"):
        prefix_count_limits(p, [10, 5])


@given(
    sizes=st.lists(st.integers(0, 1200), min_size=1, max_size=12),
    shape=st.sampled_from(["rare", "uniform", "certain_and_impossible"]),
    seed=st.integers(0, 10_000),
)
@settings(max_examples=40, deadline=None)
def test_groups_multiplied_together_have_each_group_s_own_limits(sizes, shape, seed):
    """The limits of every group of a table at once (groups of one power of two padded
    and multiplied in one product tree): each group's, computed alone (the reference)."""
    from escalation_model.population._poisson_binomial import group_count_limits

    rng = np.random.default_rng(seed)
    n = sum(sizes)
    p = {
        "rare": rng.beta(0.5, 12, n),
        "uniform": rng.random(n),
        "certain_and_impossible": rng.choice([0.0, 1.0, 0.3, 0.01], n),
    }[shape]
    edges = np.cumsum([0, *sizes])
    groups = [np.arange(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    alone = [poisson_binomial_interval(p[g]) if len(g) else (0, 0) for g in groups]
    assert group_count_limits(p, groups) == alone


def test_interval_coverage_of_totals_by_simulation():
    rng = np.random.default_rng(1)
    p = rng.beta(0.5, 12, 3000)
    lo, hi = poisson_binomial_interval(p)
    draws = (rng.random((4000, p.size)) < p).sum(axis=1)
    coverage = np.mean((draws >= lo) & (draws <= hi))
    assert 0.94 <= coverage <= 0.975


def test_expected_counts_by_area_are_calibrated(fitted):
    _, test, proba, _ = fitted
    table = aggregate(test, proba, "ward_code", outcome="escalated", disclosure=False)
    coverage = table["within_interval"].mean()
    print(f"\nobserved within the 95% interval in {coverage:.1%} of {len(table)} wards")
    assert 0.90 <= coverage <= 0.99


def test_published_aggregate_passes_the_checker(fitted):
    _, test, proba, _ = fitted
    seg = add_segments(test)
    for by in (
        "ward_code",
        "authority_code",
        "deprivation_quintile",
        "n_think_family_band",
        "family_type",
        ["authority_code", "n_think_family_band"],
    ):
        table = aggregate(seg, proba, by, outcome="escalated")
        assert_publishable(table)
        assert (table["families"].dropna() % 5 == 0).all()


def test_every_output_table_is_publishable(fitted):
    pop, test, proba, oracle = fitted
    tables = [
        aggregate(add_segments(test), proba, "ward_code", outcome="escalated"),
        compare_strategies(test, pop.roles, proba, capacity=0.05, oracle=oracle),
        scenario_table(test, pop.roles, proba, Scenario(), capacity=0.05),
        demand_forecast(test, proba, "authority_code", pop.roles),
        monitor(test, proba, pop.roles),
    ]
    for t in tables:
        assert_publishable(t)
        assert not set(t.columns) & {"family_id", "true_probability"}
        assert len(t) < len(test) / 10  # aggregates, not families


def test_checker_fails_on_small_cells_ids_and_scores():
    ok = apply_disclosure_control(
        pd.DataFrame({"g": ["a", "b"], "n": [40, 55]}), count_columns=["n"], size_column="n"
    )
    assert_publishable(ok)
    leaky = ok.copy()
    leaky.attrs = ok.attrs
    leaky.loc[0, "n"] = 3
    with pytest.raises(DisclosureError, match="under 10"):
        assert_publishable(leaky)
    with pytest.raises(DisclosureError, match="family_id"):
        assert_publishable(ok.assign(family_id=1))
    with pytest.raises(DisclosureError, match="apply_disclosure_control"):
        assert_publishable(pd.DataFrame({"n": [50]}))


def test_suppressed_cell_cannot_be_recovered_from_a_total():
    t = pd.DataFrame({"area": list("abcd"), "families": [200, 150, 6, 90]})
    out = apply_disclosure_control(t, count_columns=["families"], size_column="families")
    hidden = out["families"].isna()
    assert hidden.sum() == 2 and hidden[2]
    two_way = pd.DataFrame(
        {"la": ["x", "x", "y", "y"], "seg": ["p", "q", "p", "q"], "families": [40, 4, 30, 50]}
    )
    out = apply_disclosure_control(
        two_way, count_columns=["families"], size_column="families", group_columns=["la", "seg"]
    )
    # the small cell is hidden, and so is one more in its row and one more in its column
    assert out["families"].isna().sum() >= 3


def test_model_reaches_more_than_both_rules_and_need_lies_outside_deprived_areas(fitted):
    pop, test, proba, oracle = fitted
    t = compare_strategies(test, pop.roles, proba, capacity=0.05, oracle=oracle).set_index(
        "strategy"
    )
    print("\n", t[["expected_reached", "observed_reached", "offered_outside_most_deprived"]])
    assert t.loc["model", "observed_reached"] > t.loc["five_plus", "observed_reached"]
    assert t.loc["model", "observed_reached"] > t.loc["area", "observed_reached"]
    # the model's expected reach lies beyond the rule's whole interval (744 against at
    # most 709 at this seed), and close to the oracle's (739) since the calibration
    assert t.loc["model", "expected_reached"] > t.loc["five_plus", "expected_upper"]
    assert t.loc["model", "expected_reached"] == pytest.approx(
        t.loc["oracle", "expected_reached"], rel=0.02
    )
    share = t.attrs["share_of_all_observed_escalations_outside_most_deprived"]
    assert 0.45 < share < 0.65  # the founding paper: 50-60% of need outside deprived wards
    assert t.loc["area", "offered_outside_most_deprived"] == 0.0


def test_scenarios_state_assumptions_and_invent_no_costs(fitted):
    pop, test, proba, _ = fitted
    plain = scenario_table(test, pop.roles, proba, Scenario(), capacity=0.05)
    assert not any("cost" in c for c in plain.columns)
    assert set(plain.assumption) == {"low", "central", "high"}
    central = plain[(plain.strategy == "model") & (plain.assumption == "central")].iloc[0]
    assert central.escalations_averted == pytest.approx(
        0.2 * central.expected_escalations_among_offered
    )
    costed = scenario_table(
        test, pop.roles, proba, Scenario(unit_costs={"escalation": 1000.0}), capacity=0.05
    )
    row = costed[(costed.strategy == "model") & (costed.assumption == "high")].iloc[0]
    assert row.escalation_cost_averted == pytest.approx(row.escalations_averted * 1000.0)
    with pytest.raises(ValueError, match="relative reduction"):
        Scenario(risk_reduction={"central": 1.5})


def test_monitoring_detects_the_early_help_effect():
    pop = make_synthetic_population(
        300_000, random_state=8, early_help_effect=0.5, early_help_start="2014-01-01"
    )
    f = pop.frame
    before = (f["profile_date"] < "2013-01-01").to_numpy()
    model = LightGBMRiskClassifier(n_estimators=200).fit(f[before], f.loc[before, "escalated"])
    proba = model.predict_proba(f)[:, 1]
    # the model's own uncertainty about its calibration, from its out-of-sample year
    base_year = (f["profile_date"].dt.year == 2013).to_numpy()
    p13 = proba[base_year]
    se = float(np.sqrt((p13 * (1 - p13)).sum()) / p13.sum())
    table = monitor(f, proba, pop.roles, period="Y", calibration_se=se).set_index("period")
    print("\n", table[["expected", "observed", "ratio", "limit_lower", "limit_upper", "flag"]])
    # 2013 is the out-of-sample baseline; early help starts in 2014
    assert 0.85 < table.loc["2013", "ratio"] < 1.15
    for year in ("2014", "2015"):
        assert table.loc[year, "flag"] == "fewer than expected"
        assert table.loc[year, "ratio"] < 0.9 * table.loc["2013", "ratio"]
    # and no such signal without the effect
    clean = make_synthetic_population(300_000, random_state=8)
    cf = clean.frame
    model = LightGBMRiskClassifier(n_estimators=200).fit(cf[before], cf.loc[before, "escalated"])
    t2 = monitor(
        cf, model.predict_proba(cf)[:, 1], clean.roles, period="Y", calibration_se=se
    ).set_index("period")
    assert (t2.loc[["2014", "2015"], "flag"] == "within limits").all()
    assert t2.attrs["calibration_se"] == se


def test_control_limits_flag_five_percent_of_unchanged_periods_even_when_the_model_is_off():
    """A model whose overall calibration is off by a factor it does not know (log-normal,
    s.d. 0.05) and 480 expected escalations a period: with the limits widened by that
    uncertainty, about 5% of unchanged periods are flagged; without, many more."""
    from escalation_model.population._poisson_binomial import count_limits

    rng = np.random.default_rng(4)
    p = rng.beta(0.5, 15, 15_000)
    limits = {se: count_limits(p, 0.95, se) for se in (0.0, 0.05)}
    logit = np.log(p / (1 - p))
    flagged = {0.0: 0, 0.05: 0}
    runs = 2000
    for _ in range(runs):
        truth = 1 / (1 + np.exp(-(logit + rng.normal(0, 0.05))))
        x = (rng.random(p.size) < truth).sum()
        for se, (lo, hi) in limits.items():
            flagged[se] += not lo <= x <= hi
    assert 0.03 < flagged[0.05] / runs < 0.065
    assert flagged[0.0] / runs > 0.15


def test_demand_forecast_uses_the_latest_profiles(fitted):
    pop, test, proba, _ = fitted
    t = demand_forecast(test, proba, "authority_code", pop.roles)
    assert len(t) == 8
    assert t.attrs["profiles_to"] == "2015-12-31"
    assert "observed" not in t.columns


def test_the_latest_year_is_365_days_and_yearly_profiles_give_one_cohort(fitted):
    """Profiles every 1 April: the latest year, (last - 365 days, last], holds the last
    cohort only (a window closed at both ends held two)."""
    from escalation_model.population import latest_profiles

    pop, test, proba, _ = fitted
    yearly = test.iloc[:600].copy()
    years = np.repeat([2013, 2014, 2015], 200)
    yearly["profile_date"] = pd.to_datetime([f"{y}-04-01" for y in years])
    yearly["family_id"] = np.arange(600)
    recent = latest_profiles(yearly, pop.roles)
    assert recent.sum() == 200 and (years[recent] == 2015).all()
    t = demand_forecast(yearly, proba[:600], "authority_code", pop.roles)
    # the total as published: within the cell-key perturbation and half a rounding unit
    assert abs(t.attrs["total_expected"] - proba[:600][recent].sum()) <= 4.5
    dates = pd.to_datetime(test["profile_date"])
    kept = dates[latest_profiles(test, pop.roles)]
    assert (kept.max() - kept.min()).days <= 364


def test_the_demand_totals_range_includes_the_models_calibration_uncertainty(fitted):
    pop, test, proba, _ = fitted
    right = demand_forecast(test, proba, "authority_code", pop.roles)
    unsure = demand_forecast(test, proba, "authority_code", pop.roles, calibration_se=0.05)
    assert unsure.attrs["total_expected"] == right.attrs["total_expected"]
    assert unsure.attrs["total_lower"] < right.attrs["total_lower"]
    assert unsure.attrs["total_upper"] > right.attrs["total_upper"]
    # about 1.96 x 5% of the total wider on each side, with the chance variation
    e = right.attrs["total_expected"]
    widening = (unsure.attrs["total_upper"] - right.attrs["total_upper"]) / e
    assert 0.03 < widening < 0.1
    assert unsure.attrs["calibration_se"] == 0.05


def test_calibration_uncertainty_is_the_training_counts_noise_unless_the_test_says_more():
    """A model that is right on its test families is off by about its training count's
    chance variation; one whose test count is 10% above expected, by about 10%."""
    rng = np.random.default_rng(5)
    p = rng.beta(0.6, 18, 60_000)
    expected, phi = p.sum(), float((p * (1 - p)).sum() / p.sum())
    trained_on = 4 * expected
    right = [calibration_uncertainty(p, rng.binomial(1, p).sum(), trained_on) for _ in range(200)]
    # within chance most of the time: the training count's noise, half the held-out one's
    assert np.median(right) == pytest.approx(np.sqrt(phi / trained_on))
    assert np.median(right) == pytest.approx(calibration_uncertainty(p) / 2)
    off = [
        calibration_uncertainty(p, rng.binomial(1, 1.1 * p).sum(), trained_on) for _ in range(200)
    ]
    assert 0.07 < np.median(off) < 0.12
    # without outcomes, the held-out count's own noise
    assert calibration_uncertainty(p) == pytest.approx(np.sqrt(phi / expected))


def test_plots(fitted):
    pop, test, proba, oracle = fitted
    table = aggregate(test, proba, "ward_code", outcome="escalated")
    fig = plot_funnel(table, label="ward", names={str(table.ward_code[0]): "Northtown"})
    n = funnel_counts(table)
    assert n["not shown"] > 0 and n["shown"] + n["not shown"] == len(table)
    title = fig.axes[0].get_title()
    assert f"by ward: {n['shown']} of {len(table)} shown" in title
    assert f"({n['not shown']} not shown: counts too small to publish)" in title
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert 5 <= len(labels) <= 5 + n["above"] + n["below"] + n["at the limit"]
    # only published ratios are drawn: as many points as areas shown
    assert sum(len(c.get_offsets()) for c in fig.axes[0].collections) == n["shown"]
    # every area suppressed: the plot says so, no legend, no warning
    empty = plot_funnel(table.assign(observed=np.nan, ratio=np.nan), label="ward")
    assert "no ward's count can be published" in empty.axes[0].texts[0].get_text()
    fig = plot_strategies(compare_strategies(test, pop.roles, proba, capacity=0.05))
    assert len(fig.axes[0].patches) == 3


def test_funnel_limits_follow_the_counts_own_dispersion(fitted):
    """Escalations among families whose risks differ vary less than a Poisson count: the
    ward table carries the variance-to-mean ratio and the funnel's limits narrow with it
    (bench_coverage: 5.3% of unchanged wards flagged at the 95% limits, 0.8% with
    Poisson's)."""
    from escalation_model.population._aggregate import funnel_limits

    _, test, proba, _ = fitted
    table = aggregate(test, proba, "ward_code", outcome="escalated")
    phi = table.attrs["dispersion"]
    assert phi == pytest.approx(float((proba * (1 - proba)).sum() / proba.sum()))
    assert 0.5 < phi < 0.95
    lo, hi = funnel_limits(np.array([50.0]), 0.95, phi)
    plo, phi_ = funnel_limits(np.array([50.0]), 0.95)
    assert plo[0] < lo[0] < 1 < hi[0] < phi_[0]


def test_profile_table_is_publishable(small_population):
    t = profile_table(small_population.frame)
    assert t["share_high_need"].notna().all()


def test_aggregate_names_a_missing_column(fitted):
    _, test, proba, _ = fitted
    with pytest.raises(ValueError, match="family_type"):
        aggregate(test, proba, "family_type")


def test_effects_by_band_add_targeting_by_benefit_and_each_strategy_its_own_mix(fitted):
    """Where the estimated effect differs by band (none at five or more needs), the
    strategies add targeting by expected benefit, and the scenarios' estimated rows give
    each strategy the bands' effects over the families it offers: benefit averts more
    than the model's ranking, which spends places where help does nothing."""
    from escalation_model.population import BENEFIT, EstimatedEffect

    pop, test, proba, _ = fitted
    one = EstimatedEffect(0.2, 0.1, 0.3)
    assert BENEFIT not in set(
        compare_strategies(test, pop.roles, proba, capacity=0.05, estimated=one).strategy
    )
    bands = (("0", 0.3), ("1-2", 0.3), ("3-4", 0.3), ("5+", 0.0))
    by_band = EstimatedEffect(0.2, 0.1, 0.3, by_band=bands)
    strategies = compare_strategies(test, pop.roles, proba, capacity=0.05, estimated=by_band)
    rows = strategies.set_index("strategy")
    assert rows.at[BENEFIT, "families_offered"] == rows.at["model", "families_offered"]
    # it reaches fewer expected escalations: it passes over families help cannot reach
    assert rows.at[BENEFIT, "expected_reached"] < rows.at["model", "expected_reached"]
    assert_publishable(strategies)
    table = scenario_table(
        test, pop.roles, proba, Scenario(estimated=by_band), capacity=0.05
    ).set_index(["strategy", "assumption"])
    est = table.xs("estimated", level="assumption")
    assert est.at[BENEFIT, "escalations_averted"] > 1.2 * est.at["model", "escalations_averted"]
    # the model's own mix of bands: the reduction among the families it offers help,
    # recomputed here from the bands' effects
    k = int(round(0.05 * len(test)))
    band = add_segments(test, pop.roles)["n_think_family_band"].astype(str).map(dict(bands))
    top = np.argsort(-proba, kind="stable")[:k]
    mix = float((proba[top] * band.to_numpy()[top]).sum() / proba[top].sum())
    assert est.at["model", "risk_reduction"] == pytest.approx(mix, abs=0.01)
    lo, hi = (
        est.at["model", "escalations_averted_lower"],
        est.at["model", "escalations_averted_upper"],
    )
    assert lo <= est.at["model", "escalations_averted"] <= hi
    # under an assumed effect for all, benefit's rows avert less: the assumption decides
    central = table.xs("central", level="assumption")
    assert central.at[BENEFIT, "escalations_averted"] < central.at["model", "escalations_averted"]

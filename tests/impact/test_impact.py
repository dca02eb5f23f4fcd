"""The effect of early help on its recipients, against a synthetic world that knows it:
recipients chosen on observed risk, a planted reduction, a confounder no record shows."""

from __future__ import annotations

import numpy as np
import pytest

from escalation_model.datasets import make_synthetic_population
from escalation_model.impact import (
    TREATMENT,
    e_value,
    estimate_att,
    match_att,
    naive_difference,
    plant_early_help,
)


@pytest.fixture(scope="module")
def population():
    return make_synthetic_population(60_000, random_state=21)


@pytest.fixture(scope="module")
def world(population):
    return plant_early_help(population, recipients=1500, reduction=0.3, random_state=3)


def test_the_world_plants_what_it_says(population, world):
    frame = world.frame
    assert abs(world.recipients - 1500) < 150 and frame[TREATMENT].sum() == world.recipients
    assert world.true_reduction == pytest.approx(0.3)
    # recipients are chosen on observed risk: their risk without help is well above others'
    assert world.risk_without_help > 3 * population.oracle.mean()
    # a replicate draws receipt and outcomes afresh; the same seed gives the same world
    again = plant_early_help(population, recipients=1500, random_state=3)
    other = plant_early_help(population, recipients=1500, random_state=4)
    assert again.frame[TREATMENT].equals(frame[TREATMENT])
    assert not other.frame[TREATMENT].equals(frame[TREATMENT])
    assert population.roles.outcome_level not in frame.columns  # not redrawn, not kept


def test_the_doubly_robust_estimate_recovers_the_effect_the_naive_one_reverses(population, world):
    est = estimate_att(world.frame, population.roles)
    assert est.lower <= world.true_att <= est.upper
    assert est.upper < 0  # fewer escalations, clearly
    assert est.reduction_lower <= 0.3 <= est.reduction_upper
    assert est.balanced and est.set_aside == 0
    assert (est.balance["smd_before"].abs() > 0.3).any()  # there was imbalance to remove
    # recipients escalate more than others: chosen for their risk, not harmed by help
    assert naive_difference(world.frame, population.roles) > 0
    psm = match_att(world.frame, population.roles)
    assert psm.lower <= world.true_att <= psm.upper


def test_group_effects_have_intervals_that_hold_together(population):
    bands = {"0": 0.1, "1-2": 0.2, "3-4": 0.3, "5+": 0.4}
    w = plant_early_help(population, recipients=1500, reduction=bands, random_state=5)
    est = estimate_att(w.frame, population.roles, by="n_think_family_band")
    groups = est.groups.set_index("group")
    truth = w.true_by_band.set_index("band")
    assert set(groups.index) == set(truth.index)
    assert groups["recipients"].sum() == est.treated
    for band, row in truth.iterrows():
        assert groups.at[band, "lower"] <= row["true_att"] <= groups.at[band, "upper"], band
    # a band with many escalations: the normal interval; one with few (no indicators,
    # low risk): widened on the side its own rate could still reach
    many = groups.loc["5+"]
    assert np.isclose(many["upper"] - many["att"], many["att"] - many["lower"])
    few = groups.loc["0"]
    assert few["upper"] - few["att"] > few["att"] - few["lower"]


def test_an_unmeasured_confounder_is_flagged_by_the_sensitivity_analysis(population):
    w = plant_early_help(population, recipients=1500, unobserved=1.0, random_state=6)
    est = estimate_att(w.frame, population.roles)
    s = est.sensitivity
    assert s.explained_away  # a confounder as strong as a measured one could do it
    assert 1.0 <= s.e_value_interval <= s.e_value
    assert s.strongest_covariate in population.frame.columns
    assert "could move the interval to include no effect" in s.sentence() or (
        s.sentence() == "The interval already includes no effect."
    )


def test_e_value_against_vanderweele_and_ding():
    # their worked example: a risk ratio of 3.9 has an E-value of 7.26
    assert e_value(3.9) == pytest.approx(7.26, abs=0.01)
    assert e_value(1 / 3.9) == pytest.approx(7.26, abs=0.01)
    assert e_value(1.0) == 1.0


def test_a_run_with_an_early_help_column_says_what_difference_it_made(world, tmp_path):
    """The council's file names its early-help column: the run estimates the effect on
    the test period's recipients, publishes it (counts rounded), the card says it in
    words with its checks, and every artifact agrees."""
    import json

    from escalation_model.cli import main
    from tests.study._reconcile import Run, reconcile
    from tests.study.test_reconciliation import SMALL

    world.frame.to_csv(tmp_path / "families.csv", index=False)
    (tmp_path / "roles.toml").write_text('[roles]\nearly_help = "early_help"\noutcome_level = ""\n')
    (tmp_path / "run.toml").write_text(
        '[data]\nsource = "file"\npath = "families.csv"\nroles = "roles.toml"\n' + SMALL
    )
    out = tmp_path / "out"
    args = ["run", "--config", str(tmp_path / "run.toml"), "--output", str(out), "--quiet"]
    assert main([*args, "--no-tracking"]) == 0
    impact = json.loads((out / "summary.json").read_text())["impact"]
    assert impact["recipients"] % 5 == 0 and impact["families"] % 5 == 0
    e = impact["estimate"]
    assert e["lower"] <= world.true_att <= e["upper"]
    assert impact["naive_difference"] > 0 and impact["balanced"]
    groups = [r["group"] for r in impact["by_group"]]
    assert set(groups) <= {"0", "1-2", "3-4", "5+"} and groups == sorted(groups)  # in order
    card = (out / "model_card.md").read_text()
    start = card.index("## Has it made any difference?")
    section = card[start : card.index("\n## ", start + 5)]
    assert "received early help" in section and "lowered their escalations" in section
    assert "Propensity score matching" in section and "(the E-value)" in section
    assert "school_attendance" not in section  # the strongest covariate by its label
    # the planning figures use the estimate, with its interval, beside the assumed effects
    assert "use this estimate, with its interval" in section
    # one planted effect: the bands do not differ, so no separate targeting by benefit
    assert impact["targeting"]["differ"] is False and impact["targeting"]["by_band"] == {}
    assert "did not differ detectably between the groups by number of Think" in section
    summary = json.loads((out / "summary.json").read_text())
    used = summary["population"]["capacity_curve"]["estimated_effect"]
    assert used == {
        "reduction": e["reduction"],
        "lower": e["reduction_lower"],
        "upper": min(e["reduction_upper"], 1.0),
    }
    import pandas as pd

    curve = pd.read_csv(out / "capacity_curve.csv")
    assert (curve.averted_estimated_lower <= curve.averted_estimated).all()
    assert (curve.averted_estimated <= curve.averted_estimated_upper).all()
    assert curve.averted_estimated.iloc[-1] == pytest.approx(
        e["reduction"] * curve.expected_reached.iloc[-1], abs=1e-3
    )
    scenarios = pd.read_csv(out / "scenarios.csv")
    assert set(scenarios.assumption) == {"low", "central", "high", "estimated"}
    assert "benefit" not in set(pd.read_csv(out / "strategies.csv").strategy)
    effect = pd.read_csv(out / "early_help_effect.csv")
    assert effect.estimator.tolist()[:2] == ["doubly robust", "matching"]
    assert effect.att.iloc[0] == pytest.approx(e["att"], abs=1e-6)
    assert (effect.recipients % 5 == 0).all()
    groups = pd.read_csv(out / "early_help_effect_by_group.csv")
    assert len(groups) == len(impact["by_group"])
    first = card.index("## For commissioners")
    page_one = card[first : card.index("\n## ", first + 5)]
    assert "at the effect estimated from this data" in page_one
    assert (
        "early_help"
        not in card.split("## Has it made any difference?")[0].split("## Technical specification")[
            0
        ]
    )  # never a feature, never named on the front pages
    assert reconcile(Run(out, None)) == []
    # what MLflow logs: the estimate, its interval, the E-value, the bands' test
    from types import SimpleNamespace

    from escalation_model.reporting._summary import StudySummary
    from escalation_model.tracking._metrics import run_metrics

    typed = StudySummary.model_validate(summary)
    logged = run_metrics(SimpleNamespace(study_summary=lambda: typed, fairness=None))
    assert logged["impact.reduction"] == pytest.approx(e["reduction"])
    assert logged["impact.reduction.lower"] == pytest.approx(e["reduction_lower"])
    assert logged["impact.e_value_interval"] == pytest.approx(impact["e_value_interval"])
    assert logged["impact.bands_differ_p"] == pytest.approx(impact["targeting"]["heterogeneity_p"])


def test_targeting_by_expected_benefit_is_targeting_by_risk_when_effects_do_not_differ(
    population, world
):
    from escalation_model.impact import compare_targeting

    table = compare_targeting(world.frame, population.roles, places=1500)
    assert table["targeting"].tolist() == ["risk alone", "expected benefit"]
    chosen = table.attrs["chosen"]
    overlap = (chosen["risk alone"] & chosen["expected benefit"]).sum() / 1500
    assert overlap > 0.9  # one planted effect: the same families, give or take ties
    assert table["averted"].iloc[1] >= table["averted"].iloc[0] - 1e-9

"""Staggered difference in differences: against a cell-by-cell reference, against the
two-way fixed-effects regression it replaces, and against a roll-out world that knows
the truth (the coverage over many replicates is in evaluation/bench_staggered.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from escalation_model.impact import QUARTER, plant_rollout, staggered_did, true_staggered_att


def _families(rates: dict[tuple[int, int], float], per_cell: int = 200) -> pd.DataFrame:
    """Families whose outcomes give each (area, period) exactly the rate asked for."""
    rows = []
    for (area, period), rate in rates.items():
        k = round(rate * per_cell)
        rows += [(area, period, int(i < k)) for i in range(per_cell)]
    return pd.DataFrame(rows, columns=["area", "period", "y"])


def test_group_time_effects_are_the_cell_by_cell_differences():
    """Two cohorts, two comparison areas, areas of different sizes: every ATT(g, t) is
    the difference of the cohort's and the comparison areas' changes since g - 1, each
    weighted by the areas' families, computed here by hand from the cell rates."""
    rng = np.random.default_rng(3)
    areas, periods = range(6), range(5)
    size = {0: 100, 1: 300, 2: 200, 3: 100, 4: 400, 5: 200}
    started = {0: 2, 1: 2, 2: 3, 3: 3}  # areas 4 and 5 never start
    rates = {(a, t): round(float(rng.uniform(0.05, 0.3)), 2) for a in areas for t in periods}
    frame = pd.concat([_families({(a, t): rates[a, t]}, size[a]) for a in areas for t in periods])
    est = staggered_did(frame, unit="area", period="period", outcome="y", started=started)

    def change(a: int, t: int, base: int) -> float:
        return round(rates[a, t] * size[a]) / size[a] - round(rates[a, base] * size[a]) / size[a]

    def mean(group: list[int], t: int, base: int) -> float:
        w = np.array([5 * size[a] for a in group], dtype=float)  # families over 5 periods
        return float(w @ [change(a, t, base) for a in group] / w.sum())

    for row in est.group_time.itertuples():
        cohort = [a for a, g in started.items() if g == row.cohort]
        expected = mean(cohort, row.period, row.cohort - 1) - mean(
            [4, 5], row.period, row.cohort - 1
        )
        assert row.att == pytest.approx(expected, abs=1e-12)
    assert len(est.group_time) == 2 * 4  # each cohort, every period but its base
    assert est.cohorts == 2 and est.treated_units == 4 and est.units == 6


def test_it_is_nearer_the_truth_than_two_way_fixed_effects_under_staggered_timing():
    """Goodman-Bacon's case: an early cohort whose effect grows, a late one. The two-way
    fixed-effects regression also compares the late cohort with the early one already
    treated, whose growing effect it reads as the late cohort's counterfactual trend; the
    group-time estimate compares each cohort only with the areas that never started."""
    periods = range(8)
    base = 0.20
    started = {0: 2, 1: 2, 2: 5, 3: 5}

    def rate(a: int, t: int) -> float:
        g = started.get(a)
        effect = 0.0 if g is None or t < g else -0.02 * (t - g + 1)  # help works, growing
        return base + 0.01 * t + effect

    areas = [0, 1, 2, 3, 4, 5]
    frame = _families({(a, t): rate(a, t) for a in areas for t in periods}, per_cell=1000)
    est = staggered_did(frame, unit="area", period="period", outcome="y", started=started)
    assert est.att < 0 and est.upper < 0
    # two-way fixed effects: y_at = a_a + b_t + beta * treated_at (least squares)
    cells = frame.groupby(["area", "period"], as_index=False)["y"].mean()
    treated = [
        float(started.get(a) is not None and t >= started[a])
        for a, t in zip(cells.area, cells.period, strict=True)
    ]
    x = np.column_stack(
        [
            treated,
            pd.get_dummies(cells.area, dtype=float),
            pd.get_dummies(cells.period, dtype=float),
        ]
    )
    beta = np.linalg.lstsq(x, cells.y.to_numpy(), rcond=None)[0][0]
    truth = np.mean(
        [
            rate(a, t) - (base + 0.01 * t)
            for a, t in zip(cells.area, cells.period, strict=True)
            if started.get(a) is not None and t >= started[a]
        ]
    )
    assert truth < 0
    # truth -0.060: the staggered estimate -0.060, two-way fixed effects -0.036
    assert est.att == pytest.approx(truth, abs=1e-3)
    assert abs(beta - truth) > 0.2 * abs(truth)


def test_a_pre_trend_is_flagged_and_parallel_trends_are_not():
    periods = range(8)
    started = {a: 5 for a in range(20)}

    def frame(trend: float) -> pd.DataFrame:
        rates = {
            (a, t): 0.2
            + (trend * t if a in started else 0.0)
            - (0.05 if a in started and t >= 5 else 0)
            for a in range(40)
            for t in periods
        }
        rng = np.random.default_rng(1)
        f = _families(rates, per_cell=400)
        f["y"] = (rng.random(len(f)) < f.groupby(["area", "period"])["y"].transform("mean")).astype(
            int
        )
        return f

    flat = staggered_did(frame(0.0), unit="area", period="period", outcome="y", started=started)
    tilted = staggered_did(frame(0.02), unit="area", period="period", outcome="y", started=started)
    assert flat.pre_trends_flat and flat.lower < -0.05 < flat.upper
    assert not tilted.pre_trends_flat and tilted.pre_trend_p < 0.01
    pre = tilted.event_study[tilted.event_study.event_time < -1]
    assert (pre.att < 0).all()  # the rising risk shows as negative coefficients before


def test_the_roll_out_world_is_recovered(large_population):
    world = plant_rollout(large_population, random_state=2)
    where = dict(unit="ward_code", period=QUARTER, started=world.started)
    est = staggered_did(world.frame, outcome="escalated", **where)
    truth, by_event = true_staggered_att(world.frame, world.true_effect, **where)
    assert truth < 0 and est.lower <= truth <= est.upper
    assert set(by_event.index) == set(est.event_study.query("event_time >= 0").event_time)
    assert est.cohorts == 3 and est.units > 200
    # the same seed, the same intervals (the bootstrap is seeded)
    again = staggered_did(world.frame, outcome="escalated", **where)
    assert (again.lower, again.upper) == (est.lower, est.upper)


def test_no_comparison_areas_is_refused_with_a_fix():
    f = _families({(a, t): 0.1 for a in range(3) for t in range(4)})
    with pytest.raises(ValueError, match="never started.*Fix:"):
        staggered_did(f, unit="area", period="period", outcome="y", started={0: 1, 1: 2, 2: 2})


def _rollout_run(tmp_path, pop, world, rollout_rows, extra=""):
    from tests.study.test_reconciliation import SMALL

    world.frame.drop(columns=[QUARTER]).to_csv(tmp_path / "families.csv", index=False)
    pd.DataFrame(rollout_rows, columns=["area", "started"]).to_csv(
        tmp_path / "rollout.csv", index=False
    )
    (tmp_path / "roles.toml").write_text("[roles]\noutcome_level = ''\n")
    (tmp_path / "run.toml").write_text(
        '[data]\nsource = "file"\npath = "families.csv"\nroles = "roles.toml"\n'
        '[impact]\nrollout = "rollout.csv"\n' + extra + SMALL
    )
    return ["run", "--config", str(tmp_path / "run.toml"), "--output", str(tmp_path / "out")]


def test_a_run_with_a_roll_out_file_estimates_it_and_says_so(tmp_path, capsys):
    """The council names where and when early help started (UK dates): the run estimates
    the roll-out, publishes the event study, says it in the card with the figure, and
    the default run (no file) says it was not made."""
    import json

    from escalation_model.cli import main
    from escalation_model.datasets import make_synthetic_population

    pop = make_synthetic_population(50_000, random_state=31)
    world = plant_rollout(pop, reduction=0.5, random_state=31)
    rows = [(w, q.start_time.strftime("%d/%m/%Y")) for w, q in world.started.items()]
    args = _rollout_run(tmp_path, pop, world, rows)
    assert main([*args, "--no-tracking", "--quiet"]) == 0
    out = tmp_path / "out"
    summary = json.loads((out / "summary.json").read_text())
    r = summary["rollout"]
    truth, _ = true_staggered_att(
        world.frame, world.true_effect, unit="ward_code", period=QUARTER, started=world.started
    )
    assert r["lower"] <= truth <= r["upper"] < 0
    assert r["areas_started"] == len(world.started) and r["start_dates"] == 3
    assert r["families"] % 5 == 0 and r["pre_trends_flat"]
    assert {-1} & {row["event_time"] for row in r["event_study"]} == set()  # the reference
    card = (out / "model_card.md").read_text()
    start = card.index("## Has the roll-out across areas made any difference?")
    section = card[start : card.index("\n## ", start + 5)]
    assert "Early help started in" in section and "rollout_event_study.png" in section
    assert "fell by" in card and "a fall of" in card and "(by ward)" in card
    assert "parallel trends the estimate rests on hold" in card
    assert f"Only {r['areas']} areas: with so few" in card  # 48 wards at 50,000 families
    assert (out / "plots" / "rollout_event_study.png").exists()
    events = pd.read_csv(out / "rollout_event_study.csv")
    assert len(events) == len(r["event_study"]) and -1 not in set(events.event_time)
    assert "roll-out" not in " ".join(summary["notes"])  # it ran: nothing says skipped
    from tests.study._reconcile import Run, reconcile

    assert reconcile(Run(out, None)) == []
    # what MLflow logs: the effect with its interval and the pre-start test
    from types import SimpleNamespace

    from escalation_model.reporting._summary import StudySummary
    from escalation_model.tracking._metrics import run_metrics

    typed = StudySummary.model_validate(summary)
    logged = run_metrics(SimpleNamespace(study_summary=lambda: typed, fairness=None))
    assert (logged["rollout.att.lower"], logged["rollout.att.upper"]) == (r["lower"], r["upper"])
    assert logged["rollout.pre_trend_p"] == pytest.approx(r["pre_trend_p"])


def test_a_roll_out_file_that_does_not_fit_the_data_stops_the_run_before_any_work(
    tmp_path, capsys, small_population
):
    from escalation_model.cli import main

    world = plant_rollout(small_population, random_state=4)
    rows = [("NOWHERE1", "01/07/2013"), ("NOWHERE2", "2013-07-01"), ("W9", "31/02/2013")]
    args = _rollout_run(tmp_path, small_population, world, rows)
    assert main([*args, "--no-tracking"]) == 1
    err = capsys.readouterr().err
    assert "rollout.csv" in err and "area codes not in the data's column 'ward_code'" in err
    assert "NOWHERE1" in err and "31/02/2013" in err and "Fix:" in err  # every problem at once
    assert not (tmp_path / "out").exists()

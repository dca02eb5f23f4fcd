"""Benchmark: population tables and targeting strategies on 1,000,000 families.

    python evaluation/bench_population.py

Trains the default LightGBM on 2011-2013 profiles of a 1,000,000-family synthetic
population, then (a) compares the three targeting strategies (and the oracle) at a
capacity of 5% on the 2015 families, and (b) times aggregation by ward, authority,
deprivation decile, number of indicators and family type, the strategies, scenarios and
monitoring over all 1,000,000 families. Results go to evaluation/results/bench_population.json.
"""

from __future__ import annotations

import sys
import time

import pandas as pd
from _results import write_results

from escalation_model.datasets import make_synthetic_population
from escalation_model.evaluation import temporal_split
from escalation_model.models import make_models
from escalation_model.population import (
    Scenario,
    add_segments,
    aggregate,
    compare_strategies,
    monitor,
    scenario_table,
)


def main() -> int:
    pop = make_synthetic_population(1_000_000, random_state=2015)
    split = temporal_split(pop.frame)
    train = pop.frame.iloc[split.train]
    model = make_models()["lightgbm"].fit(train, train["escalated"])
    proba = model.predict_proba(pop.frame)[:, 1]
    oracle = pop.oracle.to_numpy()

    test = pop.frame.iloc[split.test].reset_index(drop=True)
    strategies = compare_strategies(
        test, pop.roles, proba[split.test], capacity=0.05, oracle=oracle[split.test]
    )
    cols = [
        "strategy",
        "families_offered",
        "expected_reached",
        "expected_lower",
        "expected_upper",
        "observed_reached",
        "observed_share_of_all",
        "offered_outside_most_deprived",
    ]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(f"targeting at 5% capacity, {len(test):,} families profiled in 2015:")
        print(strategies[cols].round(3).to_string(index=False))
    share = strategies.attrs["share_of_all_observed_escalations_outside_most_deprived"]
    print(f"share of all escalations outside the most deprived fifth of areas: {share:.1%}")

    t0 = time.perf_counter()
    seg = add_segments(pop.frame, pop.roles)
    for by in (
        "ward_code",
        "authority_code",
        "deprivation_decile",
        "n_think_family_band",
        "family_type",
    ):
        aggregate(seg, proba, by, outcome="escalated")
    t1 = time.perf_counter()
    compare_strategies(pop.frame, pop.roles, proba, capacity=0.05, oracle=oracle)
    scenario_table(pop.frame, pop.roles, proba, Scenario(), capacity=0.05, oracle=oracle)
    monitor(pop.frame, proba, pop.roles)
    t2 = time.perf_counter()
    print(
        f"1,000,000 families: aggregation by 5 groupings {t1 - t0:.1f} s; strategies, "
        f"scenarios and monitoring {t2 - t1:.1f} s; total {t2 - t0:.1f} s"
    )
    write_results(
        "bench_population",
        {
            "strategies_2015_capacity_5pct": strategies[cols].round(4).to_dict(orient="records"),
            "share_of_escalations_outside_most_deprived": round(share, 4),
            "seconds_aggregation_1m": round(t1 - t0, 2),
            "seconds_strategies_scenarios_monitoring_1m": round(t2 - t1, 2),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

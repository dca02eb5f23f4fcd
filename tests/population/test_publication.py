"""Published population tables: a suppressed count takes its interval and ratio with it;
shares are computed from published counts, so they cannot undo the rounding."""

from __future__ import annotations

import numpy as np
import pytest

from escalation_model.datasets import make_synthetic_population
from escalation_model.population import (
    add_segments,
    aggregate,
    compare_strategies,
    publish_count,
)


@pytest.fixture(scope="module")
def small():
    pop = make_synthetic_population(4_000, random_state=8)
    return pop, pop.oracle.to_numpy()


def test_a_suppressed_count_publishes_no_interval_or_ratio(small):
    pop, p = small
    table = aggregate(add_segments(pop.frame, pop.roles), p, "ward_code", outcome="escalated")
    hidden = table["observed"].isna()
    assert hidden.sum() > 5  # small wards abound at this size
    for col in ("observed_lower", "observed_upper", "ratio"):
        assert table.loc[hidden, col].isna().all(), col
    shown = ~hidden & (table["observed"] > 0)
    assert table.loc[shown, "observed_lower"].notna().all()


def test_shares_of_strategies_give_back_only_rounded_counts(small):
    pop, p = small
    table = compare_strategies(pop.frame, pop.roles, p, capacity=0.05)
    total = publish_count(float(pop.frame["escalated"].sum()))
    assert total is not None
    for r in table.itertuples(index=False):
        if np.isfinite(r.observed_reached) and r.observed_share_of_all > 0:
            recovered_total = r.observed_reached / r.observed_share_of_all
            assert recovered_total == pytest.approx(total)  # the rounded total, no more
        outside = r.offered_outside_most_deprived * r.families_offered
        assert outside == pytest.approx(round(outside / 5) * 5)  # a rounded count
    assert table["observed_share_of_all"].notna().any()


def test_one_rule_for_a_single_count():
    assert [publish_count(v) for v in (0, 1, 3, 9, 10, 12, 13, 144_186, float("nan"))] == [
        0.0,
        None,
        None,
        None,
        10.0,
        10.0,
        15.0,
        144_185.0,
        None,
    ]

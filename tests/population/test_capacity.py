"""How much early help: the capacity curve and its recommended point."""

from __future__ import annotations

import numpy as np
import pytest

from escalation_model.population import DisclosureRules, capacity_curve, diminishing_returns

#: How far a published expected figure may be from the exact sum: the largest cell-key
#: perturbation plus half the rounding unit.
PROTECTION = 2 + 2.5


@pytest.fixture(scope="module")
def proba():
    rng = np.random.default_rng(7)
    return rng.beta(0.6, 18, 30_000)


def test_the_recommended_capacity_is_where_the_curve_stands_furthest_above_random(proba):
    """Past the point of diminishing returns a place reaches fewer expected escalations
    than a random one; so the share reached minus the share offered peaks there."""
    p = np.sort(proba)[::-1]
    gain = np.cumsum(p) / p.sum() - np.arange(1, p.size + 1) / p.size
    assert diminishing_returns(proba) == int(np.argmax(gain)) + 1
    t = capacity_curve(proba, capacity=0.05, risk_reduction={"low": 0.1, "central": 0.2})
    assert t.attrs["recommended_places"] == DisclosureRules().round(diminishing_returns(proba))
    assert t.attrs["recommended_places"] % 5 == 0 and (t["places"] % 5 == 0).all()
    k = int(t.attrs["recommended_places"])
    # expected figures are published as counts are: within the cell-key perturbation (2)
    # and half the rounding unit (2.5) of the exact sum, in whole units of 5
    assert abs(t.attrs["recommended_reached"] - p[:k].sum()) <= PROTECTION
    assert t.attrs["recommended_reached"] % 5 == 0
    assert t.attrs["assumed_places"] == 1500
    assert abs(t.attrs["assumed_reached"] - p[:1500].sum()) <= PROTECTION
    row = t[t.places == k].iloc[0]
    assert row.expected_lower <= row.expected_reached <= row.expected_upper
    assert row.averted_central == pytest.approx(0.2 * row.expected_reached)
    assert t.places.max() == min(p.size, 2 * k)  # the curve runs past the recommendation
    assert t.expected_reached.is_monotonic_increasing


def test_the_curve_is_reproducible_and_publishes_no_family(proba):
    a = capacity_curve(proba, capacity=0.05, risk_reduction={"central": 0.2})
    b = capacity_curve(proba.copy(), capacity=0.05, risk_reduction={"central": 0.2})
    assert a.equals(b)
    # the rows are places, sums of probabilities and shares: no per-family figure
    assert len(a) <= 30 and set(a.columns) >= {"places", "expected_reached", "averted_central"}

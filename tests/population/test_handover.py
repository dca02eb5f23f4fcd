"""The hand-over to the looked-after demand models: expected entries into care by
quarter and age band, in their entrants' shape."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from escalation_model.population import (
    DEMAND_AGE_BANDS,
    DisclosureRules,
    EntryHistory,
    age_band,
    hand_over,
)
from escalation_model.schema import ColumnRoles


def _history(**counts) -> EntryHistory:
    base = {
        "horizon_months": 12,
        "families": 400.0,
        "entries": 500.0,
        "by_quarter": [100.0, 100.0, 200.0, 100.0],
        "by_age_band": {"under 1": 100.0, "1-4": 50.0, "5-9": 50.0, "10-15": 250.0, "16+": 50.0},
    }
    return EntryHistory.model_validate({**base, **counts})


def _families(n: int = 4000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "family_id": np.arange(n).astype(str),
            "profile_date": pd.Timestamp("2024-03-31"),
        }
    )
    return frame, rng.beta(0.5, 40, n)


def test_age_bands_at_their_boundaries():
    born = pd.to_datetime(pd.Series(["2020-02-29"] * 4 + ["2024-01-01"]))
    on = pd.to_datetime(
        pd.Series(["2021-02-28", "2021-03-01", "2025-03-01", "2036-03-01", "2023-12-01"])
    )
    # a leap-day birthday is reached on 1 March; before birth (a pre-birth plan) is under 1
    assert age_band(born, on).tolist() == ["under 1", "1-4", "5-9", "16+", "under 1"]


def test_the_table_sums_to_the_model_s_expected_entries_and_splits_by_the_history():
    frame, p = _families()
    h = hand_over(frame, p, ColumnRoles(), history=_history())
    t = h.table
    assert h.unit == "children" and set(t["unit"]) == {"children"}
    # quarters of the window after 31 March 2024, as calendar quarters
    assert t["quarter"].unique().tolist() == ["2024Q2", "2024Q3", "2024Q4", "2025Q1"]
    assert t["age_band"].unique().tolist() == list(DEMAND_AGE_BANDS)
    total = p.sum() * 500 / 400  # entries per family entering care: 1.25
    assert h.expected == pytest.approx(total, rel=1e-3)
    assert t["expected_entries"].sum() == pytest.approx(total, rel=1e-3)
    by_quarter = t.groupby("quarter")["expected_entries"].sum() / total
    assert by_quarter.tolist() == pytest.approx([0.2, 0.2, 0.4, 0.2], rel=1e-3)
    by_band = t.groupby("age_band", sort=False)["expected_entries"].sum() / total
    assert by_band.tolist() == pytest.approx([0.2, 0.1, 0.1, 0.5, 0.1], rel=1e-3)
    assert (t["lower"] <= t["expected_entries"]).all() and (
        t["expected_entries"] <= t["upper"]
    ).all()
    assert h.lower < h.expected < h.upper


def test_the_series_is_indexed_like_the_demand_models_entrants():
    frame, p = _families()
    h = hand_over(frame, p, ColumnRoles(), history=_history())
    s = h.series()
    assert s.index.names == ["from", "to"] and s.name == "daily_entry_probability"
    assert s.index.tolist() == [((), band) for band in DEMAND_AGE_BANDS]
    assert s.sum() * 365 == pytest.approx(h.expected, rel=1e-3)


def test_without_a_history_it_counts_families_and_says_what_it_assumed():
    frame, p = _families()
    h = hand_over(frame, p, ColumnRoles())
    assert h.unit == "families" and set(h.table["age_band"]) == {"all ages"}
    assert h.table["expected_entries"].tolist() == pytest.approx([p.sum() / 4] * 4, rel=1e-3)
    assert any("spread evenly" in line for line in h.basis)
    assert any("not known without the returns" in line for line in h.basis)
    with pytest.raises(ValueError, match="Fix:"):
        h.series()


def test_only_each_family_s_latest_profile_is_counted():
    frame, p = _families(100)
    older = frame.assign(profile_date=pd.Timestamp("2023-12-31"))
    both = pd.concat([frame, older], ignore_index=True)
    h = hand_over(both, np.concatenate([p, p]), ColumnRoles())
    assert h.families == 100
    assert h.expected == pytest.approx(p.sum(), rel=1e-3)


def test_the_history_is_published_and_a_stricter_run_publishes_it_again():
    entries = pd.DataFrame(
        {
            "window": np.arange(60) // 2,
            "quarter": [1] * 53 + [4] * 7,
            "age_band": ["10-15"] * 54 + ["not known"] * 6,
        }
    )
    h = EntryHistory.from_entries(entries, horizon_months=12)
    assert (h.families, h.entries) == (30.0, 60.0)
    assert h.by_quarter == [55.0, 0.0, 0.0, None]  # 7 withheld
    assert h.by_age_band["not known"] is None and h.by_age_band["10-15"] == 55.0
    assert h.quarter_shares().tolist() == [1.0, 0.0, 0.0, 0.0]
    assert h.withheld() == ["quarter 4"]
    strict = h.under(DisclosureRules(min_cell=40, round_to=10))
    assert (strict.families, strict.entries, strict.by_quarter[0]) == (None, 60.0, 60.0)
    assert strict.children_per_family() is None


def test_a_history_with_unknown_keys_or_wrong_types_is_refused():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        _history(extra=1)
    with pytest.raises(ValidationError):
        _history(entries="many")

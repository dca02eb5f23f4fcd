"""Every target of domain.md section 4, printed and asserted on 400,000 seeded families."""

from __future__ import annotations

import numpy as np
import pytest

# Among families with 5+ Think Family indicators (the founding paper's ranges across the
# eight authorities), and in the general population.
FIVE_PLUS_RANGES = {
    "no_parent_in_work": (0.85, 0.93),
    "no_parent_qualification": (0.49, 0.80),
    "maternal_mental_health": (0.70, 0.78),
    "domestic_abuse": (0.40, 0.63),
    "substance_misuse": (0.40, 0.59),
    "school_attendance_below_75": (0.27, 0.39),
    "parent_in_care_or_abused": (0.33, 0.43),
    "parent_limited_education": (0.47, 0.82),
    "family_offending": (0.38, 0.61),
    "missed_health_appointments": (0.32, 0.49),
    "family_loss": (0.30, 0.47),
    "uses_community_services": (0.24, 0.48),
}
GENERAL_RANGES = {
    "no_parent_in_work": (0.0, 0.20),  # under 20% of households
    "no_parent_qualification": (0.0, 1 / 7),  # under 1 in 7
    "maternal_mental_health": (0.15, 0.30),  # about 1 in 4
    "domestic_abuse": (0.0, 0.25),  # below the 1 in 4 lifetime figure
    "substance_misuse": (0.0, 0.05),  # under 1 in 20 households
    "school_attendance_below_75": (0.0, 0.03),  # 1.5% unauthorised absence
}


@pytest.fixture(scope="module")
def figures(large_population):
    pop = large_population
    f, r = pop.frame, pop.roles
    n_tf = f[list(r.think_family)].fillna(0).sum(axis=1).to_numpy()
    n_vf = f[list(r.indicators())].fillna(0).sum(axis=1).to_numpy()
    five = n_tf >= 5
    deprived = (f["deprivation_decile"] <= 2).to_numpy()
    y = f["escalated"].to_numpy() == 1
    lac = (f["outcome_level"] == "looked_after").to_numpy()
    d = f["deprivation_decile"].to_numpy()
    out = {
        "share_five_plus": five.mean(),
        "five_plus_outside_most_deprived": 1 - deprived[five].mean(),
        "five_plus_share_inside_most_deprived": five[deprived].mean(),
        "escalation_rate": y.mean(),
        "escalated_with_5plus_factors": (n_vf[y] >= 5).mean(),
        "escalated_with_10plus_factors": (n_vf[y] >= 10).mean(),
        "looked_after_decile1_vs_decile10": lac[d == 1].mean() / lac[d == 10].mean(),
        "families_five_plus_per_300k": five.mean() * 300_000,
        "escalation_by_n_tf": [y[n_tf == k].mean() for k in range(8)],
    }
    for col in FIVE_PLUS_RANGES:
        x = f[col].to_numpy(dtype=float, na_value=np.nan)
        out[f"{col}|5+"] = np.nanmean(x[five])
        out[f"{col}|all"] = np.nanmean(x)
    print("\nsynthetic population against the founding paper's figures (400,000 families):")
    for key, value in out.items():
        if isinstance(value, list):
            print(f"  {key:45s} " + " ".join(f"{v:.3f}" for v in value))
        else:
            print(f"  {key:45s} {value:10.3f}")
    return out


@pytest.mark.parametrize("col", sorted(FIVE_PLUS_RANGES))
def test_prevalence_among_five_plus(figures, col):
    lo, hi = FIVE_PLUS_RANGES[col]
    assert lo <= figures[f"{col}|5+"] <= hi


@pytest.mark.parametrize("col", sorted(GENERAL_RANGES))
def test_prevalence_in_general_population(figures, col):
    lo, hi = GENERAL_RANGES[col]
    assert lo <= figures[f"{col}|all"] <= hi


def test_structure(figures):
    assert 0.02 <= figures["share_five_plus"] <= 0.05
    assert 0.50 <= figures["five_plus_outside_most_deprived"] <= 0.60
    assert 0.04 <= figures["five_plus_share_inside_most_deprived"] <= 0.065
    assert 7_000 <= figures["families_five_plus_per_300k"] <= 11_000  # "roughly 9,000"


def test_escalation(figures):
    assert 0.02 <= figures["escalation_rate"] <= 0.05  # rare: a few per cent a year
    assert 0.58 <= figures["escalated_with_5plus_factors"] <= 0.70  # about 64%
    assert 0.20 <= figures["escalated_with_10plus_factors"] <= 0.32  # about 25%
    by_n = figures["escalation_by_n_tf"]
    assert all(b > a for a, b in zip(by_n, by_n[1:], strict=False))  # rises steeply
    assert by_n[6] > 10 * by_n[1]
    assert figures["looked_after_decile1_vs_decile10"] > 10  # over ten times as likely

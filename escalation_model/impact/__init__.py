"""Has early help made any difference? The effect of early help on the families who
received it, estimated from the council's own records with the checks that decide
whether a number is shown (overlap, balance, sensitivity to unmeasured confounding), and
a synthetic world that knows the true effect, to test the estimators against."""

from ._estimate import (
    ImpactEstimate,
    balance,
    compare_targeting,
    e_value,
    estimate_att,
    match_att,
    naive_difference,
)
from ._world import TREATMENT, EarlyHelpWorld, plant_early_help

__all__ = [
    "TREATMENT",
    "EarlyHelpWorld",
    "ImpactEstimate",
    "balance",
    "compare_targeting",
    "e_value",
    "estimate_att",
    "match_att",
    "naive_difference",
    "plant_early_help",
]

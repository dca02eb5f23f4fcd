"""Has early help made any difference? The effect of early help on the families who
received it, estimated from the council's own records with the checks that decide
whether a number is shown (overlap, balance, sensitivity to unmeasured confounding); where
early help started area by area, the staggered-adoption difference in differences with
its event study; and synthetic worlds that know the true effect, to test the estimators
against."""

from ._estimate import (
    ImpactEstimate,
    balance,
    e_value,
    estimate_att,
    match_att,
    naive_difference,
)
from ._plots import plot_event_study
from ._staggered import StaggeredEffect, staggered_did, true_staggered_att
from ._targeting import TargetingEffects, compare_targeting, targeting_effects
from ._world import (
    QUARTER,
    TREATMENT,
    EarlyHelpWorld,
    RolloutWorld,
    plant_early_help,
    plant_rollout,
)

__all__ = [
    "QUARTER",
    "TREATMENT",
    "EarlyHelpWorld",
    "ImpactEstimate",
    "RolloutWorld",
    "StaggeredEffect",
    "TargetingEffects",
    "balance",
    "compare_targeting",
    "e_value",
    "estimate_att",
    "match_att",
    "naive_difference",
    "plant_early_help",
    "plant_rollout",
    "plot_event_study",
    "staggered_did",
    "targeting_effects",
    "true_staggered_att",
]

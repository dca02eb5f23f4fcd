"""Aggregation by area and segment, targeting strategies, scenarios, monitoring and
disclosure control: evidence for commissioning without exposing any family."""

from ._aggregate import (
    LATEST_YEAR_DAYS,
    SEGMENTS,
    add_segments,
    aggregate,
    calibration_uncertainty,
    demand_forecast,
    family_keys,
    latest_profiles,
    latest_year,
    monitor,
    monitoring_power,
    parent_area,
    total_count_limits,
)
from ._briefing import plot_areas_ranked, plot_groups, plot_place_blocks
from ._capacity import CAPACITY_POINT_MEANING, capacity_curve, diminishing_returns
from ._disclosure import (
    FORBIDDEN_COLUMNS,
    DisclosureError,
    DisclosureRules,
    apply_disclosure_control,
    assert_publishable,
    publish_count,
    publish_share,
)
from ._effect import BENEFIT, ESTIMATED, EstimatedEffect, benefit_score, for_planning
from ._handover import DEMAND_AGE_BANDS, EntryHistory, Handover, age_band, hand_over
from ._plots import funnel_counts, funnel_flags, plot_capacity_curve, plot_funnel, plot_strategies
from ._poisson_binomial import poisson_binomial_interval, poisson_binomial_pmf
from ._profile import count_indicators, profile_table
from ._strategies import Scenario, compare_strategies, scenario_table, strategy_scores

__all__ = [
    "ESTIMATED",
    "BENEFIT",
    "EstimatedEffect",
    "benefit_score",
    "for_planning",
    "funnel_counts",
    "funnel_flags",
    "plot_areas_ranked",
    "plot_groups",
    "plot_place_blocks",
    "CAPACITY_POINT_MEANING",
    "capacity_curve",
    "diminishing_returns",
    "plot_capacity_curve",
    "DEMAND_AGE_BANDS",
    "EntryHistory",
    "Handover",
    "age_band",
    "hand_over",
    "LATEST_YEAR_DAYS",
    "latest_profiles",
    "latest_year",
    "FORBIDDEN_COLUMNS",
    "SEGMENTS",
    "DisclosureError",
    "DisclosureRules",
    "Scenario",
    "add_segments",
    "aggregate",
    "apply_disclosure_control",
    "assert_publishable",
    "compare_strategies",
    "count_indicators",
    "demand_forecast",
    "total_count_limits",
    "family_keys",
    "parent_area",
    "monitor",
    "monitoring_power",
    "calibration_uncertainty",
    "plot_funnel",
    "plot_strategies",
    "poisson_binomial_interval",
    "poisson_binomial_pmf",
    "profile_table",
    "publish_count",
    "publish_share",
    "scenario_table",
    "strategy_scores",
]

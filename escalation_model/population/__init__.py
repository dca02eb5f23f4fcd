"""Aggregation by area and segment, targeting strategies and disclosure control."""

from ._disclosure import DisclosureRules, apply_disclosure_control
from ._profile import count_indicators, profile_table

__all__ = ["DisclosureRules", "apply_disclosure_control", "count_indicators", "profile_table"]

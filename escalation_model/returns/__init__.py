"""From a council's statutory returns and agency records to the data contract.

Readers for SSDA903 (looked-after children) and the Children in Need census, each taking
one file or several collection years; statutory spells per child with the definitions
used recorded for the card; family profiles from person-level agency records; the
escalation label of each family at each profile date; ``prepare``, which joins them into
one row per family and date that ``run`` takes unchanged; and synthetic returns in the
real formats to try the whole path on.
"""

from ._care import CareChecks, care_checks, periods_of_care
from ._cin import CINCensus, read_cin_census
from ._early_help import early_help_families, read_early_help
from ._labels import LabelReport, label_families
from ._prepare import (
    PrepareConfig,
    PrepareReport,
    load_prepare_config,
    preparation_path,
    prepare,
    read_entry_history,
    read_preparation,
    read_prepared_roles,
    write_preparation,
)
from ._profiles import IndicatorRule, family_profiles, profile_schedule, read_indicator_mapping
from ._spells import LEVELS, SpellDefinitions, statutory_spells, supplied_levels
from ._ssda903 import SSDA903, read_ssda903
from ._synthetic import make_synthetic_returns

__all__ = [
    "CINCensus",
    "CareChecks",
    "care_checks",
    "early_help_families",
    "read_early_help",
    "IndicatorRule",
    "LEVELS",
    "LabelReport",
    "PrepareConfig",
    "PrepareReport",
    "SSDA903",
    "SpellDefinitions",
    "family_profiles",
    "label_families",
    "load_prepare_config",
    "make_synthetic_returns",
    "periods_of_care",
    "preparation_path",
    "prepare",
    "read_entry_history",
    "read_preparation",
    "read_prepared_roles",
    "profile_schedule",
    "read_cin_census",
    "read_indicator_mapping",
    "read_ssda903",
    "statutory_spells",
    "supplied_levels",
    "write_preparation",
]

"""Named parameters of the synthetic population's structural model.

The fitted values live as data in ``synthetic_parameters.toml`` beside this module, with a
note of how they were obtained (``evaluation/calibrate_synthetic.py``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

__all__ = ["ItemParameters", "SyntheticParameters", "load_parameters"]


@dataclass(frozen=True)
class ItemParameters:
    """One binary item (indicator or household factor) of the latent class model.

    ``logit P(item = 1 | class k, ward) = base + loading * k + deprivation * z_ward``,
    recorded as "not known" with probability ``missing`` (at random).
    """

    base: float
    loading: float
    deprivation: float = 0.0
    missing: float = 0.0


@dataclass(frozen=True)
class SyntheticParameters:
    """Every named parameter of the generator (see the module docstring of ``_synthetic``)."""

    # geography
    families_per_ward: int
    authority_sd: float
    ward_sd: float
    size_slope: float
    size_sd: float
    rural_intercept: float
    rural_slope: float
    # latent vulnerability classes (0 = no additional needs ... 3 = complex needs)
    class_thresholds: tuple[float, ...]
    class_deprivation: float
    # items
    think_family: dict[str, ItemParameters]
    secondary: dict[str, ItemParameters]
    household: dict[str, ItemParameters]
    disability: ItemParameters
    # protected characteristics that do not depend on the latent class
    ethnicity_levels: tuple[str, ...]
    ethnicity_probs: tuple[float, ...]
    ethnicity_authority_sd: float
    age_levels: tuple[str, ...]
    age_probs: tuple[float, ...]
    # escalation (log-odds scale)
    esc_intercept: float
    esc_class: float
    esc_items: dict[str, float]
    esc_hinge_start: int
    esc_hinge: float
    esc_pair: tuple[str, str]
    esc_pair_effect: float
    esc_trio: tuple[str, str, str]
    esc_trio_effect: float
    esc_deprivation: float
    esc_ethnicity: dict[str, float]
    esc_disability: float
    esc_age: dict[str, float]
    esc_trend_per_year: float
    # highest level reached
    level_lac_intercept: float
    level_lac_class: float
    level_lac_deprivation: float
    level_cp_intercept: float
    level_cp_class: float
    level_early_help_intercept: float
    level_early_help_class: float
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def with_updates(self, **changes: Any) -> SyntheticParameters:
        """A copy with some parameters changed."""
        return replace(self, **changes)

    @property
    def n_classes(self) -> int:
        return len(self.class_thresholds) + 1


def _items(table: dict[str, Any]) -> dict[str, ItemParameters]:
    return {name: ItemParameters(**values) for name, values in table.items()}


def parameters_from_dict(data: dict[str, Any]) -> SyntheticParameters:
    """Build :class:`SyntheticParameters` from the nested TOML layout."""
    g, c, e, lv, pr = (
        data["geography"],
        data["classes"],
        data["escalation"],
        data["levels"],
        data["protected"],
    )
    return SyntheticParameters(
        families_per_ward=int(g["families_per_ward"]),
        authority_sd=g["authority_sd"],
        ward_sd=g["ward_sd"],
        size_slope=g["size_slope"],
        size_sd=g["size_sd"],
        rural_intercept=g["rural_intercept"],
        rural_slope=g["rural_slope"],
        class_thresholds=tuple(c["thresholds"]),
        class_deprivation=c["deprivation"],
        think_family=_items(data["think_family"]),
        secondary=_items(data["secondary"]),
        household=_items(data["household"]),
        disability=ItemParameters(**pr["disability"]),
        ethnicity_levels=tuple(pr["ethnicity_levels"]),
        ethnicity_probs=tuple(pr["ethnicity_probs"]),
        ethnicity_authority_sd=pr["ethnicity_authority_sd"],
        age_levels=tuple(pr["age_levels"]),
        age_probs=tuple(pr["age_probs"]),
        esc_intercept=e["intercept"],
        esc_class=e["class"],
        esc_items=dict(e["items"]),
        esc_hinge_start=int(e["hinge_start"]),
        esc_hinge=e["hinge"],
        esc_pair=tuple(e["pair"]),
        esc_pair_effect=e["pair_effect"],
        esc_trio=tuple(e["trio"]),
        esc_trio_effect=e["trio_effect"],
        esc_deprivation=e["deprivation"],
        esc_ethnicity=dict(e["ethnicity"]),
        esc_disability=e["disability"],
        esc_age=dict(e["age"]),
        esc_trend_per_year=e["trend_per_year"],
        level_lac_intercept=lv["lac_intercept"],
        level_lac_class=lv["lac_class"],
        level_lac_deprivation=lv["lac_deprivation"],
        level_cp_intercept=lv["cp_intercept"],
        level_cp_class=lv["cp_class"],
        level_early_help_intercept=lv["early_help_intercept"],
        level_early_help_class=lv["early_help_class"],
        note=data.get("meta", {}).get("note", ""),
    )


def load_parameters() -> SyntheticParameters:
    """The fitted parameters shipped with the package."""
    text = resources.files(__package__).joinpath("synthetic_parameters.toml").read_text("utf-8")
    return parameters_from_dict(tomllib.loads(text))

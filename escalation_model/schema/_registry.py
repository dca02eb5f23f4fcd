"""The indicator registry: the one place that names every variable, its label and source.

Everything else in the package (the synthetic population, the default column roles,
validation, feature labels in explanations and reports) reads these tuples. To add or
rename an indicator, change it here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "NOT_RECORDED",
    "Variable",
    "THINK_FAMILY",
    "SECONDARY",
    "HOUSEHOLD",
    "AREA_FACTORS",
    "PROTECTED",
    "OUTCOME_LEVELS",
    "ESCALATED_LEVELS",
    "REGISTRY",
    "label_for",
]

_REACHING_OUT = "Cabinet Office (2007), Reaching Out: Think Family"
_WALES_MAPPING = "Vulnerable Families Mapping, 8 Welsh authorities (Rees 2015, section 3.1)"
_BEBBINGTON = "Bebbington and Miles (1989), The background of children who enter care"
_WIMD = "Welsh Index of Multiple Deprivation"


@dataclass(frozen=True)
class Variable:
    """A variable of the data contract.

    Parameters
    ----------
    name : str
        Column name in the default roles (and in the synthetic population).
    label : str
        Plain-English label used in tables, plots and the model card.
    role : str
        The role in :class:`~escalation_model.schema.ColumnRoles` it belongs to.
    source : str
        Where the indicator comes from.
    kind : str
        ``"binary"`` (0/1, missing means "not known"), ``"ordinal"`` or ``"categorical"``.
    """

    name: str
    label: str
    role: str
    source: str
    kind: str = "binary"


THINK_FAMILY: tuple[Variable, ...] = (
    Variable("no_parent_in_work", "No resident parent in work", "think_family", _REACHING_OUT),
    Variable("poor_housing", "Poor quality or overcrowded housing", "think_family", _REACHING_OUT),
    Variable(
        "no_parent_qualification", "No parent has any qualification", "think_family", _REACHING_OUT
    ),
    Variable(
        "maternal_mental_health",
        "Mother has a mental health problem",
        "think_family",
        _REACHING_OUT,
    ),
    Variable(
        "parent_limiting_illness",
        "A parent has a long-standing limiting illness or disability",
        "think_family",
        _REACHING_OUT,
    ),
    Variable("low_income", "Low income (below 60% of median)", "think_family", _REACHING_OUT),
    Variable(
        "material_deprivation",
        "Cannot afford a number of food and clothing items",
        "think_family",
        _REACHING_OUT,
    ),
    Variable("domestic_abuse", "Domestic abuse", "think_family", _WALES_MAPPING),
    Variable("substance_misuse", "Substance misuse", "think_family", _WALES_MAPPING),
    Variable(
        "school_attendance_below_75",
        "A child attends school less than 75% of the time",
        "think_family",
        _WALES_MAPPING,
    ),
)

SECONDARY: tuple[Variable, ...] = (
    Variable(
        "parent_in_care_or_abused",
        "A parent was in care or abused as a child",
        "secondary",
        _WALES_MAPPING,
    ),
    Variable(
        "parent_limited_education",
        "A parent had limited education (special needs or poor attendance)",
        "secondary",
        _WALES_MAPPING,
    ),
    Variable("family_offending", "Family history of offending", "secondary", _WALES_MAPPING),
    Variable(
        "missed_health_appointments",
        "Regularly misses health or immunisation appointments",
        "secondary",
        _WALES_MAPPING,
    ),
    Variable("family_loss", "Signs of loss (bereavement, separation)", "secondary", _WALES_MAPPING),
    Variable(
        "uses_community_services",
        "Household uses local community services",
        "secondary",
        _WALES_MAPPING,
    ),
)

HOUSEHOLD: tuple[Variable, ...] = (
    Variable("lone_parent", "Lone-parent household", "household", _BEBBINGTON),
    Variable("head_on_benefits", "Household head on benefits", "household", _BEBBINGTON),
    Variable("four_plus_children", "Four or more children", "household", _BEBBINGTON),
    Variable("rented_home", "Privately or socially rented home", "household", _BEBBINGTON),
    Variable("over_one_per_room", "More than one person per room", "household", _BEBBINGTON),
)

AREA_FACTORS: tuple[Variable, ...] = (
    Variable(
        "deprivation_decile",
        "Area deprivation decile (1 = most deprived)",
        "deprivation",
        _WIMD,
        kind="ordinal",
    ),
    Variable("rural", "Rural area", "area_factors", "Census rural-urban classification"),
)

PROTECTED: tuple[Variable, ...] = (
    Variable("child_ethnicity", "Child's ethnicity", "protected", "Census", kind="categorical"),
    Variable("child_disability", "Child has a disability", "protected", "Census"),
    Variable("child_sex", "Child's sex", "protected", "Census", kind="categorical"),
    Variable("child_age_band", "Child's age band", "protected", "Census", kind="categorical"),
)

#: Highest level of service reached within the outcome horizon, in order.
OUTCOME_LEVELS: tuple[str, ...] = (
    "none",
    "early_help",
    "child_in_need",
    "child_protection",
    "looked_after",
)
#: The levels that count as escalation into statutory care.
ESCALATED_LEVELS: tuple[str, ...] = ("child_in_need", "child_protection", "looked_after")
#: The group a missing area or protected value is counted in (kept, never dropped).
NOT_RECORDED = "not recorded"

_EXTRA_LABELS = {
    "family_id": "Family identifier",
    "profile_date": "Profiling date",
    "ward_code": "Ward",
    "authority_code": "Local authority",
    "escalated": "Escalated into statutory care within 12 months",
    "outcome_level": "Highest level of service reached",
    "n_think_family": "Number of Think Family indicators",
    "n_vulnerability_factors": "Number of vulnerability factors",
    "deprivation_quintile": "Area deprivation quintile (1 = most deprived)",
}

REGISTRY: dict[str, Variable] = {
    v.name: v for v in (*THINK_FAMILY, *SECONDARY, *HOUSEHOLD, *AREA_FACTORS, *PROTECTED)
}


def label_for(name: str) -> str:
    """Return the plain-English label of a column, or the name itself if unknown.

    Examples
    --------
    >>> label_for("domestic_abuse")
    'Domestic abuse'
    >>> label_for("my_own_column")
    'my_own_column'
    """
    if name in REGISTRY:
        return REGISTRY[name].label
    return _EXTRA_LABELS.get(name, name)

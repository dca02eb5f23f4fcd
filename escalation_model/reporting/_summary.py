"""The typed summary of a study: what ``summary.json`` holds, section by section.

Each stage's findings become one typed section; the card and the MLflow logging read
these sections, and ``summary.schema.json`` is generated from them
(:func:`summary_json_schema`; ``tests/reporting/test_summary_schema.py`` diffs it against
the committed file). Every count in a section is published (rounded, small counts
``null``); every figure the run could not estimate is ``null``, never NaN.

An analysis the run did not do is ``null`` (its reason is in ``notes``).

Examples
--------
>>> summary = StudySummary.model_validate(
...     {"escalation_model_version": "0", "code_version": "0", "python": "3.11",
...      "data": {"source": "x.csv", "synthetic": False, "fingerprint_sha256": "0" * 64,
...               "n_families": 1000.0},
...      "config": {}, "overview": {}, "disclosure_control": "rounded", "notes": []})
>>> summary.models is None
True
>>> summary.primary_model
'lightgbm'
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .._limits import DISCLOSURE_MIN_CELL, DISCLOSURE_ROUND_TO

__all__ = [
    "DataSection",
    "DisclosureSection",
    "ExplanationsSection",
    "FairnessSection",
    "HandoverSection",
    "LookedAfterSection",
    "ModelsSection",
    "PopulationSection",
    "MonitoringSection",
    "StudySummary",
    "summary_json_schema",
]

#: The committed schema of ``summary.json``.
SCHEMA_PATH = Path(__file__).with_name("summary.schema.json")

Count = (
    Annotated[
        float,
        Field(
            ge=0,
            multiple_of=DISCLOSURE_ROUND_TO,
            description=f"a published count of families: rounded to {DISCLOSURE_ROUND_TO}, or null "
            f"where under {DISCLOSURE_MIN_CELL}",
        ),
    ]
    | None
)
Figure = Annotated[
    float | None,
    Field(
        description="null where the run could not estimate it (e.g. a bootstrap interval "
        "on a tiny test set)"
    ),
]
#: A row of a published table (counts rounded, suppressed cells null).
Record = dict[str, str | float | int | bool | None]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Estimate(_Section):
    """A metric with its 95% bootstrap interval."""

    estimate: Figure
    lower: Figure
    upper: Figure


class Difference(_Section):
    """A model's metric minus the reference rule's, with its 95% interval."""

    difference: Figure
    lower: Figure
    upper: Figure


class Variable(_Section):
    """One column the run read, its role and label."""

    column: str
    role: str
    label: str
    source: str
    model_feature: bool


class DataSection(_Section):
    """What data the run analysed."""

    source: str
    synthetic: bool
    fingerprint_sha256: str = Field(pattern="^[0-9a-f]{64}$")
    n_families: Count
    missing_share: dict[str, float] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    roles: dict[str, Any] = Field(default_factory=dict, description="the column roles used")
    variables: list[Variable] = Field(default_factory=list)
    preparation: list[str] = Field(
        default_factory=list,
        description="how escalation-model prepare made the file: label definitions, "
        "exclusions (counts published)",
    )

    def role_columns(self, role: str) -> list[str]:
        """The columns mapped to a list role (empty if none)."""
        value = self.roles.get(role) or []
        return [value] if isinstance(value, str) else list(value)

    def labels(self) -> dict[str, str]:
        """Column -> plain-English label."""
        return {v.column: v.label for v in self.variables}

    def area_names(self) -> dict[str, str]:
        """Area code -> the council's name for it (``[roles.area_names]``; may be empty)."""
        names = self.roles.get("area_names") or {}
        return {str(k): str(v) for k, v in names.items()}


class SplitSection(_Section):
    """How training and test families were separated (counts published)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    description: str
    n_train: Count = None
    n_test: Count = None


class CalibrationReport(_Section):
    """The held-out check of calibration: raw, logistic and isotonic log loss, and the
    method kept (counts published)."""

    holdout_rows: Count = None
    calibrated: bool
    method: str | None = None
    log_loss_raw: float | None = None
    log_loss_logistic: float | None = None
    log_loss_isotonic: float | None = None
    log_loss_calibrated: float | None = None
    model_rows: Count = None
    reason: str | None = None


class TransferEntry(_Section):
    """One held-out authority: published family counts and each model's metrics."""

    authority: str
    n_train: Count
    n_test: Count
    metrics: dict[str, dict[str, Estimate]]


class ModelsSection(_Section):
    """The rules and models compared on the test period."""

    split: SplitSection
    test_families: Count
    test_escalations: Count
    capacity: float
    n_bootstrap: int
    confidence: float
    reference: str
    oracle_included: bool
    metrics: dict[str, dict[str, Estimate]]
    differences_to_reference: dict[str, dict[str, Difference]]
    calibration: dict[str, CalibrationReport] = Field(default_factory=dict)
    transfer: list[TransferEntry] = Field(default_factory=list)
    hyperparameters: dict[str, dict[str, str | int | float | bool | None]] = Field(
        default_factory=dict
    )


class HandoverSection(_Section):
    """Expected entries into care among the latest families, for the looked-after demand
    models (the table ``looked_after_handover.csv``, by quarter and age band)."""

    families: Count
    horizon_months: int
    unit: str = Field(
        description='"children" (ages and entries per family from the history) or "families"'
    )
    expected: Figure
    lower: Figure
    upper: Figure
    basis: list[str] = Field(
        description="where the timing, age bands and entries per family came from"
    )


class LookedAfterSection(_Section):
    """The model of entry into care (highest level "looked after"), beside the
    escalation model: its metrics on the test families, and the oracle's on synthetic
    data (figures published); the entries it expected there against those observed; and
    the hand-over to the demand models."""

    model: str
    test_entries: Count
    test_expected_entries: Figure = None
    oracle_included: bool
    metrics: dict[str, dict[str, Estimate]]
    handover: HandoverSection | None = None


class FairnessSection(_Section):
    """The fairness audit of the primary model (published figures only)."""

    model: str
    capacity: float
    prioritised: str
    characteristics: list[str]
    reference_groups: dict[str, str] = Field(default_factory=dict)
    summary: list[str]
    trade_offs: str
    outside_tolerance: list[Record]
    #: per criterion audited: how many comparisons ended in each finding
    finding_counts: list[Record] = Field(default_factory=list)
    #: per characteristic audited: how many comparisons ended in each finding
    counts_by_characteristic: list[Record] = Field(default_factory=list)
    #: the comparisons too uncertain to say, with their sizes and what was detectable
    too_uncertain: list[Record] = Field(default_factory=list)
    #: the intersections the configuration asked the audit to cover (none: not audited)
    intersections: list[list[str]] = Field(default_factory=list)
    mitigation: list[Record] | None = None


class Forecast(_Section):
    """Expected escalations among the latest year's families, by one grouping."""

    profiles_from: str | None
    profiles_to: str | None
    total_families: Count
    total_expected: Figure
    total_lower: Figure
    total_upper: Figure
    rows: list[Record]


class CapacityCurve(_Section):
    """How much early help: expected escalations reached and averted against the places
    offered in the model's order, the recommended capacity (the point of diminishing
    returns, defined in ``meaning``) and the configuration's assumed capacity."""

    families: str
    meaning: str
    total_expected: Figure
    recommended_places: Count
    recommended_reached: Figure
    recommended_share_of_expected: Figure
    assumed_places: Count
    assumed_reached: Figure
    assumed_share_of_expected: Figure
    risk_reduction: dict[str, float]
    #: the effect estimated from this data (``reduction``, ``lower``, ``upper``) where the
    #: evaluation of early help ran and balanced: the rows' ``averted_estimated`` use it
    estimated_effect: dict[str, float] | None = None
    rows: list[Record]


class PopulationSection(_Section):
    """Population tables: demand forecasts and targeting strategies."""

    #: the latest year's expected escalations by area (the coarsest level where there are
    #: several; ``highest_rates`` has every level's highest)
    demand_forecast: dict[str, Forecast]
    #: the same by family group (number of needs, family type, deprivation)
    demand_by_group: dict[str, Forecast] = Field(default_factory=dict)
    #: per area level, the areas with the most expected escalations per 1,000 families
    highest_rates: dict[str, list[Record]] = Field(default_factory=dict)
    #: per area level, the areas with the most expected escalations in total
    highest_totals: dict[str, list[Record]] = Field(default_factory=dict)
    #: per area level: the areas in the funnel plot (shown: a published ratio) and how
    #: many lie above, below or at a 95% limit
    funnel: dict[str, dict[str, int]] = Field(default_factory=dict)
    capacity_curve: CapacityCurve | None = None
    capacity_families: float | None
    strategies: list[Record]
    share_of_expected_need_outside_most_deprived: Figure = None
    share_of_observed_escalations_outside_most_deprived: Figure = None
    scenario_assumptions: dict[str, dict[str, float]]
    #: what each strategy might avert under each assumed effect (scenarios.csv)
    scenarios: list[Record] = Field(default_factory=list)
    tables: list[str]


class MonitoringSection(_Section):
    """Observed against expected escalations by quarter after training, with control
    limits, and what those limits could detect."""

    quarters: int
    flagged_fewer: int
    flagged_more: int
    calibration_se: float
    typical_quarter_expected: Figure = None
    power_10_percent_fall: Figure = None


class Driver(_Section):
    """A feature's mean absolute SHAP value with its bootstrap interval."""

    feature: str
    label: str
    mean_abs: float
    lower: Figure
    upper: Figure
    relative_se: Figure


class ExplanationsSection(_Section):
    """What drives the primary model's risk, on a sample of families."""

    model: str
    sample_size: Count
    summary: list[str]
    top_drivers: list[Driver]


class Effect(_Section):
    """An effect on the treated: a difference in escalation risk and a relative
    reduction, with 95% intervals, and the recipients' risk with and without help."""

    att: float
    lower: float
    upper: float
    reduction: Figure
    reduction_lower: Figure
    reduction_upper: Figure
    risk_with_help: float
    risk_without_help: float


class BenefitTargeting(_Section):
    """Whether the effect differs between Think Family bands (Cochran's test of one
    effect for all) and, where it does, each band's reduction (pulled toward their
    average, empirical Bayes) that targeting by expected benefit uses."""

    heterogeneity_p: float | None
    differ: bool
    by_band: dict[str, float] = Field(default_factory=dict)


class ImpactSection(_Section):
    """The estimated effect of early help on its recipients (test period families)."""

    families: Count
    recipients: Count
    set_aside: Count
    estimate: Effect
    matching: Effect
    naive_difference: float
    balanced: bool
    largest_smd_before: float
    largest_smd_after: float
    e_value: Figure
    e_value_interval: Figure
    strongest_covariate: str
    strongest_bias: float
    explained_away: bool
    sensitivity: str
    by_group: list[Record] = Field(default_factory=list)
    targeting: BenefitTargeting | None = None


class RolloutSection(_Section):
    """Where early help started area by area: the staggered difference in differences by
    quarter (the effect on the escalation rate of the areas after they started, against
    the areas that never started), its event study and the pre-start trend check."""

    area: str
    periods: str
    areas: int
    areas_started: int
    start_dates: int
    first_start: str
    last_start: str
    families: Count
    att: float
    lower: float
    upper: float
    reduction: float
    reduction_lower: float
    reduction_upper: float
    pre_trend_p: float
    pre_trends_flat: bool
    event_study: list[Record] = Field(default_factory=list)


class ModelFile(_Section):
    name: str
    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    release: str | None = Field(
        default=None, description="the model file checked as a publication, in words"
    )


class DisclosureSection(_Section):
    """The disclosure rules every published figure of the run passed."""

    min_cell: int
    round_to: int
    description: str
    statement: list[str] = Field(default_factory=list)


_SECTIONS = ("models", "looked_after", "fairness", "population", "explanations")


class StudySummary(_Section):
    """What ``escalation-model run`` found, as aggregates only: no family identifier or
    individual score. Counts of families are rounded and counts under the threshold are
    null (disclosure control). Analyses the data cannot support are null, with the
    reason in ``notes``."""

    escalation_model_version: str
    code_version: str = Field(description="package version and git commit")
    python: str
    data: DataSection
    config: dict[str, Any] = Field(description="the run's configuration, every default filled")
    settings_in_run: dict[str, str] = Field(
        default_factory=dict,
        description="settings whose analysis did not run ('not run: why') or whose value "
        "the run chose ('used: ...'), by dotted key",
    )
    overview: dict[str, Figure] = Field(description="counts (published) and shares")
    models: ModelsSection | None = None
    looked_after: LookedAfterSection | None = None
    fairness: FairnessSection | None = None
    population: PopulationSection | None = None
    monitoring: MonitoringSection | None = None
    explanations: ExplanationsSection | None = None
    impact: ImpactSection | None = None
    rollout: RolloutSection | None = None
    disclosure_control: DisclosureSection
    model_file: ModelFile | None = None
    notes: list[str]

    @model_validator(mode="before")
    @classmethod
    def _empty_is_not_run(cls, value: Any) -> Any:
        """Summaries of earlier versions wrote an analysis not run as ``{}``."""
        if isinstance(value, dict):
            value = {k: (None if k in _SECTIONS and v == {} else v) for k, v in value.items()}
            if isinstance(value.get("disclosure_control"), str):  # earlier versions
                value["disclosure_control"] = {
                    "min_cell": DISCLOSURE_MIN_CELL,
                    "round_to": DISCLOSURE_ROUND_TO,
                    "description": value["disclosure_control"],
                }
        return value

    @property
    def primary_model(self) -> str:
        """The model that was audited, explained and published."""
        return str(self.config.get("models", {}).get("primary", "lightgbm"))

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data, in field order."""
        return self.model_dump(mode="json")


def summary_json_schema() -> dict[str, Any]:
    """The JSON Schema of ``summary.json``, generated from :class:`StudySummary`."""
    schema = StudySummary.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://escalation-model.example/summary.schema.json",
        "title": "escalation_model run summary (summary.json)",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def write_summary_json_schema(path: Path = SCHEMA_PATH) -> Path:
    """Regenerate the committed schema (``python -m escalation_model.reporting._summary``)."""
    path.write_text(json.dumps(summary_json_schema(), indent=2) + "\n", "utf-8")
    return path


if __name__ == "__main__":  # pragma: no cover
    print(write_summary_json_schema())

"""Run configuration: TOML read with the standard library and validated into typed,
frozen objects (pydantic), before any data is read.

Unknown keys, wrong types (no silent coercion: ``"many"`` is not a number and ``true``
is not 1), wrong shapes (an intersection is a list of two or more column names), values
out of range and hyperparameter names that the estimator does not have all stop the run
with one :class:`ConfigError` naming the key and the fix. Every default lives here, once.

Examples
--------
>>> config = RunConfig()
>>> config.evaluation.capacity, config.models.calibration_refit
(0.05, False)
>>> RunConfig.model_validate({"evaluation": {"n_bootstrap": 0}})
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for RunConfig
...
"""

from __future__ import annotations

import tomllib
from os import PathLike
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ._audit_metrics import AUDIT_METRICS
from ._errors import EscalationModelError
from ._limits import (
    DISCLOSURE_MIN_CELL,
    DISCLOSURE_ROUND_TO,
    MIN_AUDIT_GROUP_SIZE,
    OUTCOME_HORIZON_DAYS,
)

__all__ = [
    "ConfigError",
    "DataConfig",
    "DisclosureConfig",
    "EvaluationConfig",
    "ExplainConfig",
    "FairnessConfig",
    "ImpactConfig",
    "ModelsConfig",
    "PopulationConfig",
    "RunConfig",
    "SplitConfig",
    "load_config",
]


class ConfigError(EscalationModelError):
    """A configuration that cannot be used; the message names the key and the fix."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class DataConfig(_Section):
    """Where the families come from.

    ``source = "synthetic"`` generates the embedded population; ``"file"`` reads ``path``
    (CSV or Parquet) with the column roles of the TOML file ``roles``.
    """

    source: Literal["synthetic", "file"] = "synthetic"
    n_families: Annotated[int, Field(ge=1)] = 300_000
    n_authorities: Annotated[int, Field(ge=1)] = 8
    seed: int = 2015
    path: str | None = None
    roles: str | None = None


class SplitConfig(_Section):
    """The temporal split: test on profiles from ``test_start`` (default: the last year)."""

    test_start: str | None = None
    horizon_days: Annotated[int, Field(ge=1)] = OUTCOME_HORIZON_DAYS
    leave_one_authority_out: bool = True
    transfer_max_train: Annotated[int, Field(ge=100)] = 25_000
    transfer_n_bootstrap: Annotated[int, Field(ge=1)] = 300

    @field_validator("test_start")
    @classmethod
    def _a_date(cls, value: str | None) -> str | None:
        import pandas as pd

        if value is not None:
            try:
                pd.Timestamp(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a date; write it as 'YYYY-MM-DD'") from None
        return value


class ModelsConfig(_Section):
    """Which models, and their hyperparameters (estimator parameters, logged as such).

    ``primary`` is the model whose figures are published: it is audited, explained,
    used for the population tables, written as ``model.skops`` and registered.

    ``calibration_refit = false`` keeps the LightGBM model fitted on the earlier 80% of
    training families when no calibration is kept (half the fitting time).

    The hyperparameter names are checked where the estimators live
    (:func:`escalation_model.models.check_hyperparameters`), before any data is read.
    """

    primary: Literal["lightgbm", "logistic"] = "lightgbm"
    include_protected: bool = False
    calibrate: bool = True
    calibration_refit: bool = False
    random_state: int = 0
    lightgbm: dict[str, Any] = Field(default_factory=dict)
    logistic: dict[str, Any] = Field(default_factory=dict)


class EvaluationConfig(_Section):
    """Capacity of the early-help service (a share below 1, or a number of places) and
    the bootstrap."""

    capacity: Annotated[int, Field(gt=0)] | Annotated[float, Field(gt=0)] = 0.05
    n_bootstrap: Annotated[int, Field(ge=1)] = 1000
    confidence: Annotated[float, Field(gt=0, lt=1)] = 0.95
    random_state: int = 0

    @field_validator("capacity")
    @classmethod
    def _usable_capacity(cls, value: float) -> float:
        from ._selection import capacity_problem

        problem = capacity_problem(value)
        if problem is not None:
            raise ValueError(f"{problem}; write a share such as 0.05 or a number such as 400")
        return value


class FairnessConfig(_Section):
    """The audit: which intersections, which characteristic to test mitigation on.

    ``intersections`` name columns of the data (or ``deprivation_quintile``); none by
    default. ``mitigation_characteristic`` defaults to the first protected
    characteristic of the roles.
    """

    intersections: list[Annotated[list[str], Field(min_length=2)]] = Field(default_factory=list)
    mitigation_characteristic: str | None = None
    min_group_size: Annotated[int, Field(ge=1)] = MIN_AUDIT_GROUP_SIZE
    prioritised: str = "calibration_ratio"

    @field_validator("prioritised")
    @classmethod
    def _a_criterion(cls, value: str) -> str:
        if value not in AUDIT_METRICS:
            raise ValueError(f"unknown criterion {value!r}; use one of {sorted(AUDIT_METRICS)}")
        return value


class PopulationConfig(_Section):
    """Population tables, targeting strategies and scenarios.

    ``groupings`` are columns of the data or derived segments (``n_think_family_band``,
    ``family_type``, ``deprivation_quintile``, ``most_deprived_areas``); ``area`` stands
    for every column of the area role, coarsest first. ``risk_reduction`` holds the
    assumed relative reductions in escalation among families offered early help;
    ``unit_costs`` (per averted ``escalation`` and ``looked_after`` placement) must come
    from the analyst: none is assumed. ``current_rule`` says which simple rule the
    council uses today to decide where early help goes (``"five_plus_rule"``: families
    with 5+ Think Family indicators first; ``"area_rule"``: the most deprived areas
    first); the card's first page compares the model with it, and says so when it is
    not stated.
    """

    groupings: list[str] = Field(
        default_factory=lambda: [
            "area",
            "deprivation_quintile",
            "n_think_family_band",
            "family_type",
        ]
    )
    risk_reduction: dict[str, Annotated[float, Field(ge=0, lt=1)]] = Field(
        default_factory=lambda: {"low": 0.1, "central": 0.2, "high": 0.3}
    )
    unit_costs: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    current_rule: Literal["five_plus_rule", "area_rule"] | None = None


class ImpactConfig(_Section):
    """The effect of early help where it started area by area at different dates.

    ``rollout`` is a CSV file (relative to this file) with one row per area where early
    help started: the area's code (column ``area``) and the date it started (column
    ``started``, ISO or UK day/month/year). Areas of the data not in it are the
    comparison: early help never started there within the data. ``rollout_area`` names
    the area column those codes belong to (by default the finest column of the area
    role). The estimate is a staggered difference in differences by quarter of profile
    (``impact.staggered_did``).
    """

    rollout: str | None = None
    rollout_area: str | None = None


class ExplainConfig(_Section):
    """SHAP summaries: families sampled for attributions and for interactions."""

    sample_size: Annotated[int, Field(ge=1)] = 10_000
    interaction_sample: Annotated[int, Field(ge=0)] = 1_000


class DisclosureConfig(_Section):
    """Disclosure control of everything published. Stricter settings only: counts under
    ``min_cell`` (at least 10) are suppressed, and counts are rounded to ``round_to`` (a
    multiple of 5)."""

    min_cell: Annotated[int, Field(ge=DISCLOSURE_MIN_CELL)] = DISCLOSURE_MIN_CELL
    round_to: Annotated[int, Field(ge=DISCLOSURE_ROUND_TO, multiple_of=DISCLOSURE_ROUND_TO)] = (
        DISCLOSURE_ROUND_TO
    )


class RunConfig(_Section):
    """The whole run. Sections mirror the TOML tables; ``output`` is ``[output] dir``."""

    data: DataConfig = Field(default_factory=DataConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    fairness: FairnessConfig = Field(default_factory=FairnessConfig)
    population: PopulationConfig = Field(default_factory=PopulationConfig)
    impact: ImpactConfig = Field(default_factory=ImpactConfig)
    explain: ExplainConfig = Field(default_factory=ExplainConfig)
    disclosure: DisclosureConfig = Field(default_factory=DisclosureConfig)
    output: Annotated[str, Field(min_length=1)] = "outputs/run"
    source_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The configuration as plain data (for the summary and MLflow)."""
        return self.model_dump(exclude={"source_file"})

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with ``changes`` (validated like the file).

        >>> RunConfig().replace(output="elsewhere").output
        'elsewhere'
        """
        return RunConfig.model_validate({**self.model_dump(), **changes})


_FIXES = {
    "extra_forbidden": "remove it or correct its spelling",
    "missing": "add it",
}


_UNION_TAGS = {"int", "float", "str", "bool", "list[str]", "constrained-int", "constrained-float"}


def _key(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    if parts == ["output"]:
        return "[output].dir"
    if parts and parts[0] in _TABLES:
        return f"[{parts[0]}]" + "".join(f".{p}" for p in parts[1:])
    return ".".join(parts) or "(the file)"


_KEY_FIXES = {
    "[fairness].intersections": "write a list of lists of two or more column names, for "
    'example intersections = [["Ethnicity", "deprivation_quintile"]]',
    "[models].lightgbm": "use the estimator's own parameter names, listed above",
    "[models].logistic": "use the estimator's own parameter names, listed above",
}
_TABLES = (
    "data",
    "split",
    "models",
    "evaluation",
    "fairness",
    "population",
    "impact",
    "explain",
    "disclosure",
)


def _config_error(where: str, exc: ValidationError) -> ConfigError:
    lines = []
    for err in exc.errors():
        loc = err["loc"]
        # a union reports each of its members: name the key once
        loc = tuple(p for p in loc if p not in _UNION_TAGS)
        key = _key(loc)
        fix = _KEY_FIXES.get(key) or _FIXES.get(
            err["type"], "correct the value (see training/configs/default.toml)"
        )
        if err["type"] == "extra_forbidden" and loc[:1] and loc[0] in _TABLES:
            known = sorted(_SECTIONS[loc[0]].model_fields)
            fix = f"use only {known}"
        lines.append(f"{where} {key}: {err['msg']} (got {err.get('input')!r}). Fix: {fix}.")
    return ConfigError("\n".join(dict.fromkeys(lines)))


_SECTIONS: dict[str, type[_Section]] = {
    "data": DataConfig,
    "split": SplitConfig,
    "models": ModelsConfig,
    "evaluation": EvaluationConfig,
    "fairness": FairnessConfig,
    "population": PopulationConfig,
    "impact": ImpactConfig,
    "explain": ExplainConfig,
    "disclosure": DisclosureConfig,
}


def _file_config(path: Path, raw: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(raw) - set(_SECTIONS) - {"output"})
    if unknown:
        raise ConfigError(
            f"{path}: unknown table(s) {unknown}. Fix: use "
            f"{', '.join(f'[{s}]' for s in (*_SECTIONS, 'output'))}."
        )
    for name, table in raw.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: '{name}' must be a table. Fix: write it as [{name}].")
    output = raw.get("output", {})
    if set(output) - {"dir"}:
        raise ConfigError(f"{path} [output]: only dir = '<folder>' is allowed. Fix: use that.")
    data = dict(raw.get("data", {}))
    for key in ("path", "roles"):  # relative to the configuration file
        if isinstance(data.get(key), str) and not Path(data[key]).is_absolute():
            data[key] = str((path.parent / data[key]).resolve())
    out: dict[str, Any] = {k: v for k, v in raw.items() if k in _SECTIONS}
    out["data"] = data
    impact = dict(raw.get("impact", {}))
    if isinstance(impact.get("rollout"), str) and not Path(impact["rollout"]).is_absolute():
        impact["rollout"] = str((path.parent / impact["rollout"]).resolve())
    if impact:
        out["impact"] = impact
    if "dir" in output:
        out["output"] = output["dir"]
    out["source_file"] = str(path)
    return out


def load_config(path: str | PathLike[str] | None = None) -> RunConfig:
    """Read and validate a run configuration; ``None`` gives the defaults.

    Relative paths inside the file (data, roles) are resolved against the file's folder.
    Raises :class:`ConfigError` naming the file, the key and the fix.
    """
    if path is None:
        return RunConfig()
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist. Fix: give the path of a TOML file.")
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}). Fix: correct the syntax.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text. Fix: save it as UTF-8.") from None
    try:
        config = RunConfig.model_validate(_file_config(path, raw))
    except ValidationError as exc:
        raise _config_error(str(path), exc) from None
    if config.data.source == "file" and not config.data.path:
        raise ConfigError(
            f"{path} [data]: source = 'file' but no path is given. Fix: add "
            "path = '<your CSV or Parquet file>'."
        )
    return config

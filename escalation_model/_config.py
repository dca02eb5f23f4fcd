"""Run configuration: TOML read with the standard library into typed objects."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from os import PathLike
from pathlib import Path
from typing import Any

from ._errors import EscalationModelError
from ._limits import OUTCOME_HORIZON_DAYS

__all__ = [
    "ConfigError",
    "DataConfig",
    "EvaluationConfig",
    "ExplainConfig",
    "FairnessConfig",
    "PopulationConfig",
    "ModelsConfig",
    "RunConfig",
    "SplitConfig",
    "load_config",
]


class ConfigError(EscalationModelError):
    """A configuration file that cannot be used; the message names the key and the fix."""


@dataclass(frozen=True)
class DataConfig:
    """Where the families come from.

    ``source = "synthetic"`` generates the embedded population; ``"file"`` reads ``path``
    (CSV or Parquet) with the column roles of the TOML file ``roles``.
    """

    source: str = "synthetic"
    n_families: int = 300_000
    n_authorities: int = 8
    seed: int = 2015
    path: str | None = None
    roles: str | None = None


@dataclass(frozen=True)
class SplitConfig:
    """The temporal split: test on profiles from ``test_start`` (default: the last year)."""

    test_start: str | None = None
    horizon_days: int = OUTCOME_HORIZON_DAYS
    leave_one_authority_out: bool = True
    transfer_max_train: int = 25_000
    transfer_n_bootstrap: int = 300


@dataclass(frozen=True)
class ModelsConfig:
    """Which models, and their hyperparameters (estimator parameters, logged as such)."""

    include_protected: bool = False
    calibrate: bool = True
    calibration_refit: bool = False
    random_state: int = 0
    lightgbm: dict[str, Any] = field(default_factory=dict)
    logistic: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EvaluationConfig:
    """Capacity of the early-help service and the bootstrap."""

    capacity: float = 0.05
    n_bootstrap: int = 1000
    confidence: float = 0.95
    random_state: int = 0


@dataclass(frozen=True)
class FairnessConfig:
    """The audit: which intersections, which characteristic to test mitigation on.

    ``intersections`` name columns of the data (or ``deprivation_quintile``); none by
    default. ``mitigation_characteristic`` defaults to the first protected
    characteristic of the roles.
    """

    intersections: list[list[str]] = field(default_factory=list)
    mitigation_characteristic: str | None = None
    min_group_size: int = 50
    prioritised: str = "calibration_ratio"


@dataclass(frozen=True)
class PopulationConfig:
    """Population tables, targeting strategies and scenarios.

    ``groupings`` are columns of the data or derived segments (``n_think_family_band``,
    ``family_type``, ``deprivation_quintile``, ``most_deprived_areas``); ``area`` stands
    for every column of the area role, coarsest first.

    ``risk_reduction`` holds the assumed relative reductions in escalation among families
    offered early help; ``unit_costs`` (per averted ``escalation`` and ``looked_after``
    placement) must come from the analyst: none is assumed.
    """

    groupings: list[str] = field(
        default_factory=lambda: [
            "area",
            "deprivation_quintile",
            "n_think_family_band",
            "family_type",
        ]
    )
    risk_reduction: dict[str, float] = field(
        default_factory=lambda: {"low": 0.1, "central": 0.2, "high": 0.3}
    )
    unit_costs: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ExplainConfig:
    """SHAP summaries: families sampled for attributions and for interactions."""

    sample_size: int = 10_000
    interaction_sample: int = 1_000


@dataclass(frozen=True)
class RunConfig:
    """The whole run. Sections mirror the TOML tables."""

    data: DataConfig = field(default_factory=DataConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    models: ModelsConfig = field(default_factory=ModelsConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    fairness: FairnessConfig = field(default_factory=FairnessConfig)
    population: PopulationConfig = field(default_factory=PopulationConfig)
    explain: ExplainConfig = field(default_factory=ExplainConfig)
    output: str = "outputs/run"
    source_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("source_file")
        return out


_SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "split": SplitConfig,
    "models": ModelsConfig,
    "evaluation": EvaluationConfig,
    "fairness": FairnessConfig,
    "population": PopulationConfig,
    "explain": ExplainConfig,
}


def _section(cls: type, table: dict[str, Any], where: str) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}. Fix: use only {sorted(known)}.")
    defaults = cls()
    for key, value in table.items():
        default = getattr(defaults, key)
        ok = default is None or isinstance(value, type(default))
        if isinstance(default, int) and isinstance(value, bool) and not isinstance(default, bool):
            ok = False  # true is not a number
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            raise ConfigError(
                f"{where}.{key}: expected {type(default).__name__}, got {value!r}. "
                f"Fix: write it like the default ({default!r})."
            )
    return cls(**table)


def load_config(path: str | PathLike[str] | None = None) -> RunConfig:
    """Read a run configuration; ``None`` gives the defaults.

    Relative paths inside the file (data, roles) are resolved against the file's folder.
    """
    if path is None:
        return RunConfig()
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist. Fix: give the path of a TOML file.")
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}). Fix: correct the syntax.") from exc
    unknown = sorted(set(raw) - set(_SECTIONS) - {"output"})
    if unknown:
        raise ConfigError(
            f"{path}: unknown table(s) {unknown}. Fix: use "
            f"{', '.join(f'[{s}]' for s in (*_SECTIONS, 'output'))}."
        )
    data_table = dict(raw.get("data", {}))
    for key in ("path", "roles"):
        if isinstance(data_table.get(key), str) and not Path(data_table[key]).is_absolute():
            data_table[key] = str((path.parent / data_table[key]).resolve())
    sections = {
        name: _section(
            cls, data_table if name == "data" else dict(raw.get(name, {})), f"{path} [{name}]"
        )
        for name, cls in _SECTIONS.items()
    }
    data = sections["data"]
    if data.source not in ("synthetic", "file"):
        raise ConfigError(
            f"{path} [data].source: expected 'synthetic' or 'file', got {data.source!r}. "
            "Fix: use one of those."
        )
    if data.source == "file" and not data.path:
        raise ConfigError(
            f"{path} [data]: source = 'file' but no path is given. Fix: add "
            "path = '<your CSV or Parquet file>'."
        )
    ev = sections["evaluation"]
    if not ev.capacity > 0:
        raise ConfigError(
            f"{path} [evaluation].capacity: must be positive (a share below 1 or a count). "
            "Fix: for example capacity = 0.05."
        )
    if not 0 < ev.confidence < 1:
        raise ConfigError(f"{path} [evaluation].confidence: must lie in (0, 1). Fix: 0.95.")
    output_table = raw.get("output", {})
    if not isinstance(output_table, dict) or set(output_table) - {"dir"}:
        raise ConfigError(f"{path} [output]: only dir = '<folder>' is allowed. Fix: use that.")
    output = output_table.get("dir", RunConfig.output)
    if not isinstance(output, str) or not output:
        raise ConfigError(f"{path} [output].dir: expected a folder name. Fix: dir = 'outputs/run'.")
    for check in _CHECKS:
        check(sections, str(path))
    return RunConfig(output=str(output), source_file=str(path), **sections)


# ---------------------------------------------------------------- checks of values
# Each takes the parsed sections and the file's name, and raises ConfigError naming the
# key and the fix.


def _check_intersections(sections: dict[str, Any], where: str) -> None:
    for item in sections["fairness"].intersections:
        if not (
            isinstance(item, list) and len(item) >= 2 and all(isinstance(c, str) for c in item)
        ):
            raise ConfigError(
                f"{where} [fairness].intersections: each intersection is a list of two or more "
                f"column names, got {item!r}. Fix: for example intersections = "
                '[["child_ethnicity", "deprivation_quintile"]].'
            )


def _check_hyperparameters(sections: dict[str, Any], where: str) -> None:
    from .models import LightGBMRiskClassifier, LogisticRiskClassifier

    for key, cls in (("lightgbm", LightGBMRiskClassifier), ("logistic", LogisticRiskClassifier)):
        known = set(cls().get_params()) - {"roles", "include_protected"}
        unknown = sorted(set(getattr(sections["models"], key)) - known)
        if unknown:
            raise ConfigError(
                f"{where} [models].{key}: unknown hyperparameter(s) {unknown}. Fix: use only "
                f"{sorted(known)} (include_protected is set in [models] itself)."
            )


def _check_ranges(sections: dict[str, Any], where: str) -> None:
    ev, ex, sp, fa = (sections[k] for k in ("evaluation", "explain", "split", "fairness"))
    pop = sections["population"]
    data = sections["data"]
    rules = [
        (data.n_families >= 1, "[data].n_families", "a positive whole number"),
        (data.n_authorities >= 1, "[data].n_authorities", "a positive whole number"),
        (ev.n_bootstrap >= 1, "[evaluation].n_bootstrap", "a whole number of at least 1"),
        (ex.sample_size >= 1, "[explain].sample_size", "a positive whole number"),
        (ex.interaction_sample >= 0, "[explain].interaction_sample", "0 or more"),
        (sp.horizon_days >= 1, "[split].horizon_days", "a positive number of days"),
        (sp.transfer_max_train >= 100, "[split].transfer_max_train", "at least 100"),
        (sp.transfer_n_bootstrap >= 1, "[split].transfer_n_bootstrap", "at least 1"),
        (fa.min_group_size >= 1, "[fairness].min_group_size", "a positive whole number"),
        (
            all(isinstance(g, str) for g in pop.groupings),
            "[population].groupings",
            "a list of column or segment names",
        ),
        (
            all(_number(v) and 0 <= v < 1 for v in pop.risk_reduction.values()),
            "[population].risk_reduction",
            "shares from 0 up to (not including) 1",
        ),
        (
            all(_number(v) and v >= 0 for v in pop.unit_costs.values()),
            "[population].unit_costs",
            "amounts of 0 or more",
        ),
    ]
    for ok, key, expected in rules:
        if not ok:
            raise ConfigError(f"{where} {key}: must be {expected}. Fix: correct the value.")
    if sp.test_start is not None:
        import pandas as pd

        try:
            pd.Timestamp(sp.test_start)
        except ValueError:
            raise ConfigError(
                f"{where} [split].test_start: {sp.test_start!r} is not a date. Fix: write it "
                'as "YYYY-MM-DD".'
            ) from None


def _check_prioritised(sections: dict[str, Any], where: str) -> None:
    from .fairness._audit import AUDIT_METRICS

    if sections["fairness"].prioritised not in AUDIT_METRICS:
        raise ConfigError(
            f"{where} [fairness].prioritised: unknown criterion "
            f"{sections['fairness'].prioritised!r}. Fix: use one of {sorted(AUDIT_METRICS)}."
        )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_CHECKS = (_check_intersections, _check_hyperparameters, _check_ranges, _check_prioritised)

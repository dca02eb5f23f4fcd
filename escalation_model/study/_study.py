"""The study: one call from data to published aggregates.

Each stage is a function of the ones before it; later work adds stages (models, evaluation,
fairness, explanations, population tables, the model card) to :func:`run_study`.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from .._config import RunConfig
from .._limits import FIVE_OR_MORE
from ..datasets import fingerprint, make_synthetic_population, read_families
from ..evaluation import (
    ORACLE,
    ModelComparison,
    Split,
    evaluate_models,
    temporal_split,
    transfer_by_authority,
)
from ..fairness import FairnessAudit, compare_mitigations, sensitive_features_from
from ..models import make_models, save_model
from ..population import (
    DisclosureRules,
    Scenario,
    add_segments,
    aggregate,
    compare_strategies,
    count_indicators,
    demand_forecast,
    monitor,
    profile_table,
    scenario_table,
)
from ..schema import ColumnRoles, ValidationReport, validate
from ._figures import save_figures, study_figures

__all__ = ["StudyData", "StudyResult", "load_study_data", "population_tables", "run_study"]


@dataclass
class StudyData:
    """The families a study runs on, their roles and, on synthetic data, the oracle."""

    frame: pd.DataFrame
    roles: ColumnRoles
    source: str
    fingerprint: str
    oracle: pd.Series | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def is_synthetic(self) -> bool:
        return self.oracle is not None


@dataclass
class StudyResult:
    """What a study found, as aggregates only."""

    config: RunConfig
    data_source: str
    data_fingerprint: str
    is_synthetic: bool
    validation: ValidationReport
    overview: dict[str, Any]
    profile: pd.DataFrame
    disclosure: DisclosureRules = field(default_factory=DisclosureRules)
    split: Split | None = None
    comparison: ModelComparison | None = None
    models: dict[str, Any] = field(default_factory=dict)
    odds_ratios: pd.DataFrame | None = None
    transfer: pd.DataFrame | None = None
    fairness: FairnessAudit | None = None
    mitigation: pd.DataFrame | None = None
    population: dict[str, pd.DataFrame] = field(default_factory=dict)
    roles: ColumnRoles | None = None
    explanation: Any = None
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def roles_dict(self) -> dict[str, Any]:
        """The column roles used, as plain data."""
        return self.roles.to_dict() if self.roles is not None else {}

    def fairness_tables(self) -> dict[str, pd.DataFrame]:
        """The audit's tables as published: counts rounded, small groups' figures withheld."""
        if self.fairness is None:
            return {}
        rules = self.disclosure
        by_group = self.fairness.by_group
        small = by_group.too_small.to_numpy()
        by_group["n_families"] = [_rounded(int(n), rules) for n in by_group.n_families]
        for col in ("estimate", "lower", "upper"):
            by_group.loc[small, col] = float("nan")
        findings = self.fairness.findings()
        return {"fairness_by_group.csv": by_group, "fairness_findings.csv": findings}

    def _variables(self) -> list[dict[str, Any]]:
        from ..schema import REGISTRY, label_for

        if self.roles is None:
            return []
        out = []
        for role, col in self.roles.assignments():
            var = REGISTRY.get(col)
            out.append(
                {
                    "column": col,
                    "role": role,
                    "label": label_for(col),
                    "source": var.source if var else "",
                    "model_feature": col
                    in self.roles.features(include_protected=self.config.models.include_protected),
                }
            )
        return out

    def explain_tables(self) -> dict[str, pd.DataFrame]:
        """Aggregate explanation tables (no family appears in any of them)."""
        ex = self.explanation
        if ex is None:
            return {}
        out = {
            "explain_importance.csv": ex.importance,
            "explain_by_segment.csv": ex.by_segment,
        }
        combined = ex.combined_needs(list(self.roles.indicators()) if self.roles else None)
        if combined is not None:
            out["explain_combined_needs.csv"] = combined
        return out

    def _explain_summary(self) -> dict[str, Any]:
        ex = self.explanation
        if ex is None:
            return {}
        return {
            "model": "lightgbm",
            "sample_size": ex.sample_size,
            "summary": ex.summary(),
            "top_drivers": ex.importance.head(10)[
                ["feature", "label", "mean_abs", "lower", "upper", "relative_se"]
            ].to_dict(orient="records"),
        }

    def _population_summary(self) -> dict[str, Any]:
        if "strategies.csv" not in self.population:
            return {}
        st = self.population["strategies.csv"]
        forecast = {
            name.removeprefix("demand_forecast_by_").removesuffix(".csv"): {
                "profiles_from": t.attrs.get("profiles_from"),
                "profiles_to": t.attrs.get("profiles_to"),
                "total_families": _rounded(int(t.attrs.get("total_families", 0)), self.disclosure),
                "total_expected": t.attrs.get("total_expected"),
                "total_lower": t.attrs.get("total_lower"),
                "total_upper": t.attrs.get("total_upper"),
                "rows": t.to_dict(orient="records"),
            }
            for name, t in self.population.items()
            if name.startswith("demand_forecast_by_") and not name.endswith("ward_code.csv")
        }
        return {
            "demand_forecast": forecast,
            "capacity_families": st.attrs.get("capacity"),
            "strategies": st.to_dict(orient="records"),
            "share_of_expected_need_outside_most_deprived": st.attrs.get(
                "share_of_all_expected_need_outside_most_deprived"
            ),
            "share_of_observed_escalations_outside_most_deprived": st.attrs.get(
                "share_of_all_observed_escalations_outside_most_deprived"
            ),
            "scenario_assumptions": {
                "risk_reduction": dict(self.config.population.risk_reduction),
                "unit_costs": dict(self.config.population.unit_costs),
            },
            "tables": sorted(self.population),
        }

    def _fairness_summary(self) -> dict[str, Any]:
        if self.fairness is None:
            return {}
        a = self.fairness
        out = a.outside_tolerance()
        return {
            "model": "lightgbm",
            "capacity": a.capacity,
            "prioritised": a.prioritised,
            "summary": a.summary(),
            "trade_offs": a.trade_offs(),
            "outside_tolerance": out.to_dict(orient="records"),
            "mitigation": None
            if self.mitigation is None
            else self.mitigation.to_dict(orient="records"),
        }

    def _models_summary(self) -> dict[str, Any]:
        if self.comparison is None or self.split is None:
            return {}
        cmp_ = self.comparison

        def nested(table: pd.DataFrame, value: str) -> dict[str, dict[str, dict[str, float]]]:
            out: dict[str, dict[str, dict[str, float]]] = {}
            for r in table.itertuples(index=False):
                out.setdefault(str(r.model), {})[str(r.metric)] = {
                    value: float(getattr(r, value)),
                    "lower": float(r.lower),
                    "upper": float(r.upper),
                }
            return out

        calibration = {
            name: m.calibration_report_
            for name, m in self.models.items()
            if hasattr(m, "calibration_report_")
        }
        return {
            "split": {"description": self.split.description, **self.split.details},
            "test_families": _rounded(cmp_.n_families, self.disclosure),
            "test_escalations": _rounded(cmp_.n_escalations, self.disclosure),
            "capacity": cmp_.capacity,
            "n_bootstrap": cmp_.n_bootstrap,
            "confidence": cmp_.confidence,
            "reference": cmp_.reference,
            "oracle_included": ORACLE in cmp_.models,
            "metrics": nested(cmp_.table, "estimate"),
            "differences_to_reference": nested(cmp_.differences, "difference"),
            "calibration": calibration,
            "hyperparameters": {
                name: {
                    k: v
                    for k, v in m.get_params(deep=True).items()
                    if isinstance(v, int | float | str | bool | None) and not k.endswith("roles")
                }
                for name, m in self.models.items()
                if hasattr(m, "get_params")
            },
        }

    def summary(self) -> dict[str, Any]:
        """The machine-readable summary written as ``summary.json``."""
        return {
            "escalation_model_version": __version__,
            "code_version": _code_version(),
            "python": platform.python_version(),
            "data": {
                "source": self.data_source,
                "synthetic": self.is_synthetic,
                "fingerprint_sha256": self.data_fingerprint,
                "n_families": self.overview.get("families"),
                "missing_share": self.validation.missing_share,
                "warnings": [str(w) for w in self.validation.warnings],
                "roles": self.roles_dict,
                "variables": self._variables(),
            },
            "config": self.config.to_dict(),
            "overview": self.overview,
            "models": self._models_summary(),
            "fairness": self._fairness_summary(),
            "population": self._population_summary(),
            "explanations": self._explain_summary(),
            "disclosure_control": self.disclosure.describe(),
            "notes": self.notes,
        }

    def write(self, folder: str | Path, *, card_fields: str | Path | None = None) -> list[Path]:
        """Write the summary, tables, plots, model and model card into ``folder`` (which must
        already be prepared). ``card_fields`` is a TOML file whose ``[card]`` table fills the
        card's person-only fields."""
        folder = Path(folder)
        written = []
        path = folder / "summary.json"
        path.write_text(json.dumps(self.summary(), indent=2, default=str) + "\n", "utf-8")
        written.append(path)
        path = folder / "profile_table.csv"
        self.profile.to_csv(path, index=False, float_format="%.4f")
        written.append(path)
        tables = {
            "model_comparison.csv": self.comparison.table if self.comparison else None,
            "model_differences.csv": self.comparison.differences if self.comparison else None,
            "odds_ratios.csv": self.odds_ratios,
            "transfer_by_authority.csv": self.transfer,
            "fairness_mitigation.csv": self.mitigation,
            **self.fairness_tables(),
            **self.population,
            **self.explain_tables(),
        }
        for name, table in tables.items():
            if table is not None:
                path = folder / name
                table.to_csv(path, index=False, float_format="%.6g")
                written.append(path)
        written += save_figures(study_figures(self), folder / "plots")
        if "lightgbm" in self.models:
            path = folder / "model.skops"
            save_model(self.models["lightgbm"], path, overwrite=True)
            written.append(path)
        from ..reporting import ModelCard

        card = ModelCard.from_study(self, plots_dir=folder / "plots")
        if card_fields is not None:
            card.fill_from_toml(card_fields)
        written += card.write(folder)
        return written

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        o = self.overview
        return (
            f"<b>escalation_model study</b> on {o['families']:,.0f} families "
            f"({'synthetic' if self.is_synthetic else 'analyst data'}); escalation rate "
            f"{o['escalation_rate']:.1%}; {o['share_five_plus']:.1%} with "
            f"{FIVE_OR_MORE}+ Think Family indicators."
        )


def _code_version() -> str:
    from ..tracking._mlflow import code_version

    return code_version()


def population_tables(
    frame: pd.DataFrame,
    roles: ColumnRoles,
    proba: Any,
    *,
    groupings: list[str],
    capacity: float | int,
    scenario: Scenario | None = None,
    oracle: Any = None,
    confidence: float = 0.95,
    random_state: int = 0,
) -> dict[str, pd.DataFrame]:
    """Every published population table for families ``frame`` with probabilities
    ``proba``: aggregates by each grouping, strategies, scenarios and the demand forecast.
    With outcomes, observed counts and ratios too. All pass disclosure control."""
    outcome = roles.outcome if roles.outcome and roles.outcome in frame.columns else None
    seg = add_segments(frame, roles)
    tables: dict[str, pd.DataFrame] = {}
    for by in groupings:
        if by in seg.columns:
            tables[f"population_by_{by}.csv"] = aggregate(
                seg, proba, by, outcome=outcome, confidence=confidence
            )
    tables["strategies.csv"] = compare_strategies(
        frame,
        roles,
        proba,
        capacity=capacity,
        oracle=oracle,
        confidence=confidence,
        random_state=random_state,
    )
    tables["scenarios.csv"] = scenario_table(
        frame,
        roles,
        proba,
        scenario or Scenario(),
        capacity=capacity,
        oracle=oracle,
        confidence=confidence,
        random_state=random_state,
    )
    if roles.profile_date and roles.area:
        for area in roles.area[::-1]:
            tables[f"demand_forecast_by_{area}.csv"] = demand_forecast(
                frame, proba, area, roles, confidence=confidence
            )
    return tables


def load_study_data(config: RunConfig) -> StudyData:
    """Generate or read the families named by the configuration (no validation yet)."""
    d = config.data
    if d.source == "synthetic":
        pop = make_synthetic_population(
            d.n_families, n_authorities=d.n_authorities, random_state=d.seed
        )
        return StudyData(
            frame=pop.frame,
            roles=pop.roles,
            source=f"synthetic population ({d.n_families:,} families, seed {d.seed})",
            fingerprint=fingerprint(pop.frame),
            oracle=pop.oracle,
            options=pop.options,
        )
    roles = ColumnRoles.from_toml(d.roles) if d.roles else ColumnRoles()
    frame = read_families(str(d.path))
    return StudyData(
        frame=frame,
        roles=roles,
        source=f"analyst file {Path(str(d.path)).name}",
        fingerprint=fingerprint(frame),
    )


def _rounded(value: int, rules: DisclosureRules) -> float | None:
    if value < rules.min_cell:
        return None
    return float(round(value / rules.round_to) * rules.round_to)


def run_study(
    config: RunConfig,
    data: StudyData | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> StudyResult:
    """Run the study described by ``config``: validate, split by time, fit the rules and
    the models, evaluate them with intervals (and against the oracle on synthetic data),
    and check how they transfer to unseen authorities.

    Parameters
    ----------
    config : RunConfig
    data : StudyData, optional
        Already loaded data; by default the data named in the configuration.
    progress : callable, optional
        Called with a short message as each stage starts (the library itself never prints).

    Returns
    -------
    StudyResult
        Aggregates only: no identifier or individual score leaves this function.
    """
    say = progress or (lambda message: None)
    marks: list[tuple[str, float]] = []

    def stage(key: str, message: str) -> None:
        marks.append((key, time.perf_counter()))
        say(message)

    data = data if data is not None else load_study_data(config)
    stage("validate", f"validating {len(data.frame):,} families")
    report = validate(data.frame, data.roles)
    rules = DisclosureRules()
    frame, roles = data.frame, data.roles
    n_tf = count_indicators(frame, roles.think_family)
    n = len(frame)
    overview: dict[str, Any] = {
        "families": _rounded(n, rules),
        "escalation_rate": float(frame[roles.outcome].mean()) if roles.outcome else None,
        "share_five_plus": float((n_tf >= FIVE_OR_MORE).mean()),
        "families_five_plus": _rounded(int((n_tf >= FIVE_OR_MORE).sum()), rules),
    }
    if roles.deprivation:
        deprived = (frame[roles.deprivation] <= 2).to_numpy()
        five = (n_tf >= FIVE_OR_MORE).to_numpy()
        if five.sum() >= rules.min_cell:
            overview["share_five_plus_outside_most_deprived"] = float(1 - deprived[five].mean())
        if deprived.sum() >= rules.min_cell:
            overview["share_five_plus_inside_most_deprived"] = float(five[deprived].mean())
    if data.oracle is not None:
        overview["oracle_mean_probability"] = float(data.oracle.mean())
    profile = profile_table(frame, roles, rules=rules)

    ev, mc = config.evaluation, config.models
    stage("split", "splitting by time")
    split = temporal_split(
        frame, roles, test_start=config.split.test_start, horizon_days=config.split.horizon_days
    )
    models = make_models(
        roles,
        include_protected=mc.include_protected,
        calibrate=mc.calibrate,
        random_state=mc.random_state,
        lightgbm_params=mc.lightgbm,
        logistic_params=mc.logistic,
    )
    stage(
        "fit_and_evaluate",
        f"fitting {len(models)} models on {len(split.train):,} families, evaluating on "
        f"{len(split.test):,} with {ev.n_bootstrap} bootstrap resamples",
    )
    bootstrap: dict[str, Any] = dict(
        capacity=ev.capacity,
        n_bootstrap=ev.n_bootstrap,
        confidence=ev.confidence,
        random_state=ev.random_state,
    )
    comparison, fitted = evaluate_models(
        frame, roles, split, models, oracle=data.oracle, **bootstrap
    )
    transfer = None
    notes: list[str] = []
    if not roles.area:
        notes.append(
            "No 'area' role: no tables by area, no funnel plots, no demand forecast by area "
            "and no leave-one-authority-out check."
        )
    if config.split.leave_one_authority_out and roles.area:
        stage("transfer", "checking transfer to unseen authorities (leave one authority out)")
        lineup = {k: models[k] for k in ("five_plus_rule", "lightgbm")}
        lineup["lightgbm"] = make_models(
            roles,
            include_protected=mc.include_protected,
            calibrate=False,
            random_state=mc.random_state,
            lightgbm_params=mc.lightgbm,
        )["lightgbm"]
        transfer = transfer_by_authority(
            frame,
            roles,
            lineup,
            max_train=config.split.transfer_max_train,
            **{**bootstrap, "n_bootstrap": config.split.transfer_n_bootstrap},
        )
    fc = config.fairness
    stage("fairness", "auditing fairness of the LightGBM model on the test families")
    test = frame.iloc[split.test]
    train = frame.iloc[split.train]
    gbm = fitted["lightgbm"]
    sensitive = sensitive_features_from(test, roles)
    intersections = [tuple(i) for i in fc.intersections if set(i) <= set(sensitive.columns)]
    for dropped in [i for i in fc.intersections if not set(i) <= set(sensitive.columns)]:
        notes.append(
            f"Intersection {' x '.join(dropped)} not audited: the data lacks "
            f"{sorted(set(dropped) - set(sensitive.columns))}."
        )
    if not roles.protected:
        notes.append(
            "No 'protected' role: the fairness audit covers only deprivation and family type."
        )
    proba_all = gbm.predict_proba(frame)[:, 1]  # in memory only; scored once, used below
    p_test, p_train = proba_all[split.test], proba_all[split.train]
    audit = FairnessAudit(
        test[roles.outcome].to_numpy(),
        p_test,
        sensitive,
        intersections=intersections,
        capacity=ev.capacity,
        min_group_size=fc.min_group_size,
        prioritised=fc.prioritised,
        n_bootstrap=ev.n_bootstrap,
        confidence=ev.confidence,
        random_state=ev.random_state,
    )
    mitigation = None
    if fc.mitigation_characteristic not in test.columns:
        notes.append(f"Mitigation comparison skipped: no column '{fc.mitigation_characteristic}'.")
    else:
        # ThresholdOptimizer learns a handful of thresholds: a seeded sample of the
        # training families is plenty, and keeps the cost flat at any scale
        rng = np.random.default_rng(ev.random_state)
        fit_rows = np.arange(len(train))
        if len(fit_rows) > 100_000:
            fit_rows = np.sort(rng.choice(fit_rows, size=100_000, replace=False))
        mitigation = compare_mitigations(
            p_train[fit_rows],
            train[roles.outcome].to_numpy()[fit_rows],
            train[fc.mitigation_characteristic].to_numpy()[fit_rows],
            p_test,
            test[roles.outcome].to_numpy(),
            test[fc.mitigation_characteristic].to_numpy(),
            capacity=ev.capacity,
            random_state=ev.random_state,
        )
        mitigation.insert(0, "characteristic", fc.mitigation_characteristic)
    pc = config.population
    stage(
        "population",
        "aggregating by area and segment; comparing targeting strategies and scenarios",
    )
    oracle_test = None if data.oracle is None else data.oracle.to_numpy()[split.test]
    tables = population_tables(
        test,
        roles,
        p_test,
        groupings=list(pc.groupings),
        capacity=ev.capacity,
        scenario=Scenario(dict(pc.risk_reduction), dict(pc.unit_costs)),
        oracle=oracle_test,
        confidence=ev.confidence,
        random_state=ev.random_state,
    )
    tables.update(
        {
            k: v
            for k, v in population_tables(
                frame,
                roles,
                proba_all,
                groupings=[],
                capacity=ev.capacity,
                confidence=ev.confidence,
            ).items()
            if k.startswith("demand_forecast")
        }
    )
    monitoring = monitor(frame, proba_all, roles, confidence=ev.confidence)
    train_end = pd.Timestamp(split.details["train_end"])
    monitoring.insert(
        1,
        "in_training_period",
        [pd.Period(p).start_time <= train_end for p in monitoring["period"]],
    )
    tables["monitoring_by_quarter.csv"] = monitoring
    stage(
        "explain",
        f"explaining the LightGBM model with SHAP on {config.explain.sample_size:,} sampled "
        "families",
    )
    from ..explain import explain_model

    explanation = explain_model(
        gbm,
        test,
        roles,
        sample_size=config.explain.sample_size,
        interaction_sample=config.explain.interaction_sample,
        random_state=ev.random_state,
    )
    marks.append(("end", time.perf_counter()))
    timings = {k: round(t2 - t1, 3) for (k, t1), (_, t2) in zip(marks, marks[1:], strict=False)}
    return StudyResult(
        config=config,
        data_source=data.source,
        data_fingerprint=data.fingerprint,
        is_synthetic=data.is_synthetic,
        validation=report,
        overview=overview,
        profile=profile,
        disclosure=rules,
        split=split,
        comparison=comparison,
        models=fitted,
        odds_ratios=fitted["logistic"].odds_ratios(),
        transfer=transfer,
        fairness=audit,
        mitigation=mitigation,
        population=tables,
        roles=roles,
        explanation=explanation,
        timings=timings,
        notes=notes,
    )

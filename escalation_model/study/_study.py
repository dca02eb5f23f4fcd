"""The study: one call from data to published aggregates.

Stages run in order (validate, split, fit and evaluate, transfer, fairness, population,
explain), each a function of the ones before it; :class:`~._result.StudyResult` holds what
they found and writes it (tables, plots, model, card).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._limits import FIVE_OR_MORE, MOST_DEPRIVED_DECILE
from ..config import RunConfig
from ..datasets import fingerprint, make_synthetic_population, read_families
from ..evaluation import (
    evaluate_models,
    transfer_by_authority,
)
from ..fairness import FairnessAudit, compare_mitigations, sensitive_features_from
from ..models import make_models
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
from ..schema import ColumnRoles, parse_profile_dates
from ._plan import StudyPlan, plan_study
from ._result import StudyData, StudyResult, _rounded

__all__ = ["load_study_data", "population_tables", "run_study"]


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
    forecast: bool = True,
) -> dict[str, pd.DataFrame]:
    """Every published population table for families ``frame`` with probabilities
    ``proba``: aggregates by each grouping, strategies, scenarios and (unless
    ``forecast=False``) the demand forecast. With outcomes, observed counts and ratios too.
    All pass disclosure control."""
    outcome = roles.outcome if roles.outcome and roles.outcome in frame.columns else None
    seg = add_segments(frame, roles)
    tables: dict[str, pd.DataFrame] = {}
    for by in expand_groupings(groupings, roles):
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
    if forecast:
        tables.update(demand_forecasts(frame, roles, proba, confidence=confidence))
    return tables


def expand_groupings(groupings: list[str], roles: ColumnRoles) -> list[str]:
    """The groupings with ``area`` replaced by the area columns, coarsest first.

    >>> expand_groupings(["area", "family_type"], ColumnRoles(area=("Ward", "LA")))
    ['LA', 'Ward', 'family_type']
    """
    out: list[str] = []
    for by in groupings:
        out += list(roles.area[::-1]) if by == "area" else [by]
    return list(dict.fromkeys(out))


def demand_forecasts(
    frame: pd.DataFrame, roles: ColumnRoles, proba: Any, *, confidence: float = 0.95
) -> dict[str, pd.DataFrame]:
    """The demand forecast by each area level, coarsest first (none without areas)."""
    if not (roles.profile_date and roles.area):
        return {}
    return {
        f"demand_forecast_by_{area}.csv": demand_forecast(
            frame, proba, area, roles, confidence=confidence
        )
        for area in roles.area[::-1]
    }


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
    frame = read_families(str(d.path), roles)
    return StudyData(
        frame=frame,
        roles=roles,
        source=f"analyst file {Path(str(d.path)).name}",
        fingerprint=fingerprint(frame),
    )


def run_study(
    config: RunConfig,
    data: StudyData | None = None,
    *,
    plan: StudyPlan | None = None,
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
    plan : StudyPlan, optional
        The plan made by :func:`plan_study` (validation, split, what is skipped); made
        here when not given.
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
    plan = plan if plan is not None else plan_study(config, data)
    report = plan.validation
    rules = DisclosureRules()
    frame, roles = plan.frame, plan.roles
    n_tf = count_indicators(frame, roles.think_family)
    n = len(frame)
    overview: dict[str, Any] = {
        "families": _rounded(n, rules),
        "escalation_rate": float(frame[roles.outcome].mean()) if roles.outcome else None,
        "share_five_plus": float((n_tf >= FIVE_OR_MORE).mean()),
        "families_five_plus": _rounded(int((n_tf >= FIVE_OR_MORE).sum()), rules),
    }
    if roles.deprivation:
        deprived = (frame[roles.deprivation] <= MOST_DEPRIVED_DECILE).to_numpy()
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
    split = plan.split
    models = make_models(
        roles,
        include_protected=mc.include_protected,
        calibrate=mc.calibrate,
        calibration_refit=mc.calibration_refit,
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
    notes: list[str] = list(plan.notes)
    if plan.transfer_authorities:
        stage(
            "transfer",
            "checking transfer to unseen authorities (leave one authority out, on the test period)",
        )
        lineup = {"five_plus_rule": models["five_plus_rule"]}
        lineup[mc.primary] = make_models(
            roles,
            include_protected=mc.include_protected,
            calibrate=False,
            random_state=mc.random_state,
            lightgbm_params=mc.lightgbm,
            logistic_params=mc.logistic,
        )[mc.primary]
        transfer = transfer_by_authority(
            frame,
            roles,
            lineup,
            within=split,
            authorities=plan.transfer_authorities,
            max_train=config.split.transfer_max_train,
            **{**bootstrap, "n_bootstrap": config.split.transfer_n_bootstrap},
        )
        for count in ("n_train", "n_test"):  # published: rounded like every count
            transfer[count] = [_rounded(int(v), rules) for v in transfer[count]]
    fc = config.fairness
    stage("fairness", f"auditing fairness of the {mc.primary} model on the test families")
    test = frame.iloc[split.test]
    primary = fitted[mc.primary]
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
    # probabilities in memory only. The test families were scored by the comparison; the
    # families profiled after the training period (for monitoring and the demand
    # forecast) and a seeded sample of training families (to fit the mitigations) are
    # scored here. Training families are not otherwise needed: in-sample figures say
    # nothing about the model.
    train_end = pd.Timestamp(split.details["train_end"])
    after_training = (parse_profile_dates(frame, roles) > train_end).to_numpy()
    fit_rows = plan.mitigation_rows
    proba_all = np.full(n, np.nan)
    p_test = comparison.probabilities(mc.primary)
    proba_all[split.test] = p_test
    to_score = after_training.copy()
    to_score[fit_rows] = True
    to_score[split.test] = False
    proba_all[to_score] = primary.predict_proba(frame[to_score])[:, 1]
    audit = None
    if sensitive.shape[1]:
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
    characteristic = plan.mitigation_characteristic
    if plan.mitigation and characteristic:
        # ThresholdOptimizer learns a handful of thresholds: a seeded sample of the
        # training families is plenty, and keeps the cost flat at any scale
        mitigation = compare_mitigations(
            proba_all[fit_rows],
            frame[roles.outcome].to_numpy()[fit_rows],
            frame[characteristic].to_numpy()[fit_rows],
            p_test,
            test[roles.outcome].to_numpy(),
            test[characteristic].to_numpy(),
            capacity=ev.capacity,
            random_state=ev.random_state,
        )
        mitigation.insert(0, "characteristic", characteristic)
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
        forecast=False,
    )
    # the demand forecast plans for the latest profiles, and monitoring compares observed
    # with expected escalations in the quarters the model did not learn from
    later = frame[after_training]
    tables.update(
        demand_forecasts(later, roles, proba_all[after_training], confidence=ev.confidence)
    )
    monitoring = monitor(later, proba_all[after_training], roles, confidence=ev.confidence)
    tables["monitoring_by_quarter.csv"] = monitoring
    stage(
        "explain",
        f"explaining the {mc.primary} model with SHAP on {config.explain.sample_size:,} sampled "
        "families",
    )
    from ..explain import explain_model

    explanation = explain_model(
        primary,
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

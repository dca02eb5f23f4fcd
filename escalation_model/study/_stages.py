"""The stages of a study, each a function of a typed context and the stages before it.

:func:`~._study.run_study` composes them. Every stage returns a typed object; only
aggregates leave a stage that publishes (probabilities stay in memory).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from .._limits import FIVE_OR_MORE, MIN_SPLIT_ESCALATIONS, MOST_DEPRIVED_DECILE
from .._text import as_text
from ..config import RunConfig
from ..evaluation import ModelComparison, evaluate_models, transfer_by_authority
from ..fairness import FairnessAudit, compare_mitigations, sensitive_features_from
from ..models import case_control_sample, level_rows, make_models
from ..population import (
    DisclosureRules,
    EstimatedEffect,
    Handover,
    Scenario,
    calibration_uncertainty,
    count_indicators,
    hand_over,
    monitor,
    profile_table,
    publish_count,
    publish_share,
)
from ..schema import ColumnRoles, parse_profile_dates
from ._plan import StudyPlan, settings_in_run
from ._population import demand_forecasts, planning_curve, population_tables
from ._result import StudyData, StudyResult

__all__ = [
    "Audited",
    "assemble",
    "Context",
    "Described",
    "Evaluated",
    "Scored",
    "audit_fairness",
    "check_transfer",
    "describe_population",
    "explain_primary",
    "fit_and_evaluate",
    "hand_over_entries",
    "population_figures",
    "score_later_families",
]


@dataclass(frozen=True, eq=False)
class Context:
    """What every stage reads: the configuration, the data, its plan."""

    config: RunConfig
    data: StudyData
    plan: StudyPlan

    @property
    def rules(self) -> DisclosureRules:
        """The disclosure rules of the configuration."""
        d = self.config.disclosure
        return DisclosureRules(min_cell=d.min_cell, round_to=d.round_to)

    @property
    def frame(self) -> pd.DataFrame:
        return self.plan.frame

    @property
    def roles(self) -> ColumnRoles:
        return self.plan.roles

    @property
    def primary(self) -> str:
        return self.config.models.primary

    def bootstrap(self) -> dict[str, Any]:
        ev = self.config.evaluation
        return {
            "capacity": ev.capacity,
            "n_bootstrap": ev.n_bootstrap,
            "confidence": ev.confidence,
            "random_state": ev.random_state,
        }

    def models(self, *, calibrate: bool | None = None) -> dict[str, Any]:
        mc = self.config.models
        return make_models(
            self.roles,
            include_protected=mc.include_protected,
            calibrate=mc.calibrate if calibrate is None else calibrate,
            calibration_refit=mc.calibration_refit,
            random_state=mc.random_state,
            lightgbm_params=mc.lightgbm,
            logistic_params=mc.logistic,
        )


@dataclass(frozen=True, eq=False)
class Described:
    """The population as published: overview figures and the paper's profile table."""

    overview: dict[str, Any]
    profile: pd.DataFrame


@dataclass(frozen=True, eq=False)
class Evaluated:
    """The fitted rules and models and their comparison on the test families; and the
    model of entry into care beside them, where the data can support one."""

    comparison: ModelComparison
    fitted: dict[str, Any]
    looked_after: ModelComparison | None = None
    notes: tuple[str, ...] = ()
    looked_after_model: Any = None


#: The column of the derived outcome "entered care" (in memory only).
_LOOKED_AFTER = "_entered_care"


def fit_looked_after(ctx: Context) -> tuple[ModelComparison | None, Any, list[str]]:
    """A model of the highest level reached being "looked after" (entry into care), of
    the primary model's kind (uncalibrated), fitted on the training families and
    compared on the test families with the oracle where there is one (ROC AUC, average
    precision, Brier score, calibration slope, with bootstrap intervals)."""
    roles, frame, split = ctx.roles, ctx.frame, ctx.plan.split
    what = "model of entry into care (looked after)"
    if not roles.outcome_level or roles.outcome_level not in frame.columns:
        return None, None, [f"skipped: {what} (the data has no 'outcome_level' role)"]
    entered = (as_text(frame[roles.outcome_level]) == "looked_after").fillna(False)
    y = entered.to_numpy()
    if min(y[split.train].sum(), y[split.test].sum()) < MIN_SPLIT_ESCALATIONS:
        return (
            None,
            None,
            [
                f"skipped: {what} (fewer than {MIN_SPLIT_ESCALATIONS} entries into care on a "
                "side of the temporal split)"
            ],
        )
    la_roles = replace(roles, outcome=_LOOKED_AFTER)
    oracle = getattr(ctx.data, "oracle_looked_after", None)
    # every entry into care and a weighted sample of the other training families: what
    # the ranking of a rare outcome needs (evaluation/bench_case_control.py)
    sample = case_control_sample(y[split.train], random_state=ctx.config.models.random_state)
    comparison, fitted = evaluate_models(
        frame.assign(**{_LOOKED_AFTER: y.astype(np.int8)}),
        la_roles,
        replace(split, train=split.train[sample.rows]),
        # uncalibrated: isotonic calibration's ties would blunt the ranking of a rare
        # outcome, and what is reported here is the ranking
        {ctx.primary: ctx.models(calibrate=False)[ctx.primary]},
        oracle=oracle,
        reference=ctx.primary,
        metrics=("roc_auc", "average_precision", "brier", "calibration_slope"),
        train_weight=sample.weight,
        **ctx.bootstrap(),
    )
    return comparison, fitted[ctx.primary], []


@dataclass(frozen=True, eq=False)
class Scored:
    """The primary model's probabilities, in memory only: the test families, the families
    profiled after the training period and the mitigation's training sample."""

    proba: np.ndarray
    p_test: np.ndarray
    after_training: np.ndarray
    #: how far the model's overall calibration may be off (:func:`_calibration_se`)
    calibration_se: float = 0.0


@dataclass(frozen=True, eq=False)
class Audited:
    """The fairness audit, the mitigation comparison, and what was not audited."""

    audit: FairnessAudit | None
    mitigation: pd.DataFrame | None
    notes: list[str]


def describe_population(ctx: Context) -> Described:
    """Overview figures (rounded counts, shares) and the profile table."""
    frame, roles, rules = ctx.frame, ctx.roles, ctx.rules
    five = (count_indicators(frame, roles.think_family) >= FIVE_OR_MORE).to_numpy()
    n, n_five = len(frame), int(five.sum())
    # every share from the published counts (publish_share): none undoes the rounding
    overview: dict[str, Any] = {
        "families": publish_count(n, rules),
        "escalation_rate": publish_share(float(frame[roles.outcome].sum()), n, rules)
        if roles.outcome
        else None,
        "share_five_plus": publish_share(n_five, n, rules),
        "families_five_plus": publish_count(n_five, rules),
    }
    if roles.deprivation:
        deprived = (frame[roles.deprivation] <= MOST_DEPRIVED_DECILE).to_numpy()
        both = int((deprived & five).sum())
        overview["share_five_plus_outside_most_deprived"] = publish_share(
            n_five - both, n_five, rules
        )
        overview["share_five_plus_inside_most_deprived"] = publish_share(
            both, int(deprived.sum()), rules
        )
    if ctx.data.oracle is not None:
        overview["oracle_mean_probability"] = float(ctx.data.oracle.mean())
    return Described(overview, profile_table(frame, roles, rules=rules))


def fit_and_evaluate(ctx: Context) -> Evaluated:
    """Fit the rules and models on the training families; compare them on the test
    families with bootstrap intervals (and the oracle on synthetic data)."""
    comparison, fitted = evaluate_models(
        ctx.frame,
        ctx.roles,
        ctx.plan.split,
        ctx.models(),
        oracle=ctx.data.oracle,
        **ctx.bootstrap(),
    )
    looked_after, la_model, notes = fit_looked_after(ctx)
    return Evaluated(comparison, fitted, looked_after, tuple(notes), la_model)


def check_transfer(
    ctx: Context, evaluated: Evaluated, n_jobs: int | None = None
) -> pd.DataFrame | None:
    """Leave one authority out, within the temporal split: the 5+ rule and the primary
    model (uncalibrated) fitted on the other authorities, ``n_jobs`` authorities at a
    time (the numbers do not depend on it); counts rounded."""
    if not ctx.plan.transfer_authorities:
        return None
    lineup = {
        "five_plus_rule": evaluated.fitted["five_plus_rule"],
        ctx.primary: ctx.models(calibrate=False)[ctx.primary],
    }
    transfer = transfer_by_authority(
        ctx.frame,
        ctx.roles,
        lineup,
        within=ctx.plan.split,
        authorities=ctx.plan.transfer_authorities,
        max_train=ctx.config.split.transfer_max_train,
        n_jobs=n_jobs,
        rules=ctx.rules,
        **{**ctx.bootstrap(), "n_bootstrap": ctx.config.split.transfer_n_bootstrap},
    )
    for count in ("n_train", "n_test"):  # published: rounded like every count
        transfer[count] = [publish_count(int(v), ctx.rules) for v in transfer[count]]
    return transfer


def score_later_families(ctx: Context, evaluated: Evaluated) -> Scored:
    """The primary model's probabilities where they are needed: the test families (from
    the comparison), the families profiled after the training period (monitoring, the
    demand forecast) and the mitigation's seeded training sample. Training families are
    not otherwise scored: in-sample figures say nothing about the model."""
    frame, split = ctx.frame, ctx.plan.split
    train_end = pd.Timestamp(split.details["train_end"])
    after_training = (parse_profile_dates(frame, ctx.roles) > train_end).to_numpy()
    proba = np.full(len(frame), np.nan)
    p_test = evaluated.comparison.probabilities(ctx.primary)
    proba[split.test] = p_test
    to_score = after_training.copy()
    to_score[ctx.plan.mitigation_rows] = True
    to_score[split.test] = False
    model = evaluated.fitted[ctx.primary]
    proba[to_score] = model.predict_proba(frame[to_score])[:, 1]
    return Scored(proba, p_test, after_training, _calibration_se(ctx, model, p_test))


def _calibration_se(ctx: Context, model: Any, p_test: np.ndarray) -> float:
    """The model's own uncertainty about its overall calibration, which the forecast's
    total and the monitoring limits carry (:func:`calibration_uncertainty`): the chance
    variation of the training escalations that set its level (their share in the rows
    :func:`escalation_model.models.level_rows` names), or more where the test families'
    count departs from expected beyond chance."""
    if not ctx.roles.outcome:
        return calibration_uncertainty(p_test)
    y, split = ctx.frame[ctx.roles.outcome], ctx.plan.split
    train = y.iloc[split.train]
    level = float(train.sum()) * level_rows(model, len(train)) / max(len(train), 1)
    return calibration_uncertainty(
        p_test, observed=float(y.iloc[split.test].sum()), fitted_to=level
    )


def audit_fairness(ctx: Context, scored: Scored) -> Audited:
    """The fairness audit of the primary model on the test families, and what
    ThresholdOptimizer would cost (fitted on the plan's seeded training sample)."""
    fc, ev, roles = ctx.config.fairness, ctx.config.evaluation, ctx.roles
    test = ctx.frame.iloc[ctx.plan.split.test]
    sensitive = sensitive_features_from(test, roles)
    present = set(sensitive.columns)
    intersections = [tuple(i) for i in fc.intersections if set(i) <= present]
    notes = [
        f"Intersection {' x '.join(i)} not audited: the data lacks {sorted(set(i) - present)}."
        for i in fc.intersections
        if not set(i) <= present
    ]
    audit = None
    if sensitive.shape[1]:
        audit = FairnessAudit(
            test[roles.outcome].to_numpy(),
            scored.p_test,
            sensitive,
            intersections=intersections,
            reference=reference_groups(ctx.frame, roles, intersections),
            capacity=ev.capacity,
            min_group_size=fc.min_group_size,
            prioritised=fc.prioritised,
            n_bootstrap=ev.n_bootstrap,
            confidence=ev.confidence,
            random_state=ev.random_state,
            labels={c: roles.label(c) for c in sensitive.columns},
            rules=ctx.rules,
        )
    return Audited(audit, _mitigation(ctx, scored, test), notes)


def reference_groups(
    frame: pd.DataFrame, roles: ColumnRoles, intersections: list[tuple[str, ...]]
) -> dict[str, str]:
    """Each audited characteristic's reference group: its largest group in the whole data
    (ties broken by name), so that runs on the same data compare against the same group
    whatever the test sample holds."""
    sf = sensitive_features_from(frame, roles)
    groups = {col: [col] for col in sf.columns}
    groups.update({" x ".join(combo): list(combo) for combo in intersections})
    out = {}
    for name, parts in groups.items():
        counts = _group_sizes([sf[part] for part in parts])
        if counts:
            largest = max(counts.values())
            out[str(name)] = sorted(g for g, c in counts.items() if c == largest)[0]
    return out


def _group_sizes(parts: list[pd.Series]) -> dict[str, int]:
    """Families in each group of the parts joined ("a | b"), a family with a part
    missing in none: the counts of the joined text, from the parts' integer codes
    (joining millions of strings took seconds)."""
    codes, levels = zip(*(pd.factorize(part) for part in parts), strict=True)
    known = np.logical_and.reduce([c >= 0 for c in codes])
    shape = tuple(len(level) for level in levels)
    cells = np.bincount(
        np.ravel_multi_index([c[known] for c in codes], shape), minlength=math.prod(shape)
    )
    sizes: dict[str, int] = {}
    for cell in np.flatnonzero(cells):
        index = np.unravel_index(cell, shape)
        label = " | ".join(str(level[i]) for level, i in zip(levels, index, strict=True))
        sizes[label] = sizes.get(label, 0) + int(cells[cell])
    return sizes


def _mitigation(ctx: Context, scored: Scored, test: pd.DataFrame) -> pd.DataFrame | None:
    col, rows = ctx.plan.mitigation_characteristic, ctx.plan.mitigation_rows
    if not (ctx.plan.mitigation and col):
        return None
    y = ctx.frame[ctx.roles.outcome].to_numpy()
    table = compare_mitigations(
        scored.proba[rows],
        y[rows],
        ctx.frame[col].to_numpy()[rows],
        scored.p_test,
        test[ctx.roles.outcome].to_numpy(),
        test[col].to_numpy(),
        capacity=ctx.config.evaluation.capacity,
        random_state=ctx.config.evaluation.random_state,
    )
    table.insert(0, "characteristic", col)
    return table


def population_figures(
    ctx: Context, scored: Scored, estimated: EstimatedEffect | None = None
) -> dict[str, pd.DataFrame]:
    """Tables by grouping, strategies and scenarios on the test families; the demand
    forecast from the latest profiles; monitoring in the quarters after training. With
    an effect of early help ``estimated`` from this data, the scenarios and the capacity
    curve use it beside the assumed effects."""
    ev, pc = ctx.config.evaluation, ctx.config.population
    split = ctx.plan.split
    oracle = ctx.data.oracle
    tables = population_tables(
        ctx.frame.iloc[split.test],
        ctx.roles,
        scored.p_test,
        groupings=list(pc.groupings),
        capacity=ev.capacity,
        scenario=Scenario(dict(pc.risk_reduction), dict(pc.unit_costs), estimated=estimated),
        oracle=None if oracle is None else oracle.to_numpy()[split.test],
        confidence=ev.confidence,
        random_state=ev.random_state,
        forecast=False,
        rules=ctx.rules,
    )
    later = ctx.frame[scored.after_training]
    p_later = scored.proba[scored.after_training]
    se = scored.calibration_se
    tables.update(
        demand_forecasts(
            later,
            ctx.roles,
            p_later,
            groupings=list(pc.groupings),
            confidence=ev.confidence,
            calibration_se=se,
            rules=ctx.rules,
        )
    )
    # how much early help, for the latest year's families (the test families without)
    dated = bool(ctx.roles.profile_date and len(later))
    tables["capacity_curve.csv"] = planning_curve(
        later if dated else ctx.frame.iloc[split.test],
        ctx.roles,
        p_later if dated else scored.p_test,
        otherwise="test period's",
        capacity=ev.capacity,
        risk_reduction=pc.risk_reduction,
        confidence=ev.confidence,
        calibration_se=se,
        rules=ctx.rules,
        estimated=estimated,
    )
    tables["monitoring_by_quarter.csv"] = monitor(
        later, p_later, ctx.roles, confidence=ev.confidence, calibration_se=se, rules=ctx.rules
    )
    return tables


def _entry_probabilities(ctx: Context, evaluated: Evaluated, rows: np.ndarray) -> np.ndarray:
    """The entry-into-care model's probabilities for the families ``rows`` (a mask): the
    test families' from its evaluation, which computed them already, the others
    predicted here (at 2,000,000 families predicting them all again took 3.4 s)."""
    proba = np.full(len(ctx.frame), np.nan)
    test = ctx.plan.split.test
    if evaluated.looked_after is not None:
        proba[test] = evaluated.looked_after.probabilities(ctx.primary)
    missing = rows & np.isnan(proba)
    if missing.any():
        model = evaluated.looked_after_model
        proba[missing] = model.predict_proba(ctx.frame[missing])[:, 1]
    return proba[rows]


def hand_over_entries(
    ctx: Context, evaluated: Evaluated, scored: Scored
) -> tuple[Handover | None, list[str]]:
    """Expected entries into care among the latest families (the model of entry into
    care), by quarter and age band, for the looked-after demand models."""
    what = "hand-over to the looked-after demand models"
    if evaluated.looked_after_model is None:
        return None, [f"skipped: {what} (no model of entry into care)"]
    later = ctx.frame[scored.after_training]
    if not len(later) or not ctx.roles.profile_date:
        return None, [f"skipped: {what} (no families profiled after the training period)"]
    proba = _entry_probabilities(ctx, evaluated, scored.after_training)
    history = ctx.data.entry_history
    handover = hand_over(
        later,
        proba,
        ctx.roles,
        history=None if history is None else history.under(ctx.rules),
        horizon_months=round(ctx.config.split.horizon_days * 12 / 365)
        if history is None
        else history.horizon_months,
        confidence=ctx.config.evaluation.confidence,
        rules=ctx.rules,
    )
    return handover, []


def explain_primary(ctx: Context, evaluated: Evaluated, *, fork: bool = False) -> Any:
    """SHAP summaries of the primary model on a seeded sample of the test families, begun
    (:func:`escalation_model.explain.start_explanation`: with ``fork``, the interaction
    values start in a forked process); ``finish()`` gives them."""
    from ..explain import start_explanation

    return start_explanation(
        evaluated.fitted[ctx.primary],
        ctx.frame.iloc[ctx.plan.split.test],
        ctx.roles,
        sample_size=ctx.config.explain.sample_size,
        interaction_sample=ctx.config.explain.interaction_sample,
        random_state=ctx.config.evaluation.random_state,
        fork=fork,
    )


def assemble(
    ctx: Context,
    described: Described,
    evaluated: Evaluated,
    transfer: pd.DataFrame | None,
    audited: Audited,
    tables: dict[str, pd.DataFrame],
    explanation: Any,
    timings: dict[str, float],
    *,
    handover: tuple[Handover | None, list[str]] = (None, []),
    impact: tuple[dict[str, Any] | None, list[str]] = (None, []),
    rollout: tuple[dict[str, Any] | None, Any, list[str]] = (None, None, []),
) -> StudyResult:
    """The stages' findings as one :class:`StudyResult` (aggregates only)."""
    data = ctx.data
    return StudyResult(
        config=ctx.config,
        data_source=data.source,
        data_fingerprint=data.fingerprint,
        is_synthetic=data.is_synthetic,
        validation=ctx.plan.validation,
        overview=described.overview,
        profile=described.profile,
        disclosure=ctx.rules,
        preparation=list(data.preparation),
        split=ctx.plan.split,
        comparison=evaluated.comparison,
        models=evaluated.fitted,
        odds_ratios=evaluated.fitted["logistic"].odds_ratios(),
        transfer=transfer,
        fairness=audited.audit,
        mitigation=audited.mitigation,
        population=tables,
        roles=ctx.roles,
        explanation=explanation,
        timings=timings,
        notes=[
            *ctx.plan.notes,
            *evaluated.notes,
            *audited.notes,
            *handover[1],
            *impact[1],
            *rollout[2],
        ],
        settings_in_run=settings_in_run(ctx.plan, ctx.config),
        looked_after=evaluated.looked_after,
        handover=handover[0],
        impact=impact[0],
        rollout=rollout[0],
        rollout_estimate=rollout[1],
    )

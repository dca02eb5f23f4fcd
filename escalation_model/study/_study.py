"""The study: one call from data to published aggregates.

Stages run in order (validate, split, fit and evaluate, transfer, fairness, population,
explain), each a function of the ones before it; :class:`~._result.StudyResult` holds what
they found and writes it (tables, plots, model, card).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import raise_if_interrupted
from ..config import RunConfig
from ..datasets import fingerprint, make_synthetic_population, read_families
from ..models import check_hyperparameters
from ..returns import read_entry_history, read_preparation, read_prepared_roles
from ..schema import ColumnRoles
from ._alongside import Alongside, spare_cores
from ._impact import estimate_impact, estimated_effect
from ._plan import StudyPlan, _published, plan_study
from ._population import population_tables
from ._result import StudyData, StudyResult
from ._rollout import estimate_rollout
from ._stages import (
    Context,
    Described,
    Evaluated,
    assemble,
    audit_fairness,
    check_transfer,
    describe_population,
    explain_primary,
    fit_and_evaluate,
    hand_over_entries,
    population_figures,
    score_later_families,
)

if TYPE_CHECKING:
    from ..explain import StartedExplanation

__all__ = ["load_study_data", "population_tables", "run_study"]


def _roles(roles_path: str | None, data_path: str) -> ColumnRoles:
    """The roles file's, else those ``prepare`` recorded beside a prepared file, else the
    default names."""
    if roles_path:
        return ColumnRoles.from_toml(roles_path)
    return read_prepared_roles(data_path) or ColumnRoles()


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
            oracle_looked_after=pop.oracle_looked_after,
        )
    roles = _roles(d.roles, str(d.path))
    frame = read_families(str(d.path), roles)
    return StudyData(
        frame=frame,
        roles=roles,
        source=f"analyst file {Path(str(d.path)).name}",
        fingerprint=fingerprint(frame),
        preparation=read_preparation(str(d.path)),
        entry_history=read_entry_history(str(d.path)),
    )


def run_study(
    config: RunConfig,
    data: StudyData | None = None,
    *,
    plan: StudyPlan | None = None,
    progress: Callable[[str], None] | bool | None = None,
) -> StudyResult:
    """Run the study described by ``config``: the plan (validation, split, what is
    skipped), then each stage of :mod:`._stages` in turn.

    Parameters
    ----------
    config : RunConfig
    data : StudyData, optional
        Already loaded data; by default the data named in the configuration.
    plan : StudyPlan, optional
        The plan made by :func:`plan_study` (validation, split, what is skipped); made
        here when not given.
    progress : callable or True, optional
        Called with a short message as each stage starts (the library itself never
        prints); ``True`` shows a progress bar of the stages (in a notebook, or a
        terminal), each with the time since the study started.

    Returns
    -------
    StudyResult
        Aggregates only: no identifier or individual score leaves this function.
    """
    if progress is True:  # a notebook's bar
        return _with_bar(config, data, plan)
    say = progress or (lambda message: None)
    marks: list[tuple[str, float]] = []

    def stage(key: str, message: str | None) -> None:
        raise_if_interrupted()  # a stop request whose exception was lost ends here
        marks.append((key, time.perf_counter()))
        if message:
            say(message)

    check_hyperparameters(config.models)  # before any data is read
    data = data if data is not None else load_study_data(config)
    # a plan made by the caller was announced with its validation; say it once
    stage("validate", None if plan is not None else f"validating {len(data.frame):,} families")
    ctx = Context(config, data, plan if plan is not None else plan_study(config, data))
    described = describe_population(ctx)
    split = ctx.plan.split
    stage(
        "fit_and_evaluate",
        f"fitting the rules and models on {_published(len(split.train))} families, "
        f"evaluating on {_published(len(split.test))} with {config.evaluation.n_bootstrap} "
        "bootstrap resamples",
    )
    evaluated = fit_and_evaluate(ctx)
    # on the spare cores while the next stages run on this one (see ._alongside); here
    # and now where there is none. The explanation's interaction values start now, in a
    # forked process where a core is spare: shap holds the GIL while it computes them,
    # which would stall the transfer check's thread
    spare = spare_cores()
    explaining = explain_primary(ctx, evaluated, fork=spare > 0)
    if ctx.plan.transfer_authorities:
        beside = ", beside the stages that follow" if spare > 0 else ""
        stage(
            "transfer",
            f"checking transfer to unseen authorities (leave one authority out){beside}",
        )
    try:
        transfer_job = Alongside(check_transfer, ctx, evaluated, max(spare, 1), beside=spare > 0)
    except BaseException:
        explaining.abandon()
        raise
    try:
        return _after_transfer(ctx, described, evaluated, explaining, transfer_job, stage, marks)
    except BaseException:
        transfer_job.abandon()
        explaining.abandon()
        raise


def _after_transfer(
    ctx: Context,
    described: Described,
    evaluated: Evaluated,
    explaining: StartedExplanation,
    transfer_job: Alongside[Any],
    stage: Callable[[str, str | None], None],
    marks: list[tuple[str, float]],
) -> StudyResult:
    """The stages after the fit (the transfer check running beside them), then the
    result."""
    config, data, split, primary = ctx.config, ctx.data, ctx.plan.split, ctx.primary
    audited_at_all = not any(what == "fairness audit" for what, _ in ctx.plan.skipped)
    stage(
        "fairness",
        f"auditing fairness of the {primary} model on the test families"
        if audited_at_all
        else "scoring the latest families (no fairness audit: see 'skipped' above)",
    )
    scored = score_later_families(ctx, evaluated)
    audited = audit_fairness(ctx, scored)
    impact: tuple[dict[str, Any] | None, list[str]] = (None, [])
    if ctx.plan.impact:
        stage("impact", "estimating the effect of early help on its recipients (test period)")
        seed = config.evaluation.random_state
        impact = estimate_impact(ctx.frame, ctx.roles, split.test, ctx.rules, seed)
    rollout: tuple[dict[str, Any] | None, Any, list[str]] = (None, None, [])
    if ctx.plan.rollout is not None:
        stage("rollout", "estimating the effect of the roll-out across areas (staggered DiD)")
        seed = config.evaluation.random_state
        rollout = estimate_rollout(ctx.frame, ctx.roles, ctx.plan.rollout, ctx.rules, seed)
    by = "area and segment" if data.roles.area else "segment"
    stage("population", f"aggregating by {by}; comparing targeting strategies")
    tables = population_figures(ctx, scored, estimated_effect(impact[0]))
    handover, handover_notes = hand_over_entries(ctx, evaluated, scored)
    stage("explain", f"explaining the {primary} model with SHAP on sampled families")
    explanation = explaining.finish()
    marks.append(("waiting_for_transfer", time.perf_counter()))
    transfer = transfer_job.result()
    marks.append(("end", time.perf_counter()))
    timings = {k: round(b - a, 3) for (k, a), (_, b) in zip(marks, marks[1:], strict=False)}
    if ctx.plan.transfer_authorities:
        timings["transfer"] = round(transfer_job.seconds, 3)  # on its own thread
    return assemble(
        ctx,
        described,
        evaluated,
        transfer,
        audited,
        tables,
        explanation,
        timings,
        handover=(handover, handover_notes),
        impact=impact,
        rollout=rollout,
    )


def _with_bar(config: RunConfig, data: StudyData | None, plan: StudyPlan | None) -> StudyResult:
    """``run_study(..., progress=True)``: the stages on a progress bar, their number known
    once the plan is made."""
    from .._progress import Stages

    stages = Stages(6, notebook=True)
    try:
        check_hyperparameters(config.models)
        data = data if data is not None else load_study_data(config)
        if plan is None:
            stages(f"validating {len(data.frame):,} families and planning the study")
            plan = plan_study(config, data)
        stages.expect(stages.done + len(study_stages(plan)))
        return run_study(config, data, plan=plan, progress=stages)
    finally:
        stages.close()


def study_stages(plan: StudyPlan) -> list[str]:
    """The stages :func:`run_study` announces after its plan (fitting, transfer where it
    runs, fairness, the effect of early help where it runs, population, explanations)."""
    keys = ["fit_and_evaluate", "transfer", "fairness", "impact", "rollout", "population"]
    keys.append("explain")
    optional = {
        "transfer": bool(plan.transfer_authorities),
        "impact": plan.impact,
        "rollout": plan.rollout is not None,
    }
    return [k for k in keys if optional.get(k, True)]

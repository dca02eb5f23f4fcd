"""What a run logs as MLflow metrics and says of itself: every model's metrics with their
intervals, and the study's findings that runs are compared on (fairness, transfer,
demand, entries into care), all as published."""

from __future__ import annotations

import math
from typing import Any

from .._escape import mlflow_text

__all__ = ["COMPARED", "HEADLINE", "run_description", "run_metrics", "run_name"]


def _estimates(out: dict[str, float | None], prefix: str, v: Any, value: str = "estimate") -> None:
    out[prefix] = getattr(v, value)
    out[f"{prefix}.lower"] = v.lower
    out[f"{prefix}.upper"] = v.upper


def _fairness(result: Any, out: dict[str, float | None]) -> None:
    if result.fairness is None:
        return
    findings = result.fairness.counted_findings(result.disclosure)
    for kind, n in findings["finding"].value_counts().items():
        out[f"fairness.findings.{str(kind).replace(' ', '_')}"] = float(n)
    cal = findings[(findings.metric == "calibration_ratio") & findings.value.notna()]
    cal = cal[cal.value > 0]
    if len(cal):
        widest = cal.loc[cal.value.map(lambda v: abs(math.log(v))).idxmax()]
        _estimates(out, "fairness.widest_calibration_ratio", widest, "value")


def _transfer_and_demand(summary: Any, out: dict[str, float | None]) -> None:
    primary = summary.primary_model
    aucs = [
        t.metrics[primary]["roc_auc"]
        for t in (summary.models.transfer if summary.models else [])
        if primary in t.metrics and "roc_auc" in t.metrics[primary]
    ]
    if aucs:
        _estimates(out, "transfer.worst_authority_roc_auc", min(aucs, key=lambda a: a.estimate))
    pop = summary.population
    forecasts = {**pop.demand_forecast, **pop.demand_by_group} if pop else {}
    if forecasts:
        f = next(iter(forecasts.values()))  # every grouping has the same total
        out["demand.expected_escalations"] = f.total_expected
        out["demand.expected_escalations.lower"] = f.total_lower
        out["demand.expected_escalations.upper"] = f.total_upper
    curve = pop.capacity_curve if pop else None
    if curve is not None:
        out["demand.recommended_places"] = curve.recommended_places
        out["demand.recommended_places.expected_reached"] = curve.recommended_reached
    handover = summary.looked_after.handover if summary.looked_after else None
    if handover is not None:
        out["looked_after.expected_entries"] = handover.expected
        out["looked_after.expected_entries.lower"] = handover.lower
        out["looked_after.expected_entries.upper"] = handover.upper


#: The primary model's headline figures, first on the run page (with their bounds).
HEADLINE = ("roc_auc", "calibration_slope", "calibration_intercept", "recall_at_capacity")
#: The group the other models' metrics (rules, oracle, the other learner) are logged in,
#: after the primary model's and the study's findings.
COMPARED = "compared/"


def run_metrics(result: Any) -> dict[str, float]:
    """Every metric a run logs, in the order the run page lists them: the primary
    model's headline figures (``PRIMARY.METRIC[.lower|.upper]``: ROC AUC, calibration,
    reach at capacity), its other metrics and its differences to the 5+ rule, the study's
    findings (fairness, transfer, demand, entries into care), then every other model's
    metrics in the ``compared/`` group. Finite values only."""
    summary = result.study_summary()
    models = summary.models
    primary = summary.primary_model
    metrics = models.metrics if models is not None else {}
    out: dict[str, float | None] = {}
    own = metrics.get(primary, {})
    for metric in [*(m for m in HEADLINE if m in own), *(m for m in own if m not in HEADLINE)]:
        _estimates(out, f"{primary}.{metric}", own[metric])
    for model, diffs in (models.differences_to_reference if models is not None else {}).items():
        group = "" if model == primary else COMPARED
        for metric, d in diffs.items():
            _estimates(out, f"{group}{model}.minus_reference.{metric}", d, "difference")
    _fairness(result, out)
    _transfer_and_demand(summary, out)
    if summary.impact is not None:
        e = summary.impact.estimate
        out |= {"impact.reduction": e.reduction, "impact.reduction.lower": e.reduction_lower}
        out |= {"impact.reduction.upper": e.reduction_upper, "impact.att": e.att}
        out["impact.e_value_interval"] = summary.impact.e_value_interval
        t = summary.impact.targeting
        if t is not None and t.heterogeneity_p is not None:
            out["impact.bands_differ_p"] = t.heterogeneity_p
    if summary.rollout is not None:
        r = summary.rollout
        out |= {"rollout.att": r.att, "rollout.att.lower": r.lower, "rollout.att.upper": r.upper}
        out |= {"rollout.reduction": r.reduction, "rollout.pre_trend_p": r.pre_trend_p}
    for model, table in metrics.items():
        if model != primary:
            for metric, v in table.items():
                _estimates(out, f"{COMPARED}{model}.{metric}", v)
    return {k: float(v) for k, v in out.items() if v is not None and math.isfinite(float(v))}


def run_name(result: Any) -> str:
    """A run's name as the runs table shows it, telling runs apart where they differ:
    families (published, rounded), the latest profile date, the data, the primary model.
    Short enough for the table's column.

    >>> from types import SimpleNamespace as NS
    >>> s = NS(data=NS(n_families=300000.0, synthetic=True), primary_model="lightgbm",
    ...        population=None, config={"data": {"seed": 2015}})
    >>> run_name(NS(study_summary=lambda: s, data_source="synthetic population"))
    '300k families · synthetic seed 2015 · lightgbm'
    """
    s = result.study_summary()
    n = float(s.data.n_families or 0)
    families = f"{n / 1000:,.0f}k" if n >= 10_000 else f"{n:,.0f}"
    parts = [f"{families} families"]
    forecast = (
        next(iter({**s.population.demand_forecast, **s.population.demand_by_group}.values()), None)
        if s.population is not None
        else None
    )
    if forecast is not None and forecast.profiles_to:
        parts[0] += f" to {forecast.profiles_to}"
    if s.data.synthetic:
        parts.append(f"synthetic seed {s.config.get('data', {}).get('seed')}")
    else:
        parts.append(mlflow_text(result.data_source.removeprefix("analyst file "), 40))
    return " · ".join([*parts, s.primary_model])


def run_description(result: Any) -> str:
    """The run's description in the MLflow UI (markdown): what was analysed, how well the
    primary model did, and what it is for."""
    summary = result.study_summary()
    primary = summary.primary_model
    auc = (summary.models.metrics.get(primary, {}) if summary.models else {}).get("roc_auc")
    split = summary.models.split if summary.models else None
    source = mlflow_text(result.data_source)
    line = f"**{primary}** on {source} (fingerprint `{result.data_fingerprint[:12]}`)."
    if auc is not None and split is not None and split.n_test is not None:
        line += (
            f" ROC AUC {auc.estimate:.3f} ({auc.lower:.3f} to {auc.upper:.3f}) on "
            f"{split.n_test:,.0f} test families."
        )
    return (
        line + " Population-level commissioning evidence; never for decisions about "
        "individual families. The model card is in this run's artifacts (model_card.html)."
    )

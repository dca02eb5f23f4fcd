"""What a run logs as MLflow metrics and says of itself: every model's metrics with their
intervals, and the study's findings that runs are compared on (fairness, transfer,
demand, entries into care), all as published."""

from __future__ import annotations

import math
from typing import Any

from .._escape import mlflow_text

__all__ = ["run_description", "run_metrics"]


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


def run_metrics(result: Any) -> dict[str, float]:
    """Every metric a run logs (names ``MODEL.METRIC[.lower|.upper]``, differences to
    the rule, and the study's findings), finite values only."""
    summary = result.study_summary()
    models = summary.models
    out: dict[str, float | None] = {}
    for model, table in (models.metrics if models is not None else {}).items():
        for metric, v in table.items():
            _estimates(out, f"{model}.{metric}", v)
    for model, diffs in (models.differences_to_reference if models is not None else {}).items():
        for metric, d in diffs.items():
            _estimates(out, f"{model}.minus_reference.{metric}", d, "difference")
    _fairness(result, out)
    _transfer_and_demand(summary, out)
    return {k: float(v) for k, v in out.items() if v is not None and math.isfinite(float(v))}


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

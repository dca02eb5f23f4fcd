"""The card's ATRS sections (UK Algorithmic Transparency Recording Standard): owner,
rationale, decision process, technical specification, risks, mitigations and impact
assessments, filled from a run's summary."""

from __future__ import annotations

from typing import Any

from ._claims import Claim, mitigation_effect
from ._content import CardContent
from ._format import _float, _fmt_int
from ._summary import ModelsSection, StudySummary

#: The gap each ThresholdOptimizer constraint targets, in the mitigation table.
_TARGETED_GAP = {
    "equalized_odds": "true_positive_rate_gap",
    "demographic_parity": "selection_rate_gap",
}

#: The mitigation table's columns as the card prints them.
_MITIGATION_HEADERS = {
    "characteristic": "characteristic",
    "strategy": "strategy",
    "selection_rate": "share offered",
    "escalations_reached": "share of escalations reached",
    "precision": "offered who escalate",
    "roc_auc": "ROC AUC",
    "true_positive_rate_gap": "gap in escalations reached",
    "false_positive_rate_gap": "gap in non-escalating offered",
    "selection_rate_gap": "gap in share offered",
    "note": "note",
}


def _mitigation_claims(rows: list[dict[str, Any]]) -> list[Claim]:
    """For each constraint, whether it narrowed the gap it targets against the unmitigated
    model at the same selection rate (the like-for-like row)."""
    claims = []
    for constraint, gap in _TARGETED_GAP.items():
        name = constraint.replace("equalized_odds", "equalised odds").replace("_", " ")
        mitigated = [r for r in rows if r.get("strategy") == f"ThresholdOptimizer ({constraint})"]
        same = [r for r in rows if str(r.get("strategy", "")).endswith(f"as {constraint}")]
        if mitigated and same:
            claim = mitigation_effect(name, _float(mitigated[0].get(gap)), _float(same[0].get(gap)))
            if claim is not None:
                claims.append(claim)
    return claims


def _mitigation_row(r: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    """A mitigation comparison with plain headers and the characteristic's label."""
    row = {
        _MITIGATION_HEADERS.get(k, k.replace("_", " ")): (
            v.replace("equalized_odds", "equalised odds").replace(
                "demographic_parity", "demographic parity"
            )
            if isinstance(v, str)
            else v
        )
        for k, v in r.items()
    }
    if "characteristic" in row:
        row["characteristic"] = labels.get(str(row["characteristic"]), row["characteristic"])
    return row


def _atrs(card: CardContent, s: StudySummary) -> None:
    card.add_text(
        "owner_and_responsibility",
        "The owner, senior responsible owner and contact are named by the analyst.",
    )
    for f in ("owner", "senior_responsible_owner", "contact"):
        card.add_gap("owner_and_responsibility", f)
    card.add_text(
        "description_and_rationale",
        "The tool estimates, for populations of families, the risk of escalation into "
        "statutory children's services within 12 months, so that early help can be "
        "commissioned where it prevents most harm (Rees 2015).",
    )
    card.add_text("decision_process", "Outputs inform commissioning of services only.")
    card.add_gap("decision_process", "decision_process")
    card.add_text(
        "technical_specification",
        "Temporal split, the rules and models compared with bootstrap intervals (LightGBM "
        "with a held-out calibration check); variables below.",
    )
    _calibration_text(card, s.primary_model, s.models)
    if s.model_file is not None and s.model_file.release:
        card.add_text("technical_specification", s.model_file.release)
    variables = s.data.variables
    unlabelled = [v.column for v in variables if v.label == v.column]
    if unlabelled:
        card.add_text(
            "technical_specification",
            f"{len(unlabelled)} column(s) have no label in the roles file and are shown by "
            f"their names in this card: {', '.join(unlabelled)}.",
        )
    card.add_table(
        "technical_specification",
        "Variables",
        [
            {
                "column": v.column,
                "role": v.role,
                "label": v.label,
                "source": v.source,
                "model feature": "yes" if v.model_feature else "no",
            }
            for v in variables
        ],
    )
    hp = s.models.hyperparameters if s.models is not None else {}
    if hp:
        card.add_table(
            "technical_specification",
            "Hyperparameters (get_params)",
            [
                {"model": m, "parameters": ", ".join(f"{k}={v}" for k, v in p.items())}
                for m, p in hp.items()
            ],
        )
    card.add_text(
        "risks",
        "Misuse on individual families; miscalibration for groups the data under-represents; "
        "drift in referral practice; over-reliance on a single score.",
    )
    mitigation = (s.fairness.mitigation if s.fairness is not None else None) or []
    audited = s.fairness is not None and bool(s.fairness.finding_counts)
    text = "Aggregate outputs only, with disclosure control; " + (
        "a fairness audit with findings against tolerances; "
        if audited
        else "no fairness audit ran in this run (see Caveats and recommendations); "
    )
    text += (
        "monitoring of observed against expected escalations."
        if s.monitoring is not None
        else "no monitoring (the data has no outcomes after training)."
    )
    if mitigation:
        text += (
            " fairlearn's ThresholdOptimizer was compared but not applied: its decisions "
            "are randomised and it ignores the service's capacity. "
            + " ".join(c.text + "." for c in _mitigation_claims(mitigation))
        )
    card.add_text("mitigations", text)
    if mitigation:
        card.add_table(
            "mitigations",
            "Mitigation comparison (reported, not applied)",
            [_mitigation_row(r, s.data.labels()) for r in mitigation],
        )
    card.add_text("impact_assessments", "Impact assessments are the owner's to record.")
    card.add_gap("impact_assessments", "impact_assessment")
    card.add_text(
        "reproducibility",
        f"Code version {card.provenance['code_version']}; data fingerprint "
        f"{card.provenance['data_fingerprint_sha256']}. Re-run with the configuration below "
        "(escalation-model run --config ...) to reproduce every figure; with MLflow, "
        "`escalation-model card RUN_ID` rebuilds this card from the tracked run.",
    )
    card.add_table(
        "reproducibility",
        "Configuration (and what became of each setting in this run)",
        [
            {"setting": k, "value": str(v), "in this run": s.settings_in_run.get(k, "")}
            for k, v in _flatten(s.config).items()
        ],
    )


def _calibration_text(card: CardContent, primary: str, models: ModelsSection | None) -> None:
    cal = models.calibration.get(primary) if models is not None else None
    if models is None or cal is None or cal.log_loss_raw is None:
        return
    refitted = not cal.calibrated and cal.model_rows == models.split.n_train
    checked = f"({cal.log_loss_raw:.4f} without"
    for method, loss in (("logistic", cal.log_loss_logistic), ("isotonic", cal.log_loss_isotonic)):
        if loss is not None:
            checked += f", {loss:.4f} {method}"
    verdict = (
        f"{cal.method or 'isotonic'} calibration was kept, lowering the held-out log loss by "
        "more than two standard errors"
        if cal.calibrated
        else "no calibration was kept, since none lowered the held-out log loss by more than "
        "two standard errors (a smaller gain is within chance)"
    )
    card.add_text(
        "technical_specification",
        f"The latest {_fmt_int(cal.holdout_rows)} training families were held out "
        f"to check calibration (cross-fitted log loss {checked}): {verdict}. The model "
        f"learned from {_fmt_int(cal.model_rows)} families"
        + (", all the training families, refitted after the check." if refitted else "."),
    )


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if (
            isinstance(v, dict)
            and v
            and all(isinstance(x, dict) for x in v.values())
            or (
                isinstance(v, dict)
                and any(not isinstance(x, dict) for x in v.values())
                and prefix == ""
            )
        ):
            out.update(_flatten(v, key))
        else:
            out[key] = v
    return out

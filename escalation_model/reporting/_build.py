"""Filling a ModelCard from a run's summary. Every figure comes from the summary; missing
analyses are named as missing."""

from __future__ import annotations

from typing import Any, TypeVar

from ..evaluation._metrics import NO_INTERVAL
from ..population import BENEFIT, ESTIMATED
from ..population._strategies import EXPECTED_REACH_MEANING, STRATEGY_LABELS
from ..schema import THINK_FAMILY
from ._atrs import _atrs
from ._content import NOT_FOR, CardContent
from ._equality import equality_page
from ._first_page import first_page
from ._format import MISSING, SEGMENT_LABELS, _ci, _float, _fmt_int, _num, _pct
from ._glossary import GLOSSARY
from ._impact import impact_section
from ._summary import (
    HandoverSection,
    ModelsSection,
    MonitoringSection,
    PopulationSection,
    StudySummary,
)

C = TypeVar("C", bound=CardContent)

MODEL_NAMES = {
    "five_plus_rule": "5+ Think Family indicators rule",
    "area_rule": "most deprived areas first",
    "logistic": "logistic regression",
    "lightgbm": "LightGBM (gradient-boosted trees)",
    "oracle": "oracle (true probability, synthetic data only)",
}
METRIC_NAMES = {
    "roc_auc": "ROC AUC",
    "average_precision": "average precision",
    "brier": "Brier score",
    "calibration_slope": "calibration slope",
    "calibration_intercept": "calibration intercept",
    "ece": "expected calibration error",
    "recall_at_capacity": "share of escalations reached at capacity",
    "precision_at_capacity": "precision at capacity",
}


def build_card(cls: type[C], s: StudySummary, plots_dir: str | None) -> C:
    """The card of a run, from its typed summary: every figure is the summary's."""
    synthetic = s.data.synthetic
    card = cls(
        title="Model card and commissioning report: risk of escalation into statutory "
        "children's services",
        synthetic=synthetic,
        plots_dir=plots_dir,
        provenance={
            "code_version": s.code_version,
            "data_fingerprint_sha256": s.data.fingerprint_sha256,
            "data_source": s.data.source,
            "config": s.config,
            "python": s.python,
        },
    )
    first_page(card, s)
    _mitchell(card, s)
    equality_page(card, s)
    impact_section(card, s)
    _atrs(card, s)
    used = card.all_text(skip=("glossary",)).casefold()
    card.add_text(
        "glossary",
        *(
            f"**{term}**: {GLOSSARY[term]}"
            for term in sorted(GLOSSARY, key=str.casefold)
            if term.casefold() in used  # only the terms this card uses
        ),
    )
    return card


def _factors_text(s: StudySummary) -> str:
    """What the results are broken down and audited by, from what the run did."""
    labels = s.data.labels()

    def label(name: str) -> str:
        parts = [SEGMENT_LABELS.get(p, labels.get(p, p)) for p in name.split(" x ")]
        return " by ".join(p if i else p[:1].lower() + p[1:] for i, p in enumerate(parts))

    published = {
        t.removeprefix("population_by_").removesuffix(".csv")
        for t in (s.population.tables if s.population is not None else [])
        if t.startswith("population_by_")
    }
    order: list[str] = []
    for g in s.config.get("population", {}).get("groupings", []):
        order += list(reversed(s.data.role_columns("area"))) if g == "area" else [g]
    tables = [t for t in dict.fromkeys(order) if t in published]
    text = (
        "Results are broken down by " + ", ".join(label(t) for t in tables) + "."
        if tables
        else "No population tables were published by this run."
    )
    audited = s.fairness.characteristics if s.fairness is not None else []
    if audited:
        text += " The fairness audit covers: " + ", ".join(label(c) for c in audited) + "."
    else:
        text += " No fairness audit ran (see Notes for why)."
    if s.data.role_columns("protected"):
        used = s.config.get("models", {}).get("include_protected")
        text += f" Protected characteristics are {'' if used else 'not '}used as model features."
    return text


def _five_plus_text(s: StudySummary) -> str:
    """Say what the 5+ rule counted when the data holds other than the paper's ten."""
    n = len(s.data.role_columns("think_family"))
    if n == len(THINK_FAMILY):
        return ""
    return (
        f" The 5+ rule counts 5 or more of the {n} Think Family indicators this data holds "
        f"(the founding paper's rule counts 5 or more of {len(THINK_FAMILY)})."
    )


def _primary_uses(s: StudySummary) -> str:
    """'audited, explained and used for the population tables', from what ran."""
    uses = []
    if s.fairness is not None and s.fairness.finding_counts:
        uses.append("audited")
    if s.explanations is not None and s.explanations.summary:
        uses.append("explained")
    if s.population is not None:
        uses.append("used for the population tables")
    if not uses:
        return "evaluated"
    return ", ".join(uses[:-1]) + (" and " if len(uses) > 1 else "") + uses[-1]


def _mitchell(card: CardContent, s: StudySummary) -> None:
    metrics = s.models.metrics if s.models is not None else {}
    card.add_text(
        "model_details",
        "Developed with the open-source library escalation_model "
        f"(version {card.provenance['code_version']}). Models compared: "
        + ", ".join(MODEL_NAMES.get(m, m) for m in metrics)
        + f". The {MODEL_NAMES.get(s.primary_model, s.primary_model)} model is the one "
        + _primary_uses(s)
        + " (the configuration's primary model); its hyperparameters are listed under "
        "Technical specification." + _five_plus_text(s),
    )
    card.add_text(
        "intended_use",
        NOT_FOR,
        "Intended users: commissioners and analysts of a local authority and its "
        "partners, planning early-help services for populations of families.",
    )
    card.add_text("factors", _factors_text(s))
    _metrics_section(card, s.models)
    _looked_after_text(card, s)
    card.add_text(
        "training_data",
        f"Data: {s.data.source}; {_fmt_int(s.data.n_families)}"
        f" families (fingerprint SHA-256 {s.data.fingerprint_sha256}). "
        + (
            "SYNTHETIC: generated by the library's documented structural model; no real family "
            "is represented."
            if card.synthetic
            else "The analyst's own extract."
        ),
    )
    if s.data.preparation:
        card.add_text(
            "training_data",
            "The families and their label were prepared from statutory returns and agency "
            "records by escalation-model prepare:",
            *s.data.preparation,
        )
    _quantitative_analyses(card, s)
    card.add_text(
        "ethical_considerations",
        "Predictive tools in children's services have been criticised for encoding "
        "surveillance bias (families in contact with public services are more visible), for "
        "opaque models, and for use on individual families (Allegheny, Hackney, Bristol). "
        "This library publishes aggregates only, with disclosure control "
        f"({s.disclosure_control.description}), reports calibration and error rates by group, "
        "compares every model with the rule it would replace, and publishes the variables and "
        "the code.",
    )
    card.add_text("published_statistics", *s.disclosure_control.statement)
    card.add_text(
        "caveats_and_recommendations",
        "Outcomes record service contact, which depends on referral practice as well as need. "
        "Models trained on one period may drift; re-run the monitoring table each quarter. "
        "Scenario results depend on the effect of early help: an assumed effect is an "
        "assumption to be tested, not an estimate.",
        "Do not use individual scores; use area and group totals with their intervals.",
        *_monitoring_text(s.monitoring),
        *s.notes,
    )


def _monitoring_text(m: MonitoringSection | None) -> list[str]:
    """What the quarterly monitoring flagged, and what it could have detected."""
    if m is None:
        return []
    text = (
        f"Monitoring (monitoring_by_quarter.csv): {m.quarters} quarters after the training "
        f"period, {m.flagged_fewer} with fewer escalations than the model expects for their "
        f"families and {m.flagged_more} with more, beyond 95% control limits. The limits are "
        "the range of the count if nothing changed (Poisson-binomial), widened for the "
        "model's own uncertainty about its overall calibration "
        f"({m.calibration_se:.1%}: at least the chance variation in the escalations it "
        "learned from, more where the test families' count departs from expected beyond "
        "chance)."
    )
    if m.power_10_percent_fall is not None and m.typical_quarter_expected is not None:
        text += (
            f" With about {m.typical_quarter_expected:,.0f} expected escalations in a "
            f"typical quarter, a real 10% fall would be flagged "
            f"{m.power_10_percent_fall:.0%} of the time."
        )
    return [text]


def _looked_after_text(card: CardContent, s: StudySummary) -> None:
    la = s.looked_after
    if la is None or la.model not in la.metrics:
        return
    auc = la.metrics[la.model]["roc_auc"]
    text = (
        "**Entry into care.** A second model of the same kind estimates each family's "
        "chance that the highest level reached is looked after (entry into care), for "
        f"planning placements. On the test period ({_fmt_int(la.test_entries)} entries into "
        f"care) it ranks families with ROC AUC {_ci(auc, digits=2)}"
    )
    if "oracle" in la.metrics:
        best = la.metrics["oracle"]["roc_auc"].estimate
        text += f"; the best possible on this data is {_num(best, '.2f')}"
    if la.test_expected_entries is not None:
        text += (
            f". It expected {_num(la.test_expected_entries, ',.0f')} entries there, against "
            f"{_fmt_int(la.test_entries)} observed"
        )
    card.add_text("metrics", text + ".")
    _handover_text(card, la.handover)


def _handover_text(card: CardContent, h: HandoverSection | None) -> None:
    if h is None:
        return
    card.add_text(
        "metrics",
        f"**For placement planning.** Among the latest {_fmt_int(h.families)} families, the "
        f"model expects {_num(h.expected, ',.0f')} {h.unit} "
        f"to enter care in the next {h.horizon_months} months ({_num(h.lower, ',.0f')} to "
        f"{_num(h.upper, ',.0f')}, the interval from the families' own chances only). "
        "looked_after_handover.csv gives them by quarter and age band, in the shape the "
        "looked-after demand models take their entrants.",
        *h.basis,
    )


def _metrics_section(card: CardContent, models: ModelsSection | None) -> None:
    if models is not None and models.metrics:
        metrics = models.metrics
        rows = []
        for model, table in metrics.items():
            row = {"model": MODEL_NAMES.get(model, model)}
            for key, name in METRIC_NAMES.items():
                if key in NO_INTERVAL and key in table:
                    row[name] = f"{_num(table[key].estimate, '.3f')} (no interval)"
                elif key in table:
                    row[name] = _ci(table[key], pct=key == "recall_at_capacity")
            rows.append(row)
        card.add_text(
            "metrics",
            "Every metric has a 95% bootstrap confidence interval "
            f"({models.n_bootstrap} resamples). Capacity metrics assume a service "
            f"taking {models.capacity} of families (a share if below 1). Each model "
            "is compared with the simple rule it would replace (the 5+ rule). "
            + " ".join(
                reason[0].upper() + reason[1:] + "."
                for key, reason in NO_INTERVAL.items()
                if any(key in t for t in metrics.values())
            ),
        ).add_table("metrics", "Performance on the test period", rows)
        for fig, cap in (
            ("capacity.png", "Escalations reached for a given capacity"),
            ("calibration.png", "Calibration with 95% intervals"),
            ("roc.png", "ROC curves"),
        ):
            card.add_figure("metrics", cap, fig)
        transfer = models.transfer
        if transfer:
            n_fit = transfer[0].n_train
            card.add_text(
                "metrics",
                "**An authority the model has not seen.** For each authority, the model was "
                f"refitted on {_fmt_int(n_fit)} sampled families of the other authorities' "
                "training period and tested on this authority's test period, beside the 5+ "
                "rule. Smaller training samples make these figures a little conservative; "
                "what matters is whether any authority falls well below the others.",
            ).add_table(
                "metrics",
                "Transfer to each authority",
                [
                    {
                        "authority": t.authority,
                        "test families": _fmt_int(t.n_test),
                        **{
                            f"{MODEL_NAMES.get(m, m)}: {METRIC_NAMES.get(k, k)}": _ci(
                                v, pct=k == "recall_at_capacity"
                            )
                            for m, table in t.metrics.items()
                            for k, v in table.items()
                        },
                    }
                    for t in transfer
                ],
            )
    else:
        card.add_text("metrics", MISSING.format(what="a model evaluation"))
    card.add_text(
        "evaluation_data",
        (f"Test families: {_fmt_int(models.test_families)}; {models.split.description}.")
        if models is not None
        else MISSING.format(what="a test split"),
    )


def _quantitative_analyses(card: CardContent, s: StudySummary) -> None:
    qa = card.add_section("quantitative_analyses")
    if s.fairness is not None:
        qa.text.extend(s.fairness.summary)
        qa.text.append(s.fairness.trade_offs)
        card.add_figure(
            "quantitative_analyses",
            "Calibration by group (observed / expected)",
            "fairness_calibration_ratio.png",
        )
        card.add_figure(
            "quantitative_analyses",
            "Share of each group's escalations reached",
            "fairness_true_positive_rate.png",
        )
    else:
        qa.text.append(MISSING.format(what="a fairness audit"))
    if s.explanations is not None:
        qa.text.extend(s.explanations.summary)
        card.add_figure(
            "quantitative_analyses", "What drives predicted risk", "explain_importance.png"
        )
        card.add_figure("quantitative_analyses", "How needs combine", "explain_interactions.png")
    else:
        qa.text.append(MISSING.format(what="explanations"))
    if s.population is not None and s.population.strategies:
        card.add_text("quantitative_analyses", EXPECTED_REACH_MEANING)
        strategies = s.population.strategies
        reach = {str(r.get("strategy")): _float(r.get("expected_reached")) for r in strategies}
        benefit, model = reach.get(BENEFIT), reach.get("model")
        if benefit is not None and model is not None and benefit < model:
            card.add_text(
                "quantitative_analyses",
                "Targeting by expected benefit reaches fewer expected escalations than the "
                "model's ranking: it passes over families whose group the estimated effect "
                "of early help barely reaches ('Has it made any difference?'); the "
                "scenarios give what each way of choosing families might avert.",
            )
        card.add_table(
            "quantitative_analyses",
            "Targeting strategies at capacity (counts rounded to 5)",
            [_strategy_row(r) for r in s.population.strategies],
        )
        card.add_figure(
            "quantitative_analyses", "Which targeting reaches most need", "strategies.png"
        )
        labels = s.data.labels()
        for area, n in s.population.funnel.items():
            card.add_figure(
                "quantitative_analyses",
                f"Funnel plot by {labels.get(area, area)}: observed over expected "
                "escalations in the test period, with 95% and 99.8% limits. " + _funnel_caption(n),
                f"funnel_{area}.png",
            )
    _scenario_table(card, s.population)


def _funnel_caption(n: dict[str, int]) -> str:
    """'81 of 248 areas shown (167 with counts too small to publish); 3 above the 95%
    limits, 1 below, 2 at a limit where rounding decides.'"""
    text = f"{n['shown']:,} of {n['areas']:,} areas shown"
    if n.get("not shown"):
        text += f" ({n['not shown']:,} with counts too small to publish)"
    return (
        text + f"; {n['above']} above the 95% limits, {n['below']} below, {n['at the limit']} at "
        "a limit where the published count's rounding decides."
    )


def _strategy_row(r: dict[str, Any]) -> dict[str, str]:
    """A targeting strategy as the card prints it: plain headers, counts with their
    range, shares as percentages."""

    def share(key: str) -> str:
        return _pct(_float(r.get(key)))

    def count(key: str) -> str:
        return _num(_float(r.get(key)), ",.0f")

    return {
        "targeting": str(r.get("description", "")),
        "families offered": _fmt_int(_float(r.get("families_offered"))),
        "expected escalations reached (range)": f"{count('expected_reached')} "
        f"({count('expected_lower')} to {count('expected_upper')})",
        "escalations reached in the test period": _fmt_int(_float(r.get("observed_reached"))),
        "share of all escalations reached": share("observed_share_of_all"),
        "offered outside the most deprived areas": share("offered_outside_most_deprived"),
    }


def _scenario_table(card: CardContent, population: PopulationSection | None) -> None:
    """What each strategy might avert under each assumed effect of early help, with the
    assumption beside every figure (costs only where the analyst supplied them)."""
    if population is None or not population.scenarios:
        return
    rows = []
    for r in population.scenarios:
        row: dict[str, Any] = {
            "targeting": STRATEGY_LABELS.get(str(r["strategy"]), r["strategy"]),
            "effect of early help (assumed or estimated)": f"{r['assumption']}: "
            f"{_float(r['risk_reduction']) or 0:.0%} fewer escalations among those offered",
            "escalations averted (95% range)": f"{_num(_float(r['escalations_averted']), ',.0f')}"
            f" ({_num(_float(r['escalations_averted_lower']), ',.0f')} to "
            f"{_num(_float(r['escalations_averted_upper']), ',.0f')})",
        }
        if r.get("escalation_cost_averted") is not None:
            row["cost averted (assumed cost per escalation)"] = (
                f"{_num(_float(r['escalation_cost_averted']), ',.0f')} "
                f"({_num(_float(r.get('cost_per_escalation_assumed')), ',.0f')} each)"
            )
        rows.append(row)
    estimated = any(r["assumption"] == ESTIMATED for r in population.scenarios)
    card.add_text(
        "quantitative_analyses",
        "**Scenarios.** What each way of choosing families might avert if early help "
        "reduced escalation among the families offered it by the share beside each figure. "
        + (
            "Rows 'estimated' use the effect estimated from this data ('Has it made any "
            "difference?'), their range carrying its interval; the others are assumptions "
            "to be tested, not estimates"
            if estimated
            else "The effect is an assumption to be tested, not an estimate"
        )
        + "; the range is the chance variation of the expected count among the families "
        "offered help.",
    )
    card.add_table(
        "quantitative_analyses", "Scenarios at capacity (assumptions beside each figure)", rows
    )

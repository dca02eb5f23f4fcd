"""The card's first page: the five questions a commissioner asks (how much early help,
where, for whom, how sure, and what it must never be used for), answered in plain words
with the run's own figures. Every number printed is recorded with
:meth:`ModelCard.add_fact`."""

from __future__ import annotations

from typing import Any

from ..fairness import AUDIT_METRICS
from . import _facts as facts
from ._claims import better_than_rule, ranking
from ._content import NOT_FOR, CardContent
from ._format import MISSING, SEGMENT_LABELS, _float, _fmt_int, _num, _pct
from ._summary import (
    FairnessSection,
    Forecast,
    ModelsSection,
    PopulationSection,
    StudySummary,
)

__all__ = ["first_page"]

#: The headings of the five answers (the rendering test looks for them); what the
#: model must never be used for comes first.
QUESTIONS = (
    "How much early help.",
    "Where.",
    "For whom.",
    "How sure.",
    "Not for individual decisions.",
)


def first_page(card: CardContent, s: StudySummary) -> None:
    """Fill ``card.first_page`` (and its figures) from the summary ``s``."""
    fp = card.first_page
    if card.synthetic:
        fp.append(
            "These results come from the library's synthetic population of families, not "
            "from real families. They show what the analysis produces; they say nothing about "
            "any real area."
        )
    fp.append(f"**{QUESTIONS[-1]}** {NOT_FOR}")
    labels = {**SEGMENT_LABELS, **s.data.labels()}
    ranks = _targeting_supported(s)
    _how_much(card, s.population, ranks)
    _where(card, s.population, labels)
    _for_whom(card, s.population)
    if not ranks:
        fp.append(
            "**Read with care.** The model ranks families no better than chance, so the "
            "differences between areas and groups above are the model's guesses, close to "
            "the average everywhere; they are no basis for where to commission."
        )
    _how_sure(card, s.primary_model, s.models, s.population)
    if not ranks:
        fp.append(
            "**What drives risk.** Not summarised: a model that ranks families no better "
            "than chance has learned no driver worth reading."
        )
    elif s.explanations is not None and s.explanations.summary:
        fp.append("**What drives risk.** " + s.explanations.summary[0])
    else:
        fp.append(MISSING.format(what="explanations"))
    _fairness(card, s.fairness, labels)
    if ranks and s.population is not None and s.population.capacity_curve is not None:
        card.add_first_page_figure(
            "How much early help: expected escalations reached and averted against the "
            "places offered; the recommended capacity and the configuration's assumption "
            "marked",
            "capacity_curve.png",
        )
    area = next(iter(s.population.demand_forecast), None) if s.population else None
    if area is not None:
        card.add_first_page_figure(
            f"Where: each {_in_prose(area, labels)}'s observed escalations in the test "
            "period over what the model expected for its families; outside the dashed "
            "lines is more than chance",
            f"funnel_{area}.png",
        )


def _targeting_supported(s: StudySummary) -> bool:
    """Whether the primary model's ranking supports choosing whom to offer help first
    (the ranking claim; True where it cannot be judged, as the card then says)."""
    m = s.models.metrics.get(s.primary_model, {}) if s.models is not None else {}
    auc = m.get("roc_auc")
    claim = None if auc is None else ranking(auc.estimate, auc.lower, auc.upper)
    return claim is None or claim.supports_targeting


def _in_prose(column: str, labels: dict[str, str]) -> str:
    """A column's label as it reads mid-sentence ('lone-parent household'); a column the
    analyst gave no label keeps its own name as written ('LALoneParent').

    >>> _in_prose("lone_parent", {"lone_parent": "Lone-parent household"}), _in_prose("LACode", {})
    ('lone-parent household', 'LACode')
    """
    label = labels.get(column)
    if not label or label == column:
        return column
    return label[:1].lower() + label[1:] if not label[1:2].isupper() else label


def _forecast(
    population: PopulationSection | None, *, areas_only: bool = False
) -> tuple[str, Forecast] | None:
    """The forecast by the coarsest area (or, unless ``areas_only``, by the first family
    grouping: every grouping has the same total)."""
    if population is None:
        return None
    forecast = dict(population.demand_forecast)
    if not areas_only:
        forecast |= population.demand_by_group
    by = next(iter(forecast), None)
    if by is None or forecast[by].total_expected is None:
        return None
    return by, forecast[by]


def _how_much(card: CardContent, population: PopulationSection | None, ranks: bool = True) -> None:
    found = _forecast(population)
    if found is None or population is None:
        card.first_page.append(MISSING.format(what="a demand forecast"))
        return
    f = found[1]
    total = card.add_fact("forecast_total", f.total_expected, _num(f.total_expected, ",.0f"))
    lo = card.add_fact("forecast_lower", f.total_lower, _num(f.total_lower, ",.0f"))
    hi = card.add_fact("forecast_upper", f.total_upper, _num(f.total_upper, ",.0f"))
    fam = card.add_fact("forecast_families", f.total_families, _fmt_int(f.total_families))
    text = (
        f"**{QUESTIONS[0]}** Of the {fam} families profiled in the latest year "
        f"({f.profiles_from} to {f.profiles_to}), about {total} are expected to need "
        f"statutory children's services within 12 months (95% range {lo} to {hi}: the "
        "count's chance variation if the model is right, widened for the model's own "
        "uncertainty about its overall calibration)."
    )
    c = population.capacity_curve
    if not ranks:
        card.first_page.append(
            text + " The model ranks families no better than chance on a later year (see "
            "How sure), so this card recommends no number of places and no order in which "
            "to offer them: the capacity curve and the targeting comparisons describe the "
            "model, not a plan."
        )
        return
    if c is not None and c.recommended_places and f.total_families:
        share = facts.share(c.recommended_places, f.total_families)
        text += (
            " Offered in the model's order, "
            + card.add_fact(
                "capacity_recommended", c.recommended_places, _fmt_int(c.recommended_places)
            )
            + " places ("
            + card.add_fact("capacity_recommended_share", share, _pct(share))
            + " of these families) would reach about "
            + card.add_fact(
                "capacity_reached", c.recommended_reached, _num(c.recommended_reached, ",.0f")
            )
            + " of them ("
            + card.add_fact(
                "capacity_reached_share",
                c.recommended_share_of_expected,
                _pct(c.recommended_share_of_expected),
            )
            + ")"
            + _averted(card, c.recommended_reached, c.risk_reduction)
            + ". Beyond that point an extra place reaches fewer expected escalations than a "
            "place offered at random: the point of diminishing returns, which this card "
            "recommends as the capacity to plan for. The configuration's "
            + card.add_fact("capacity_assumed", c.assumed_places, _fmt_int(c.assumed_places))
            + " places are an assumption, not a finding: they would reach about "
            + card.add_fact(
                "capacity_assumed_reached", c.assumed_reached, _num(c.assumed_reached, ",.0f")
            )
            + " ("
            + card.add_fact(
                "capacity_assumed_share",
                c.assumed_share_of_expected,
                _pct(c.assumed_share_of_expected),
            )
            + ")."
        )
    card.first_page.append(text)


def _averted(card: CardContent, reached: float | None, effects: dict[str, float]) -> str:
    """', and avert about 271 if early help prevents 20% of their escalations (an
    assumption) or 135 to 406 if it prevents 10% to 30%', from the analyst's assumed
    effects; empty without a central one."""
    if reached is None or "central" not in effects:
        return ""
    c = effects["central"]
    central = facts.averted(reached, c)
    text = (
        ", and avert about "
        + card.add_fact("averted_central", central, _num(central, ",.0f"))
        + " if early help prevents "
        + card.add_fact("effect_central", c, _pct(c))
        + " of their escalations (an assumption)"
    )
    if {"low", "high"} <= effects.keys():
        lo, hi = facts.averted(reached, effects["low"]), facts.averted(reached, effects["high"])
        text += (
            " or "
            + card.add_fact("averted_low", lo, _num(lo, ",.0f"))
            + " to "
            + card.add_fact("averted_high", hi, _num(hi, ",.0f"))
            + " if it prevents "
            + card.add_fact("effect_low", effects["low"], _pct(effects["low"]))
            + " to "
            + card.add_fact("effect_high", effects["high"], _pct(effects["high"]))
        )
    return text


def _where(card: CardContent, population: PopulationSection | None, labels: dict[str, str]) -> None:
    found = _forecast(population, areas_only=True)
    if found is None or population is None:
        card.first_page.append(
            f"**{QUESTIONS[1]}** Not answered: this run has no forecast by area (it needs "
            "the area and profile date roles: the columns naming each family's areas and "
            "the date of its profile)."
        )
        return
    rates = _by_level(card, population.highest_rates, labels, "per_1000", ".0f", "rate")
    totals = _by_level(card, population.highest_totals, labels, "expected", ",.0f", "total")
    card.first_page.append(
        f"**{QUESTIONS[1]}** The most expected escalations per 1,000 families (95% range): "
        + rates
        + ". The most in total: "
        + totals
        + ". The funnel plot in this section shows where the test period's escalations "
        "differed from what the model expected for the families there by more than chance."
    )


def _by_level(
    card: CardContent,
    levels: dict[str, list[dict[str, Any]]],
    labels: dict[str, str],
    column: str,
    spec: str,
    fact: str,
) -> str:
    """'by local authority, LA03 40 (37 to 43), LA01 37 (34 to 40); by ward, ...': the
    top three areas of each level on ``column`` with its range, each figure a fact."""
    parts = []
    for level, rows in levels.items():
        listed = []
        for r in rows[:3]:
            figures = [
                card.add_fact(f"{fact}_{r[level]}{end}", _float(r[k]), _num(_float(r[k]), spec))
                for k, end in (
                    (column, ""),
                    (f"{column}_lower", "_lower"),
                    (f"{column}_upper", "_upper"),
                )
            ]
            listed.append(f"{r[level]} {figures[0]} ({figures[1]} to {figures[2]})")
        if listed:
            parts.append(f"by {_in_prose(level, labels)}, " + ", ".join(listed))
    return "; ".join(parts) or "none published"


def _group_phrase(by: str, group: Any) -> str:
    """'families with 5+ Think Family indicators', 'lone parent families', ..."""
    if by == "n_think_family_band":
        return f"families with {group} Think Family indicators"
    if by == "family_type":
        return f"{group} families"
    if by == "deprivation_quintile":
        return f"families in deprivation quintile {group} (1 = most deprived)"
    return f"families with {SEGMENT_LABELS.get(by, by)} {group}"


def _for_whom(card: CardContent, population: PopulationSection | None) -> None:
    groups = population.demand_by_group if population is not None else {}
    parts = []
    for by, f in groups.items():
        found = facts.top_group(f.rows, f.total_families, f.total_expected)
        if found is None:
            continue
        top, fam_share, exp_share = found
        key = f"group_{by}"
        parts.append(
            f"{_group_phrase(by, top[by])} are "
            + card.add_fact(f"{key}_families", fam_share, _pct(fam_share))
            + " of families but "
            + card.add_fact(f"{key}_expected", exp_share, _pct(exp_share))
            + " of expected escalations ("
            + card.add_fact(
                f"{key}_rate", _float(top["per_1000"]), _num(_float(top["per_1000"]), ".0f")
            )
            + " per 1,000)"
        )
    if not parts:
        card.first_page.append(MISSING.format(what="a forecast by family group"))
        return
    joined = "; ".join(parts)
    text = f"**{QUESTIONS[2]}** " + joined[:1].upper() + joined[1:] + "."
    outside = population.share_of_observed_escalations_outside_most_deprived if population else None
    if outside is not None:
        text += (
            " Yet "
            + card.add_fact("need_outside_deprived", outside, _pct(outside))
            + " of the test period's escalations came from families outside the most deprived "
            "fifth of areas, which targeting those areas alone cannot reach."
        )
    card.first_page.append(text)


def _how_sure(
    card: CardContent,
    primary: str,
    models: ModelsSection | None,
    population: PopulationSection | None,
) -> None:
    metrics = models.metrics if models is not None else {}
    if models is None or primary not in metrics:
        card.first_page.append(MISSING.format(what="a model evaluation"))
        return
    text = f"**{QUESTIONS[3]}** " + _of_every_100(card, primary, models, population)
    auc = metrics[primary].get("roc_auc")
    claim = None if auc is None else ranking(auc.estimate, auc.lower, auc.upper)
    if auc is None or claim is None:
        card.first_page.append(text + " How well it ranks families is not known: no ROC AUC.")
        return
    for key, value in (("auc_primary", auc.estimate), ("auc_primary_lower", auc.lower)):
        card.add_fact(key, value, _num(value, ".2f"))
    card.add_fact("auc_primary_upper", auc.upper, _num(auc.upper, ".2f"))
    card.add_fact("ranking_claim", None, claim.verdict)
    text += " " + claim.text
    if "oracle" in metrics and claim.supports_targeting:
        o = metrics["oracle"]["roc_auc"].estimate
        text += "; the best possible is " + card.add_fact("auc_oracle", o, _num(o, ".2f"))
    card.first_page.append(text + (")." if claim.supports_targeting else "."))


_WHO = {
    "model": "the model's top families",
    "five_plus_rule": "the 5+ indicators rule",
    "area_rule": "most deprived areas first",
    "oracle": "the true risk (the best possible, known only for synthetic data)",
}


def _of_every_100(
    card: CardContent, primary: str, models: ModelsSection, population: PopulationSection | None
) -> str:
    """'Of every 100 families that went on to escalate in the test period, the top 2,985
    families (5% of the test families) offered help in the model's order would have
    included 59.8; ...': the same figures, to one decimal, as the metrics table's share of
    escalations reached at capacity, and the model-minus-rule difference made of them."""
    metrics = models.metrics
    cap = population.capacity_families if population is not None else None
    if not cap or not models.test_families:
        return ""
    reach: dict[str, float] = {}
    for who, m in (
        ("model", primary),
        *((k, k) for k in ("five_plus_rule", "area_rule", "oracle")),
    ):
        value = metrics.get(m, {}).get("recall_at_capacity")
        printed = facts.per_100(None if value is None else value.estimate)
        if printed is not None:
            reach[who] = printed
    if "model" not in reach:
        return ""
    share = facts.share(cap, models.test_families)
    listed = [
        f"{_WHO[who]}, " + card.add_fact(f"reach_{who}", v, f"{v:.1f}") for who, v in reach.items()
    ]
    text = (
        "Of every 100 families that went on to escalate in the test period, the "
        + card.add_fact("capacity_families", cap, _fmt_int(cap))
        + " places ("
        + card.add_fact("capacity_share", share, _pct(share))
        + " of the test families) would have reached: "
        + "; ".join(listed)
        + "."
    )
    d = models.differences_to_reference.get(primary, {}).get("recall_at_capacity")
    if d is not None and "five_plus_rule" in reach:
        gap = facts.difference_of_printed(reach["model"], reach["five_plus_rule"]) or 0.0
        claim = better_than_rule(d.lower, d.upper)
        text += (
            " The model's reach minus the rule's: "
            + card.add_fact("reach_gain_vs_rule", gap, f"{gap:+.1f}")
            + " in every 100 (95% interval "
            + card.add_fact("reach_gain_lower", d.lower, _num(d.lower, "+.1f", 100))
            + " to "
            + card.add_fact("reach_gain_upper", d.upper, _num(d.upper, "+.1f", 100))
            + ")"
            + (f", {claim.text}." if claim is not None else ".")
        )
    return text


def _fairness(card: CardContent, fairness: FairnessSection | None, labels: dict[str, str]) -> None:
    if fairness is None or not fairness.finding_counts:
        card.first_page.append(MISSING.format(what="a fairness audit"))
        return
    counts = fairness.finding_counts
    total = sum(
        int(r.get(k) or 0)
        for r in counts
        for k in ("outside tolerance", "within tolerance", "too uncertain to say")
    )
    card.first_page.append(
        f"**Fairness.** The audit compared each group with its reference group on "
        f"{len(counts)} criteria ({total} comparisons that could be assessed), holding the "
        "chance of any false finding of 'outside tolerance' to 5% across them all. "
        + _counts_by_criterion(counts)
        + _outside_by_criterion(fairness, labels)
        + " Every comparison, with its interval, is in the table of fairness findings "
        "published with this card."
        + " Nothing was changed to the model as a result; any mitigation is a decision for "
        "the owner (see Mitigations)."
    )


def _counts_by_criterion(counts: list[dict[str, Any]]) -> str:
    """'By criterion (outside, within, too uncertain): share reached: 2 outside, ...'"""
    short = {"outside tolerance": "outside", "within tolerance": "within"}
    short["too uncertain to say"] = "uncertain"
    parts = []
    for r in counts:
        kinds = [f"{int(r[k])} {name}" for k, name in short.items() if r.get(k)]
        parts.append(f"{r['criterion']}: " + (", ".join(kinds) or "none assessable"))
    return "By criterion: " + "; ".join(parts) + "."


def _group_text(characteristic: str, group: Any, labels: dict[str, str]) -> str:
    """'lone-parent household', 'area deprivation quintile 2', 'child's ethnicity by area
    deprivation quintile White | 2'.

    >>> _group_text("lone_parent", 1, {"lone_parent": "Lone-parent household"})
    'lone-parent household'
    >>> _group_text("sex", "F", {})
    'sex F'
    """
    names = [_in_prose(c, labels) for c in str(characteristic).split(" x ")]
    name = " by ".join(names)
    value = str(group)
    if value in {"1", "True", "1.0"}:
        return name
    if value in {"0", "False", "0.0"}:
        return f"not {name}"
    return f"{name} {value}"


def _outside_by_criterion(fairness: FairnessSection, labels: dict[str, str]) -> str:
    """' Outside tolerance, by criterion: share offered early help: A, B; share reached:
    C.' (every group outside tolerance named)."""
    by: dict[str, list[str]] = {}
    for r in fairness.outside_tolerance:
        criterion = AUDIT_METRICS.get(str(r["metric"]), str(r["metric"]))
        by.setdefault(criterion, []).append(
            _group_text(str(r["characteristic"]), r["group"], labels)
        )
    if not by:
        return " Outside tolerance, on any criterion: none."
    parts = []
    for criterion, groups in by.items():
        parts.append(f"{criterion}: {', '.join(groups)}")
    return " Outside tolerance, by criterion: " + "; ".join(parts) + "."

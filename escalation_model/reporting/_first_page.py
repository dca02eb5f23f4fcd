"""The card's first page: a briefing a commissioner takes in two minutes. The
prohibition first; four figures in large type; then one question per row (how much
early help, where, for whom), each with its chart and at most three short sentences;
how sure, and whether the model is fair to every group, in a few sentences; a pointer
to the glossary and the detail. Every number printed is recorded with
:meth:`CardContent.add_fact`; the derived ones come from :mod:`._facts`.

The page describes groups and capacity, never families chosen: what places would reach
among the families where expected need is highest, not who would get them."""

from __future__ import annotations

from typing import Any

from . import _facts as facts
from ._claims import better_than_rule, ranking
from ._content import NOT_FOR_SHORT, CardContent, Headline, Panel
from ._equality import equality_sentences
from ._format import MISSING, SEGMENT_LABELS, _float, _fmt_int, _num, _pct, in_prose
from ._summary import Forecast, ModelsSection, PopulationSection, StudySummary

__all__ = ["QUESTIONS", "first_page"]

#: The five questions page one answers (the rendering test looks for them); what the
#: model must never be used for is printed first.
QUESTIONS = (
    "How much early help?",
    "Where?",
    "For whom?",
    "How sure?",
    "Not for individual decisions.",
)

#: The rules a council may use today, as page one names them.
RULES = {
    "five_plus_rule": "the 5+ indicators rule",
    "area_rule": "most deprived areas first",
}


def first_page(card: CardContent, s: StudySummary) -> None:
    """Fill page one (notes, headline figures, panels, footnote) from the summary."""
    card.first_page.append(f"**{QUESTIONS[-1]}** {NOT_FOR_SHORT}")
    labels = {**SEGMENT_LABELS, **s.data.labels()}
    names = s.data.area_names()
    ranks = _targeting_supported(s)
    _headlines(card, s, ranks)
    card.panels += [
        _how_much(card, s.population, ranks),
        _where(card, s.population, labels, names),
        _for_whom(card, s.population),
        _how_sure(card, s, ranks),
        Panel("Fair to every group?", equality_sentences(card, s.fairness, labels)),
    ]
    card.footnote = (
        "Terms (ROC AUC, 95% range, calibration) are explained in the Glossary at the end; "
        "the detail behind each figure, and the Equality page, follow."
    )


def _targeting_supported(s: StudySummary) -> bool:
    """Whether the primary model's ranking supports choosing where to offer help first
    (the ranking claim; True where it cannot be judged, as the card then says)."""
    m = s.models.metrics.get(s.primary_model, {}) if s.models is not None else {}
    auc = m.get("roc_auc")
    claim = None if auc is None else ranking(auc.estimate, auc.lower, auc.upper)
    return claim is None or claim.supports_targeting


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


def _current_rule(s: StudySummary) -> str | None:
    """The rule the configuration says the council uses today (None: not stated)."""
    rule = s.config.get("population", {}).get("current_rule")
    return str(rule) if rule in RULES else None


# ---------------------------------------------------------------------- headlines
def _headlines(card: CardContent, s: StudySummary, ranks: bool) -> None:
    found = _forecast(s.population)
    if found is None:
        return
    f = found[1]
    fam = card.add_fact("forecast_families", f.total_families, _fmt_int(f.total_families))
    total = card.add_fact("forecast_total", f.total_expected, _num(f.total_expected, ",.0f"))
    lo = card.add_fact("forecast_lower", f.total_lower, _num(f.total_lower, ",.0f"))
    hi = card.add_fact("forecast_upper", f.total_upper, _num(f.total_upper, ",.0f"))
    card.headlines += [
        Headline("families profiled", fam, f"latest year, {f.profiles_from} to {f.profiles_to}"),
        Headline("expected to escalate within 12 months", total, f"95% range {lo} to {hi}"),
    ]
    c = s.population.capacity_curve if s.population is not None else None
    if ranks and c is not None and c.recommended_places:
        places = card.add_fact(
            "capacity_recommended", c.recommended_places, _fmt_int(c.recommended_places)
        )
        reached = card.add_fact(
            "capacity_reached", c.recommended_reached, _num(c.recommended_reached, ",.0f")
        )
        card.headlines.append(
            Headline(
                "early-help places recommended", places, f"would reach about {reached} of them"
            )
        )
    gain = _gain_headline(card, s)
    if gain is not None:
        card.headlines.append(gain)


def _reach(models: ModelsSection, model: str) -> float | None:
    """The share of later escalations the capacity reaches, in every 100 (one decimal)."""
    value = models.metrics.get(model, {}).get("recall_at_capacity")
    return facts.per_100(None if value is None else value.estimate)


def _gain_headline(card: CardContent, s: StudySummary) -> Headline | None:
    """'+4.9 in 100': the model's reach at capacity minus today's rule's (or the 5+
    rule's, the Think Family programme's own, when today's is not stated)."""
    if s.models is None:
        return None
    rule = _current_rule(s) or "five_plus_rule"
    model, other = _reach(s.models, s.primary_model), _reach(s.models, rule)
    gap = facts.difference_of_printed(model, other)
    if gap is None:
        return None
    card.add_fact(f"reach_{rule}", other, f"{other:.1f}")
    value = card.add_fact("reach_gain_vs_rule", gap, f"{gap:+.1f}")
    today = "today's rule" if _current_rule(s) else "the 5+ rule"
    d = s.models.differences_to_reference.get(s.primary_model, {}).get("recall_at_capacity")
    detail = RULES[rule]
    if rule == "five_plus_rule" and d is not None:
        detail = (
            "95% interval "
            + card.add_fact("reach_gain_lower", d.lower, _num(d.lower, "+.1f", 100))
            + " to "
            + card.add_fact("reach_gain_upper", d.upper, _num(d.upper, "+.1f", 100))
        )
    return Headline(f"more of every 100 reached than {today}", value, detail)


# ---------------------------------------------------------------------- how much
def _how_much(card: CardContent, population: PopulationSection | None, ranks: bool) -> Panel:
    panel = Panel(QUESTIONS[0])
    found = _forecast(population)
    c = population.capacity_curve if population is not None else None
    if found is None or c is None or not c.recommended_places:
        panel.sentences.append(MISSING.format(what="a capacity curve"))
        return panel
    if not ranks:
        panel.sentences.append(
            "The model ranks families no better than chance (see How sure), so this card "
            "recommends no number of places: the curve describes the model, not a plan."
        )
        return panel
    f = found[1]
    share = facts.share(c.recommended_places, f.total_families)
    panel.sentences.append(
        f"{_fmt_int(c.recommended_places)} places, "
        + card.add_fact("capacity_recommended_share", share, _pct(share))
        + " of families, used where expected need is highest, would reach "
        + card.add_fact(
            "capacity_reached_share",
            c.recommended_share_of_expected,
            _pct(c.recommended_share_of_expected),
        )
        + " of the expected escalations"
        + _averted(card, c.recommended_reached, c.risk_reduction, c.estimated_effect)
        + "."
    )
    block = _block(card, f)
    if block:
        panel.sentences.append(
            f"Beyond {_fmt_int(c.recommended_places)}, each extra block of places reaches "
            f"fewer than places spread at random ({block}): the point to plan for."
        )
    panel.sentences.append(_trade_off(card, c))
    panel.figure = {
        "caption": "Escalations each extra block of places reaches; dashed: places at random",
        "file": "briefing_how_much.png",
    }
    return panel


def _block(card: CardContent, f: Forecast) -> str:
    """'1,000 reach about 32': a block of places spread at random (the chart's line)."""
    from ..population._briefing import block_size

    c = card.facts.get("capacity_recommended", {}).get("value")
    if not c:
        return ""
    size = block_size(float(c))
    random = facts.at_random(size, f.total_expected, f.total_families)
    if random is None:
        return ""
    return (
        "about "
        + card.add_fact("block_at_random", random, _num(random, ",.0f"))
        + f" per {size:,} places"
    )


def _trade_off(card: CardContent, c: Any) -> str:
    """'The 4,275 places between the configured 2,985 and 7,260 reach about 215 more
    (about 43 more averted at an assumed 20%).'"""
    extra = facts.difference(c.recommended_places, c.assumed_places)
    more = facts.difference(c.recommended_reached, c.assumed_reached)
    text = (
        "The "
        + card.add_fact("capacity_extra_places", extra, _num(extra, ",.0f"))
        + " places between the configured "
        + card.add_fact("capacity_assumed", c.assumed_places, _fmt_int(c.assumed_places))
        + " and "
        + _fmt_int(c.recommended_places)
        + " reach about "
        + card.add_fact("capacity_extra_reached", more, _num(more, ",.0f"))
        + " more"
    )
    estimated = c.estimated_effect
    effect = estimated["reduction"] if estimated else c.risk_reduction.get("central")
    averted = facts.averted(more, effect)
    if averted is not None:
        text += (
            " (about "
            + card.add_fact("capacity_extra_averted", averted, _num(averted, ",.0f"))
            + f" more averted at the {'estimated' if estimated else 'assumed'} "
            + _pct(effect)
            + ")"
        )
    return text + "."


def _averted_estimated(card: CardContent, reached: float, effect: dict[str, float]) -> str:
    """', averting about 379 (135 to 609) at the effect estimated from this data (28%
    fewer escalations among recipients, 95% interval 10% to 45%)'."""
    central, lo, hi = (facts.averted(reached, effect[k]) for k in ("reduction", "lower", "upper"))
    return (
        ", averting about "
        + card.add_fact("averted_estimated", central, _num(central, ",.0f"))
        + " ("
        + card.add_fact("averted_estimated_lower", lo, _num(lo, ",.0f"))
        + " to "
        + card.add_fact("averted_estimated_upper", hi, _num(hi, ",.0f"))
        + ") at the effect estimated from this data ("
        + card.add_fact("effect_estimated", effect["reduction"], _pct(effect["reduction"]))
        + f" fewer escalations among recipients, 95% interval {_pct(effect['lower'])} to "
        + f"{_pct(effect['upper'])})"
    )


def _averted(
    card: CardContent,
    reached: float | None,
    effects: dict[str, float],
    estimated: dict[str, float] | None = None,
) -> str:
    """', averting about 271 if early help prevents 20% of them (136 to 406 at 10% to
    30%, assumed effects)'; with an effect ``estimated`` from this data, that one instead
    (:func:`_averted_estimated`); empty without either."""
    if reached is not None and estimated:
        return _averted_estimated(card, reached, estimated)
    if reached is None or "central" not in effects:
        return ""
    c = effects["central"]
    central = facts.averted(reached, c)
    text = (
        ", averting about "
        + card.add_fact("averted_central", central, _num(central, ",.0f"))
        + " if early help prevents "
        + card.add_fact("effect_central", c, _pct(c))
        + " of them"
    )
    if {"low", "high"} <= effects.keys():
        lo, hi = facts.averted(reached, effects["low"]), facts.averted(reached, effects["high"])
        text += (
            " ("
            + card.add_fact("averted_low", lo, _num(lo, ",.0f"))
            + " to "
            + card.add_fact("averted_high", hi, _num(hi, ",.0f"))
            + " at "
            + card.add_fact("effect_low", effects["low"], _pct(effects["low"]))
            + " to "
            + card.add_fact("effect_high", effects["high"], _pct(effects["high"]))
            + ", assumed effects)"
        )
    else:
        text += " (an assumed effect)"
    return text


# ---------------------------------------------------------------------- where
def _area(code: Any, names: dict[str, str]) -> str:
    """'LA03 (Northtown)' where the council named the area, else the code.

    >>> _area("LA03", {"LA03": "Northtown"}), _area("LA01", {})
    ('LA03 (Northtown)', 'LA01')
    """
    name = names.get(str(code))
    return f"{code} ({name})" if name else str(code)


def _where(
    card: CardContent,
    population: PopulationSection | None,
    labels: dict[str, str],
    names: dict[str, str],
) -> Panel:
    panel = Panel(QUESTIONS[1])
    found = _forecast(population, areas_only=True)
    if found is None or population is None:
        panel.sentences.append(
            "Not answered: this run has no forecast by area (it needs the columns naming "
            "each family's areas and the date of its profile)."
        )
        return panel
    levels = list(population.highest_rates)
    coarse = found[0] if found[0] in levels else (levels[-1] if levels else found[0])
    rates = population.highest_rates.get(coarse, [])
    if rates:
        top = rates[0]
        panel.sentences.append(
            f"Highest expected rate by {in_prose(coarse, labels)}: "
            + _area(top[coarse], names)
            + ", "
            + _figure(card, f"rate_{top[coarse]}", top, "per_1000", ".0f")
            + " per 1,000 families; next "
            + ", ".join(
                _area(r[coarse], names)
                + " "
                + _figure(card, f"rate_{r[coarse]}", r, "per_1000", ".0f")
                for r in rates[1:3]
            )
            + "."
        )
    totals = population.highest_totals.get(coarse, [])
    if totals:
        panel.sentences.append(
            "Most in total: "
            + ", ".join(
                f"{_area(r[coarse], names)} "
                + _figure(card, f"total_{r[coarse]}", r, "expected", ",.0f")
                for r in totals[:3]
            )
            + " expected escalations."
        )
    finer = [level for level in levels if level != coarse]
    if finer and population.highest_rates[finer[0]]:
        r = population.highest_rates[finer[0]][0]
        panel.sentences.append(
            f"By {in_prose(finer[0], labels)}, {_area(r[finer[0]], names)} is highest: "
            + _figure(card, f"rate_{r[finer[0]]}", r, "per_1000", ".0f")
            + " per 1,000; small areas' ranges are wide."
        )
    panel.figure = {
        "caption": f"Expected per 1,000 families by {in_prose(coarse, labels)}, 95% ranges "
        "(the top ten)",
        "file": "briefing_where.png",
    }
    return panel


def _figure(card: CardContent, key: str, row: dict[str, Any], column: str, spec: str) -> str:
    """'40 (37 to 44)': one published figure and its range, each a fact."""
    printed = [
        card.add_fact(f"{key}{end}", _float(row.get(c)), _num(_float(row.get(c)), spec))
        for c, end in ((column, ""), (f"{column}_lower", "_lower"), (f"{column}_upper", "_upper"))
    ]
    return f"{printed[0]} ({printed[1]} to {printed[2]})"


# ---------------------------------------------------------------------- for whom
def _group_phrase(by: str, group: Any) -> str:
    """'Families with 5+ Think Family indicators', 'Lone parent families', ...

    >>> _group_phrase("deprivation_quintile", 1)
    'Families in the most deprived fifth of areas'
    """
    if by == "n_think_family_band":
        return f"Families with {group} Think Family indicators"
    if by == "family_type":
        return f"{str(group)[:1].upper()}{str(group)[1:]} families"
    if by == "deprivation_quintile":
        if str(group) == "1":
            return "Families in the most deprived fifth of areas"
        return f"Families in deprivation fifth {group} (1 = most deprived)"
    return f"Families with {SEGMENT_LABELS.get(by, by)} {group}"


def _for_whom(card: CardContent, population: PopulationSection | None) -> Panel:
    panel = Panel(QUESTIONS[2])
    groups = population.demand_by_group if population is not None else {}
    for by, f in list(groups.items())[:2]:
        found = facts.top_group(f.rows, f.total_families, f.total_expected)
        if found is None:
            continue
        top, fam_share, exp_share = found
        key = f"group_{by}"
        panel.sentences.append(
            f"{_group_phrase(by, top[by])}: "
            + card.add_fact(f"{key}_families", fam_share, _pct(fam_share))
            + " of families, "
            + card.add_fact(f"{key}_expected", exp_share, _pct(exp_share))
            + " of expected escalations ("
            + card.add_fact(
                f"{key}_rate", _float(top["per_1000"]), _num(_float(top["per_1000"]), ".0f")
            )
            + " per 1,000)."
        )
    if not panel.sentences:
        panel.sentences.append(MISSING.format(what="a forecast by family group"))
        return panel
    outside = population.share_of_observed_escalations_outside_most_deprived if population else None
    if outside is not None:
        panel.sentences.append(
            "Yet "
            + card.add_fact("need_outside_deprived", outside, _pct(outside))
            + " of the test year's escalations were outside the most deprived fifth of "
            "areas, beyond the reach of area targeting alone."
        )
    panel.figure = {
        "caption": "Share of families and of expected escalations, by group",
        "file": "briefing_for_whom.png",
    }
    return panel


# ---------------------------------------------------------------------- how sure
def _how_sure(card: CardContent, s: StudySummary, ranks: bool) -> Panel:
    panel = Panel(QUESTIONS[3])
    models, primary = s.models, s.primary_model
    if models is None or primary not in models.metrics:
        panel.sentences.append(MISSING.format(what="a model evaluation"))
        return panel
    auc = models.metrics[primary].get("roc_auc")
    claim = None if auc is None else ranking(auc.estimate, auc.lower, auc.upper)
    if auc is None or claim is None:
        panel.sentences.append("How well it ranks families is not known: no ROC AUC.")
    else:
        for key, value in (("auc_primary", auc.estimate), ("auc_primary_lower", auc.lower)):
            card.add_fact(key, value, _num(value, ".2f"))
        card.add_fact("auc_primary_upper", auc.upper, _num(auc.upper, ".2f"))
        card.add_fact("ranking_claim", None, claim.verdict)
        text = claim.text
        if "oracle" in models.metrics and claim.supports_targeting:
            o = models.metrics["oracle"]["roc_auc"].estimate
            text += "; the best possible is " + card.add_fact("auc_oracle", o, _num(o, ".2f"))
        panel.sentences.append(text + (")." if claim.supports_targeting else "."))
    reach = _reach_sentence(card, s)
    if reach:
        panel.sentences.append(reach)
    rule = _current_rule(s)
    panel.sentences.append(
        f"Today's rule, as the configuration states: {RULES[rule]}."
        if rule
        else "The configuration does not say which rule the council uses today "
        "([population] current_rule); the comparison is with the 5+ indicators rule."
    )
    return panel


def _reach_sentence(card: CardContent, s: StudySummary) -> str:
    """'With 2,985 places (5% of families) at the highest expected need, 59.8 of every
    100 escalations of the test year were reached; by the 5+ indicators rule, 54.9:
    +4.9 (95% interval +3.8 to +6.0), more than the rule.'"""
    models, population = s.models, s.population
    cap = population.capacity_families if population is not None else None
    if models is None or not cap or not models.test_families:
        return ""
    model = _reach(models, s.primary_model)
    if model is None:
        return ""
    share = facts.share(cap, models.test_families)
    text = (
        "With "
        + card.add_fact("capacity_families", cap, _fmt_int(cap))
        + " places ("
        + card.add_fact("capacity_share", share, _pct(share))
        + ") at the highest expected need, "
        + card.add_fact("reach_model", model, f"{model:.1f}")
        + " of every 100 later escalations were reached"
    )
    rule = _current_rule(s) or "five_plus_rule"
    other = _reach(models, rule)
    if other is None:
        return text + "."
    text += f"; by {RULES[rule]}, {other:.1f}"
    d = models.differences_to_reference.get(s.primary_model, {}).get("recall_at_capacity")
    if rule != "five_plus_rule" or d is None:
        return text + "."
    claim = better_than_rule(d.lower, d.upper)
    gap = card.facts.get("reach_gain_vs_rule", {}).get("text", "")
    return (
        text
        + f": {gap} (95% interval "
        + card.add_fact("reach_gain_lower", d.lower, _num(d.lower, "+.1f", 100))
        + " to "
        + card.add_fact("reach_gain_upper", d.upper, _num(d.upper, "+.1f", 100))
        + ")"
        + (f", {claim.text}." if claim is not None else ".")
    )

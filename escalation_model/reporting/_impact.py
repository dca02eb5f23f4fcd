"""The card's "Has it made any difference?" section: the estimated effect of early help
on its recipients in plain words, with the checks that decide how far to trust it, or
why it was not estimated and what the card's 'averted' figures rest on instead."""

from __future__ import annotations

from .._limits import FEW_ROLLOUT_AREAS
from ..population import for_planning
from ._content import CardContent
from ._format import _fmt_int, _pct, in_prose
from ._summary import Effect, ImpactSection, StudySummary

__all__ = ["impact_section"]

KEY = "impact"


def impact_section(card: CardContent, s: StudySummary) -> None:
    _recipients(card, s)
    _rollout(card, s)


#: The roll-out's own section (after "Has it made any difference?").
ROLLOUT_KEY = "rollout"


def _rollout(card: CardContent, s: StudySummary) -> None:
    """The roll-out across areas, where it was estimated: the effect after the start, the
    pre-start check it rests on, the event study; otherwise why it was not."""
    r = s.rollout
    if r is None:
        why = _why_not_run(s, "roll-out", "the roll-out estimate was not made")
        card.add_text(ROLLOUT_KEY, f"Not estimated in this run: {why}.")
        return
    where = in_prose(r.area, s.data.labels())
    if r.lower <= 0 <= r.upper:
        effect = (
            f"After it started, escalations there were no different from the areas where it "
            f"had not started, as far as this data can tell ({100 * r.att:+.2f} per 100 "
            f"families, 95% interval {100 * r.lower:+.2f} to {100 * r.upper:+.2f})."
        )
    else:
        fell = r.upper < 0
        ends = sorted(abs(100 * v) for v in (r.lower, r.upper))
        effect = (
            f"After it started, escalations there {'fell' if fell else 'rose'} by "
            f"{abs(100 * r.att):.2f} per 100 families (95% interval {ends[0]:.2f} to "
            f"{ends[1]:.2f}) against the areas where it had not started"
        )
        if fell:
            effect += (
                f": a fall of {_interval(r.reduction, r.reduction_lower, r.reduction_upper)} "
                "from the rate they would otherwise have had"
            )
        effect += "."
    trend = (
        "Before it started, their escalation rates moved with the other areas' (no pre-start "
        f"difference clear of 0, {_p_value(r.pre_trend_p)}): the parallel trends the estimate "
        "rests on hold as far as the data can show."
        if r.pre_trends_flat
        else "Before it started, their escalation rates already moved differently from the "
        f"other areas' ({_p_value(r.pre_trend_p)}): the estimate rests on parallel trends this "
        "data contradicts, so do not rely on it."
    )
    few = (
        f" Only {r.areas} areas: with so few, intervals of this kind came out too narrow in "
        "simulated roll-outs (covering the truth 87-93% of the time with 40-48 areas), so "
        "read them as the least the uncertainty could be."
        if r.areas < FEW_ROLLOUT_AREAS
        else ""
    )
    card.add_text(
        ROLLOUT_KEY,
        f"Early help started in {r.areas_started:,} of "
        f"{r.areas:,} areas (by {where}) at {r.start_dates} dates from {r.first_start} to "
        f"{r.last_start}, each compared with the areas where it had not started, quarter by "
        f"quarter, against the quarter before its start (a staggered difference in "
        f"differences over {_fmt_int(float(r.families or 0))} families). {effect} {trend}" + few,
    )
    card.add_figure(
        ROLLOUT_KEY,
        "Escalations against areas not started, by quarters since the start (95% intervals; "
        "shaded: all quarters together)",
        "rollout_event_study.png",
    )


def _why_not_run(s: StudySummary, analysis: str, not_made: str | None = None) -> str:
    """Why ``analysis`` did not run, from the summary's notes: the plan's reason where it
    was skipped ('... skipped: REASON'), else the note holding ``not_made``."""
    for n in s.notes:
        if analysis in n and "skipped: " in n:
            return n.split("skipped: ", 1)[1]
    made = (n for n in s.notes if not_made is not None and not_made in n)
    return next(made, "it was not run")


def _recipients(card: CardContent, s: StudySummary) -> None:
    assumed = s.config.get("population", {}).get("risk_reduction", {})
    effects = ", ".join(_pct(v) for v in assumed.values()) or "none given"
    if s.impact is None:
        why = _why_not_run(s, "effect of early help")
        why = why.split(", so every")[0]  # the card says it in full below
        card.add_text(
            KEY,
            f"Not estimated in this run: {why}. Every escalation 'averted' in this card "
            f"rests on an assumed effect of early help ({effects}), not on evidence from "
            "this data.",
        )
        return
    i = s.impact
    label = s.data.labels().get(i.strongest_covariate, i.strongest_covariate)
    card.add_text(KEY, _headline(i), _matching(i), _checks(i), _sensitivity(i, label))
    if i.by_group:
        card.add_table(
            KEY,
            "Effect on recipients by number of Think Family indicators (intervals hold for "
            "all groups together; recipients rounded to 5)",
            [
                {
                    "Think Family indicators": str(r["group"]),
                    "recipients": _fmt_int(float(r["recipients"] or 0)),
                    "fewer escalations (95% interval)": _interval(
                        r.get("reduction"), r.get("reduction_lower"), r.get("reduction_upper")
                    ),
                }
                for r in i.by_group
            ],
        )
    targeting = _targeting(i, _used(s))
    if targeting:
        card.add_text(KEY, targeting)
    if _used(s):
        card.add_text(
            KEY,
            "The 'averted' figures on page one, in the capacity curve and in the scenarios "
            "use this estimate, with its interval; the configuration's assumed effects "
            f"({effects}) stand beside it in the scenarios, to compare.",
        )
    else:
        e = i.estimate
        _, reason = for_planning(i.balanced, e.reduction, e.reduction_lower, e.reduction_upper)
        card.add_text(
            KEY,
            "The 'averted' figures elsewhere in this card use the configuration's assumed "
            f"effects ({effects}), not this estimate: {reason or 'it was not used'}.",
        )


def _targeting(i: ImpactSection, used: bool) -> str | None:
    """Whether targeting by expected benefit (risk times the band's effect) is offered,
    and why: the bands' effects differ detectably, or they do not (the same families as
    the model's ranking)."""
    t = i.targeting
    if t is None:
        return None
    p = "" if t.heterogeneity_p is None else f", {_p_value(t.heterogeneity_p)}"
    if not t.differ:
        return (
            "The effect did not differ detectably between the groups by number of Think "
            "Family indicators (Cochran's test of "
            f"one effect for all{p}): targeting by expected benefit (risk times the group's "
            "effect) would offer help to the same families as the model's ranking, so the "
            "strategies table does not list it."
        )
    if not used:
        return (
            "The effect differs between the groups by number of Think Family indicators "
            f"(Cochran's test{p}), but the estimate "
            "is not used for planning (below), so targeting by expected benefit is not offered."
        )
    bands = "; ".join(f"{b} indicators {_pct(v)}" for b, v in t.by_band.items())
    return (
        "The effect differs between the groups by number of Think Family indicators "
        f"(Cochran's test of one effect for all{p}): "
        "the strategies and scenarios add targeting by expected benefit, the model's risk "
        "times the effect for the family's group, each group's estimate pulled toward their "
        f"average by as much as its own noise ({bands}); the scenarios' 'estimated' rows use "
        "each strategy's own mix of groups."
    )


def _p_value(p: float) -> str:
    """'p = 0.41', 'p = 0.004', 'p < 0.001'.

    >>> _p_value(0.4149), _p_value(0.0041), _p_value(0.00001)
    ('p = 0.41', 'p = 0.004', 'p < 0.001')
    """
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


def _used(s: StudySummary) -> bool:
    """Whether the planning figures use the estimate (the capacity curve says so)."""
    curve = s.population.capacity_curve if s.population is not None else None
    return bool(curve is not None and curve.estimated_effect)


def _interval(v: object, lo: object, hi: object) -> str:
    """'28% (11% to 45%)'; a reduction cannot pass 100%, and an end beyond -100% is
    said as such rather than printed.

    >>> _interval(1.0, -3.5, 5.5), _interval(None, 0, 1)
    ('100% (-100% or beyond to 100%)', 'not estimable')
    """
    if not all(isinstance(x, int | float) for x in (v, lo, hi)):
        return "not estimable"
    v, lo, hi = (min(float(x), 1.0) for x in (v, lo, hi))  # type: ignore[arg-type]
    low = "-100% or beyond" if lo < -1 else _pct(lo)
    return f"{_pct(max(v, -1.0))} ({low} to {_pct(hi)})"


def _said(e: Effect) -> str:
    """'lowered their escalations within 12 months by 32% (27% to 37%)'."""
    fewer = _interval(e.reduction, e.reduction_lower, e.reduction_upper)
    if e.lower <= 0 <= e.upper:
        return f"made no difference this data can tell from none ({fewer} fewer escalations)"
    if e.att < 0:
        return f"lowered their escalations within 12 months by {fewer}"
    more = _interval(
        *(None if x is None else -x for x in (e.reduction, e.reduction_upper, e.reduction_lower))
    )
    return f"raised their escalations within 12 months by {more}"


def _headline(i: ImpactSection) -> str:
    e = i.estimate
    return (
        f"Of the {_fmt_int(i.families)} families profiled in the test period, "
        f"{_fmt_int(i.recipients)} received early help. Compared with families like them who "
        "did not (a doubly robust estimate adjusting for every recorded need, household "
        "factor, area deprivation and protected characteristic), early help "
        f"{_said(e)}: about {_pct(e.risk_with_help)} of recipients escalated, against "
        f"{_pct(e.risk_without_help)} estimated without help."
    )


def _matching(i: ImpactSection) -> str:
    way = "more" if i.naive_difference > 0 else "less"
    return (
        "Propensity score matching, the method of the national Troubled Families "
        f"evaluation, finds that early help {_said(i.matching)}. A plain comparison of "
        "recipients with everyone else would say recipients escalate "
        f"{abs(i.naive_difference) * 100:.1f} percentage points {way} often: they were "
        "chosen for their needs, which is why the comparison must adjust for them."
    )


def _sensitivity(i: ImpactSection, label: str) -> str:
    """How far to trust it: the E-value of the interval against the strongest recorded
    characteristic (labelled as the card labels it)."""
    if i.e_value_interval is None or i.e_value_interval <= 1.0:
        return (
            "How far to trust it: the interval already includes no effect, so no "
            "unmeasured factor is needed to explain it away."
        )
    verdict = "could" if i.explained_away else "could not"
    return (
        "How far to trust it: the estimate adjusts for what the records show, not for what "
        "they do not. An unmeasured factor tied to both receiving help and escalating by a "
        f"risk ratio of {i.e_value_interval:.2f} each (the E-value) could move the interval "
        f"to include no effect; one as strongly tied as the recorded '{label}' (which could "
        f"bias the estimate by a factor of up to {i.strongest_bias:.2f}) {verdict}."
    )


def _checks(i: ImpactSection) -> str:
    balance = (
        "every recorded characteristic is balanced after adjustment (largest standardised "
        f"difference {i.largest_smd_after:.2f}, from {i.largest_smd_before:.2f} before; "
        "under 0.1 is the usual test)"
        if i.balanced
        else "some recorded characteristics stay unbalanced after adjustment (largest "
        f"standardised difference {i.largest_smd_after:.2f}; 0.1 is the usual limit), so the "
        "estimate is not evidence on its own"
    )
    overlap = (
        "no recipient was set aside for want of comparable families"
        if not i.set_aside
        else f"about {_fmt_int(i.set_aside)} recipients had no comparable non-recipient and "
        "were set aside"
    )
    return f"Checks: {balance}; {overlap}."

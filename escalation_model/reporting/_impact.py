"""The card's "Has it made any difference?" section: the estimated effect of early help
on its recipients in plain words, with the checks that decide how far to trust it, or
why it was not estimated and what the card's 'averted' figures rest on instead."""

from __future__ import annotations

from ._content import CardContent
from ._format import _fmt_int, _pct
from ._summary import Effect, ImpactSection, StudySummary

__all__ = ["impact_section"]

KEY = "impact"


def impact_section(card: CardContent, s: StudySummary) -> None:
    assumed = s.config.get("population", {}).get("risk_reduction", {})
    effects = ", ".join(_pct(v) for v in assumed.values()) or "none given"
    if s.impact is None:
        why = next(
            (
                n.split("skipped: ", 1)[1]
                for n in s.notes
                if "effect of early help" in n and "skipped: " in n
            ),
            "it was not run",
        )
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
    if _used(s):
        card.add_text(
            KEY,
            "The 'averted' figures on page one, in the capacity curve and in the scenarios "
            "use this estimate, with its interval; the configuration's assumed effects "
            f"({effects}) stand beside it in the scenarios, to compare.",
        )
    else:
        card.add_text(
            KEY,
            "The 'averted' figures elsewhere in this card use the configuration's assumed "
            f"effects ({effects}), not this estimate: "
            + (
                "the recipients and the comparison families did not balance, so it is not "
                "used for planning."
                if not i.balanced
                else "its interval could not be computed."
            ),
        )


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

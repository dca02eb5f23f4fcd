"""The equality page, for an equality officer: each characteristic checked with its
reference group named, every finding outside tolerance with its size and interval in
words, whether intersections were audited, and what "too uncertain to say" means; and
page one's few sentences about it. Groups are never shown as bare codes: a 0/1
characteristic reads "yes"/"no" after its label."""

from __future__ import annotations

from typing import Any

from .._audit_metrics import AUDIT_METRICS
from ..fairness._wording import clear_difference, shown
from ._content import CardContent
from ._format import MISSING, SEGMENT_LABELS, _fmt_int, _num, in_prose
from ._summary import FairnessSection, StudySummary

__all__ = ["equality_page", "equality_sentences", "finding_in_words"]


#: How a ratio finding reads, by criterion ("{times}" is the ratio).
_RATIO_WORDS = {
    "selection_rate": "offered early help at {times} times the rate",
    "true_positive_rate": "future escalations reached at {times} times the rate",
    "false_positive_rate": "non-escalating families offered help at {times} times the rate",
    "false_negative_rate": "future escalations missed at {times} times the rate",
    "precision": "offered families escalating at {times} times the rate",
    "calibration_ratio": "observed over expected escalations {times} times as high",
}


def _name(characteristic: str, labels: dict[str, str]) -> str:
    """'Child's ethnicity by area deprivation quintile' for 'a x b'; a column without a
    label keeps its name as written.

    >>> _name("a x b", {"a": "Child's ethnicity", "b": "Area deprivation quintile"})
    "Child's ethnicity by area deprivation quintile"
    """
    first, *rest = str(characteristic).split(" x ")
    label = labels.get(first) or first
    names = [label if label == first else label[:1].upper() + label[1:]]
    names += [in_prose(c, labels) for c in rest]
    return " by ".join(names)


def _pair(r: dict[str, Any], labels: dict[str, str]) -> str:
    """'Lone-parent household, yes against no': a group and its reference.

    >>> _pair({"characteristic": "lone_parent", "group": 1, "reference": 0}, {})
    'lone_parent, yes against no'
    """
    name = _name(str(r["characteristic"]), labels)
    group, reference = r["group"], r.get("reference")
    return f"{name}, {shown(group, reference)} against {shown(reference, group)}"


def finding_in_words(r: dict[str, Any], labels: dict[str, str]) -> str:
    """One comparison, its size and its 95% interval in words.

    (Examples cut with ``...``: ``(95% interval 4.30 to 5.60)``, ``points lower (95%
    interval -4.6 to -3.7)``.)

    >>> finding_in_words({"characteristic": "lone_parent", "group": "1", "reference": "0",
    ...     "metric": "selection_rate", "kind": "ratio", "value": 4.9, "lower": 4.3,
    ...     "upper": 5.6}, {"lone_parent": "Lone-parent household"})
    'Lone-parent household, yes against no: offered early help at 4.90 times the rate (95%...'
    >>> finding_in_words({"characteristic": "sex", "group": "M", "reference": "F",
    ...     "metric": "true_positive_rate", "kind": "difference", "value": -0.042,
    ...     "lower": -0.046, "upper": -0.037}, {})
    "sex, M against F: share of the group's future escalations reached 4.2 percentage..."
    """
    pair = _pair(r, labels)
    metric = str(r["metric"])
    lo, hi = r.get("lower"), r.get("upper")
    if r.get("kind") == "ratio":
        times = _num(r.get("value"), ".2f")
        words = _RATIO_WORDS.get(
            metric, AUDIT_METRICS.get(metric, metric) + " {times} times as high"
        )
        interval = f"{_num(lo, '.2f')} to {_num(hi, '.2f')}"
        return f"{pair}: {words.format(times=times)} (95% interval {interval})"
    value = r.get("value")
    way = "higher" if value is not None and value > 0 else "lower"
    size = _num(None if value is None else abs(value), ".1f", 100)
    interval = f"{_num(lo, '+.1f', 100)} to {_num(hi, '+.1f', 100)}"
    return (
        f"{pair}: {AUDIT_METRICS.get(metric, metric)} {size} percentage points {way} "
        f"(95% interval {interval})"
    )


def _total(rows: list[dict[str, Any]], kind: str) -> int:
    return sum(int(r.get(kind) or 0) for r in rows)


def equality_sentences(
    card: CardContent, fairness: FairnessSection | None, labels: dict[str, str]
) -> list[str]:
    """Page one's three sentences about the audit: how many comparisons and findings,
    the largest finding outside tolerance with its size, where the rest are."""
    if fairness is None or not fairness.finding_counts:
        return [MISSING.format(what="a fairness audit")]
    counts = fairness.finding_counts
    out, within = _total(counts, "outside tolerance"), _total(counts, "within tolerance")
    assessed = sum(
        _total(counts, k) for k in ("outside tolerance", "within tolerance", "too uncertain to say")
    )
    first = (
        "The equality audit made "
        + card.add_fact("fairness_assessed", assessed, _fmt_int(assessed))
        + f" comparisons on {len(counts)} criteria across {len(fairness.characteristics)} "
        "characteristics: "
        + card.add_fact("fairness_outside", out, str(out))
        + " outside tolerance, "
        + card.add_fact("fairness_within", within, str(within))
        + " within, the rest too uncertain to say."
    )
    sentences = [first]
    if fairness.outside_tolerance:
        largest = max(fairness.outside_tolerance, key=_distance)
        sentences.append("Largest: " + finding_in_words(largest, labels) + ".")
    sentences.append(
        "Every finding, with its size, is on the Equality page; the model was not changed "
        "as a result."
    )
    return sentences


def _distance(r: dict[str, Any]) -> float:
    """How far a finding lies from no difference (ratios on the log scale)."""
    import math

    value = float(r.get("value") or 0.0)
    if r.get("kind") == "ratio":
        return abs(math.log(value)) if value > 0 else 0.0
    return abs(value) * 5  # a 0.2 difference in shares weighs like a ratio of e


def equality_page(card: CardContent, s: StudySummary) -> None:
    """The equality section: characteristics and reference groups, every finding outside
    tolerance in words, intersections, and what 'too uncertain to say' means."""
    f = s.fairness
    if f is None or not f.finding_counts:
        card.add_text("equality", MISSING.format(what="a fairness audit"))
        return
    labels = {**SEGMENT_LABELS, **s.data.labels()}
    card.add_text(
        "equality",
        "Each characteristic below was checked: every group against the reference group "
        "named, on each criterion with a tolerance. A finding is 'outside tolerance' only "
        "when its whole 95% interval lies beyond the tolerance after adjustment for the "
        "number of comparisons.",
    )
    card.add_table(
        "equality",
        "Characteristics checked, with the reference group each is compared with",
        [_characteristic_row(r, f, labels) for r in f.counts_by_characteristic],
    )
    outside = [finding_in_words(r, labels) for r in f.outside_tolerance]
    card.add_text(
        "equality",
        "**Outside tolerance** ("
        + str(len(outside))
        + "): "
        + ("; ".join(outside) + "." if outside else "none."),
    )
    card.add_text("equality", _intersections(f, labels), _uncertain(f, labels))


def _characteristic_row(
    r: dict[str, Any], f: FairnessSection, labels: dict[str, str]
) -> dict[str, str]:
    c = str(r["characteristic"])
    return {
        "characteristic": _name(c, labels),
        "reference group": _reference(f, c),
        "outside": str(int(r.get("outside tolerance") or 0)),
        "within": str(int(r.get("within tolerance") or 0)),
        "too uncertain": str(int(r.get("too uncertain to say") or 0)),
        "too small": str(
            int(r.get("too small to assess") or 0) + int(r.get("too small to publish") or 0)
        ),
    }


def _reference(f: FairnessSection, characteristic: str) -> str:
    """The reference group as a reader sees it (no/yes for a 0/1 characteristic, judged
    from the groups compared with it)."""
    reference = f.reference_groups.get(characteristic, "")
    rows = [*f.outside_tolerance, *f.too_uncertain]
    groups = [r["group"] for r in rows if r["characteristic"] == characteristic]
    other = groups[0] if groups else ("1" if str(reference) in {"0", "0.0"} else None)
    return shown(reference, other)


def _intersections(f: FairnessSection, labels: dict[str, str]) -> str:
    if not f.intersections:
        return (
            "**Intersections.** None audited in this run: a gap for, say, one ethnic group "
            "in the most deprived areas would not show. Name them in the configuration "
            "([fairness] intersections) to audit them."
        )
    named = [" by ".join(labels.get(c, c) for c in i) for i in f.intersections]
    return "**Intersections.** Audited: " + "; ".join(named) + "."


def _uncertain(f: FairnessSection, labels: dict[str, str]) -> str:
    """What 'too uncertain to say' means, with the clearest such example."""
    text = (
        "**Too uncertain to say** means the 95% interval reaches both inside and beyond the "
        "tolerance: a difference may be clear (the interval excludes none) and still not "
        "show whether it passes the tolerance."
    )
    clear = [
        r
        for r in f.too_uncertain
        if clear_difference(r.get("kind"), r.get("lower"), r.get("upper"))
    ]
    if clear:
        r = max(clear, key=_distance)
        text += " For example, " + finding_in_words(r, labels)
        low, high = _number(r.get("detectable_low")), _number(r.get("detectable_high"))
        if low is not None and high is not None:
            spec, scale = (".2f", 1.0) if r.get("kind") == "ratio" else ("+.1f", 100.0)
            text += (
                f"; with this group's size only a value below {_num(low, spec, scale)} or "
                f"above {_num(high, spec, scale)} could have been detected"
            )
        text += "."
    return text


def _number(value: Any) -> float | None:
    return None if value is None else float(value)

"""The audit's sentences: findings, the family of comparisons and the trade-offs in
plain words, built from the audit's published figures (the card quotes them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._engine import AUDIT_METRICS, Tolerances

__all__ = ["family_statement", "summary_lines", "trade_offs"]


#: The findings a comparison can end in, as the summary counts them.
FINDINGS = (
    "within tolerance",
    "outside tolerance",
    "too uncertain to say",
    "too small to assess",
    "too small to publish",
)


def family_statement(
    n_comparisons: int,
    by_characteristic: Mapping[str, int],
    confidence: float,
    prioritised: str,
    split: bool,
) -> str:
    """One sentence: how many comparisons were tested (``by_characteristic``, named), and
    what "outside tolerance" means across them."""
    listed = "; ".join(f"{c} {n}" for c, n in by_characteristic.items())
    return (
        f"The audit tested {n_comparisons} comparisons (groups x metrics with a "
        f"tolerance, by characteristic: {listed}). A comparison is called outside "
        "tolerance only when it stays so after Holm's adjustment across all of them, "
        f"so the chance of any false such finding in this audit is at most "
        f"{1 - confidence:.0%}"
        + (
            ". Half of that is reserved, in advance, for "
            f"{AUDIT_METRICS[prioritised]} by characteristic on its own (the "
            "prioritised criterion), half for everything else"
            if split
            else ""
        )
        + "; the intervals shown are each comparison's own."
    )


def trade_offs(differing: list[str], prioritised: str) -> str:
    """Which fairness criteria cannot all hold here (``differing``: the named
    characteristics whose base rates differ), and which the audit prioritised."""
    text = (
        "When groups have different base rates of escalation, a model that is calibrated "
        "within every group cannot also give every group equal true and false positive "
        "rates (Kleinberg, Mullainathan and Raghavan 2016; Chouldechova 2017), nor equal "
        "selection rates. "
    )
    if differing:
        text += "Base rates differ here by characteristic: " + ", ".join(differing) + ". "
    return text + (
        f"This audit prioritises {AUDIT_METRICS[prioritised]} "
        f"('{prioritised}'), because the library's outputs are expected counts for "
        "commissioning: they are right for every group only if the model is calibrated "
        "within groups. Differences in error and selection rates are reported beside it "
        "so that their size is visible."
    )


def summary_lines(
    main: pd.DataFrame,
    *,
    named: Callable[[str], str],
    tolerances: Tolerances,
    confidence: float,
    prioritised: str,
    statement: str,
    small: list[tuple[str, str, str]],
    thresholds: tuple[int, int],
) -> list[str]:
    """Plain-English findings on the prioritised criterion (``main``: its published
    findings), the family ``statement``, and the groups too small to assess (``small``:
    characteristic, group and what a group of its size could have shown;
    ``thresholds``: the minimum families and escalations)."""
    lines = []
    for kind in ("outside tolerance", "too uncertain to say"):
        for r in main[main.finding == kind].itertuples(index=False):
            lines.append(
                f"{named(r.characteristic)} = {shown(r.group, r.reference)}: "
                f"{AUDIT_METRICS[r.metric]} relative to {shown(r.reference, r.group)} is "
                f"{r.value:.2f}, "
                f"{_in_words(r, tolerances.band(r.metric), confidence)}; {_kind_text(r, kind)}"
                + (_could_detect(r) if kind == "too uncertain to say" else "")
                + "."
            )
    counts = {k: int((main.finding == k).sum()) for k in FINDINGS}
    lines.insert(
        0,
        f"{counts['within tolerance']} of {len(main)} group comparisons are within "
        f"tolerance on {AUDIT_METRICS[prioritised]}; "
        + "; ".join(f"{counts[k]} {k.replace(' tolerance', '')}" for k in FINDINGS[1:])
        + ".",
    )
    lines.insert(1, statement)
    if small:
        lines.append(
            f"Too small to assess (under {thresholds[0]} families or "
            f"{thresholds[1]} escalations), with what a group of its size could "
            f"have shown on {AUDIT_METRICS[prioritised]}: "
            + "; ".join(f"{named(c)} = {g}{detect}" for c, g, detect in small)
            + "."
        )
    return lines


_FLAGS = {"1": "yes", "1.0": "yes", "True": "yes", "0": "no", "0.0": "no", "False": "no"}


def shown(group: Any, reference: Any = None) -> str:
    """A group's value as a reader sees it: in a 0/1 characteristic (the group and its
    reference both 0 or 1) it reads yes/no; any other value as it is.

    >>> shown(1, 0), shown("0", "1"), shown("3", "1"), shown("1", "3"), shown("White | 2")
    ('yes', 'no', '3', '1', 'White | 2')
    """
    value, other = str(group), str(reference)
    if value in _FLAGS and other in _FLAGS:
        return _FLAGS[value]
    return value


def clear_difference(kind: Any, lower: Any, upper: Any) -> bool:
    """Whether an interval excludes no difference (1 for a ratio, 0 for a difference).

    >>> clear_difference("ratio", 1.12, 1.36), clear_difference("difference", -0.01, 0.02)
    (True, False)
    """
    if lower is None or upper is None:
        return False
    null = 1.0 if kind == "ratio" else 0.0
    return bool(lower > null or upper < null)


def _kind_text(r: Any, kind: str) -> str:
    """The finding; a 'too uncertain' one whose interval excludes no difference says the
    difference is clear and only its size against the tolerance is not.

    >>> from types import SimpleNamespace as R
    >>> _kind_text(R(kind="ratio", lower=1.12, upper=1.36), "too uncertain to say")
    'a clear difference, but too uncertain to say whether it is beyond the tolerance'
    """
    clear = clear_difference(getattr(r, "kind", "ratio"), r.lower, r.upper)
    if kind == "too uncertain to say" and clear:
        return "a clear difference, but too uncertain to say whether it is beyond the tolerance"
    return kind


def small_could_detect(row: Any, n_rounded: float, min_cell: int) -> str:
    """' (about 40 families: only a ratio below 0.1 or above 6.6 could have been
    detected)', from the design-based detectable gap and the rounded family count;
    empty where the group is too small to publish."""
    if n_rounded < min_cell or not np.isfinite(row.detectable_high):
        return ""
    detect = _could_detect(row).removeprefix("; with this group's size, ")
    return f" (about {n_rounded:,.0f} families: {detect})"


def _could_detect(row: Any) -> str:
    """ "; with 310 families, only a ratio below 0.5 or above 1.9 could have been
    detected" (from the published row)."""
    lo, hi = row.detectable_low, row.detectable_high
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    gap = (
        f"a ratio below {lo:.2f} or above {hi:.2f}"
        if row.kind == "ratio"
        else f"a difference beyond {lo:+.2f} or {hi:+.2f}"
    )
    return f"; with this group's size, only {gap} could have been detected"


def _in_words(row: Any, band: tuple[float, float, str] | None, confidence: float = 0.95) -> str:
    """What a comparison's interval shows against no difference and against the band:
    "higher, by between 11% and 34% (95% interval): possibly beyond the tolerance of a
    ratio between 0.8 and 1.25".

    >>> from types import SimpleNamespace as Row
    >>> print(_in_words(Row(kind="ratio", lower=1.11, upper=1.34), (0.8, 1.25, "ratio")))
    ... # doctest: +NORMALIZE_WHITESPACE
    higher, by between 11% and 34% (95% interval): possibly beyond the tolerance
    (ratio between 0.8 and 1.25)
    >>> print(_in_words(Row(kind="difference", lower=-0.03, upper=0.02), (-0.1, 0.1, "x")))
    ... # doctest: +NORMALIZE_WHITESPACE
    between 3.0 points lower and 2.0 points higher (95% interval), no clear difference:
    within the tolerance (difference within +/-0.1)
    """
    lo, hi = float(row.lower), float(row.upper)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "its interval could not be estimated"
    if row.kind == "ratio":
        up, down = f"{hi - 1:.0%}", f"{1 - lo:.0%}"
        low_gap, high_gap, null = f"{1 - hi:.0%}", f"{lo - 1:.0%}", 1.0
    else:
        up, down = f"{100 * hi:.1f} points", f"{-100 * lo:.1f} points"
        low_gap, high_gap, null = f"{-100 * hi:.1f}", f"{100 * lo:.1f}", 0.0
    if lo > null:
        text = f"higher, by between {high_gap} and {up}"
    elif hi < null:
        text = f"lower, by between {low_gap} and {down}"
    else:
        text = f"between {down} lower and {up} higher"
    text += f" ({confidence:.0%} interval)"
    if lo <= null <= hi:
        text += ", no clear difference"
    if band is None:
        return text
    b_lo, b_hi, _ = band
    if lo > b_hi or hi < b_lo:
        where = "beyond the tolerance"
    elif lo >= b_lo and hi <= b_hi:
        where = "within the tolerance"
    else:
        where = "possibly beyond the tolerance"
    return f"{text}: {where} ({_band_text(band)})"


def _band_text(band: tuple[float, float, str] | None) -> str:
    if band is None:
        return ""
    lo, hi, kind = band
    if kind == "ratio":
        return f"ratio between {lo:g} and {hi:g}"
    return f"difference within +/-{hi:g}"

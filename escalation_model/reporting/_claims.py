"""Evaluative claims, each with the rule that decides it: the card says "ranks families
well" only when the result says so, and says nothing where the result is missing.

Every threshold lives here, once. A claim is a function of published figures returning a
:class:`Claim` (its verdict and the sentence), or ``None`` when its inputs are missing (no
audit, a NaN, a metric not computed), in which case the card says why it is silent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = [
    "AUC_CHANCE_UPPER",
    "AUC_MODERATE",
    "AUC_WELL",
    "Claim",
    "better_than_rule",
    "mitigation_effect",
    "ranking",
]

#: ROC AUC from which a model "ranks families well" on a later year.
AUC_WELL = 0.8
#: ROC AUC from which it ranks them "moderately well" (below: "weakly").
AUC_MODERATE = 0.7
#: A model whose interval's lower end is at or below this, or whose estimate is below
#: 0.6, ranks families no better than chance for commissioning purposes.
AUC_CHANCE_UPPER = 0.5
_AUC_WEAK_FLOOR = 0.6


@dataclass(frozen=True)
class Claim:
    """A verdict (a short key, for tests and MLflow) and the sentence the card prints."""

    verdict: str
    text: str

    @property
    def supports_targeting(self) -> bool:
        """Whether the claim leaves the model's order usable for commissioning."""
        return self.verdict not in {"chance"}


def _known(*values: Any) -> bool:
    return all(v is not None and not (isinstance(v, float) and math.isnan(v)) for v in values)


def ranking(estimate: float | None, lower: float | None, upper: float | None) -> Claim | None:
    """How well the model ranks families on a later year it was not trained on.

    >>> ranking(0.87, 0.86, 0.88).verdict, ranking(0.74, 0.7, 0.78).verdict
    ('well', 'moderately')
    >>> ranking(0.52, 0.49, 0.55).verdict, ranking(None, None, None) is None
    ('chance', True)
    >>> ranking(0.87, None, None).text.endswith("95% interval not estimable")
    True
    """
    if not _known(estimate):
        return None
    assert estimate is not None
    if _known(lower, upper):
        assert lower is not None and upper is not None
        interval = f"ROC AUC {estimate:.2f}, 95% interval {lower:.2f} to {upper:.2f}"
    else:  # judged on the estimate alone, and said so
        interval, lower = f"ROC AUC {estimate:.2f}, 95% interval not estimable", estimate
    if lower <= AUC_CHANCE_UPPER or estimate < _AUC_WEAK_FLOOR:
        return Claim(
            "chance",
            "It ranks families no better than chance on a later year it was not trained on "
            f"({interval}; 0.5 is a coin toss): its order gives no basis for choosing which "
            "families or groups to offer help first",
        )
    if estimate >= AUC_WELL:
        word, verdict = "well", "well"
    elif estimate >= AUC_MODERATE:
        word, verdict = "moderately well", "moderately"
    else:
        word, verdict = "weakly", "weakly"
    return Claim(
        verdict, f"It ranks families {word} on a later year it was not trained on ({interval}"
    )


def better_than_rule(lower: float | None, upper: float | None) -> Claim | None:
    """Whether the model reaches more escalations than the 5+ rule at the capacity, from
    the paired interval of the difference.

    >>> better_than_rule(0.038, 0.06).verdict, better_than_rule(None, 0.02).verdict
    ('more', 'unclear')
    """
    unclear = Claim(
        "unclear", "a difference from the 5+ indicators rule this data cannot tell from none"
    )
    if not _known(lower, upper):  # no interval: nothing can be claimed
        return unclear
    assert lower is not None and upper is not None
    if lower > 0:
        return Claim("more", "more than the 5+ indicators rule")
    if upper < 0:
        return Claim("fewer", "fewer than the 5+ indicators rule")
    return Claim(
        "unclear", "a difference from the 5+ indicators rule this data cannot tell from none"
    )


def mitigation_effect(name: str, gap: float | None, baseline: float | None) -> Claim | None:
    """Whether a mitigation narrowed the gap it targets, against the unmitigated model at
    the same selection rate (the like-for-like comparison).

    >>> mitigation_effect("equalised odds", 0.24, 0.16).verdict
    'widens'
    """
    if not _known(gap, baseline):
        return None
    assert gap is not None and baseline is not None
    if abs(gap - baseline) < 0.005:
        verdict, word = "same", "left the gap it targets where it was"
    elif gap < baseline:
        verdict, word = "narrows", "narrowed the gap it targets"
    else:
        verdict, word = "widens", "widened the gap it targets"
    return Claim(
        verdict,
        f"ThresholdOptimizer ({name}) {word}: {gap:.2f} against {baseline:.2f} for the "
        "unmitigated model offering help to the same share of families",
    )

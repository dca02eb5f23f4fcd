"""An effect of early help estimated from the council's own data, as the planning tables
use it beside the assumed effects."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["BENEFIT", "ESTIMATED", "EstimatedEffect", "benefit_score", "for_planning"]

#: The strategy that offers help by expected benefit, where the effect differs by band.
BENEFIT = "benefit"

#: The label of the estimated effect in the scenarios table and the capacity curve's columns.
ESTIMATED = "estimated"


@dataclass(frozen=True)
class EstimatedEffect:
    """The relative reduction in escalation among recipients of early help, with its 95%
    interval (``escalation_model.impact.estimate_att``). Unlike an assumed effect it may
    be negative (more escalations among recipients) or have an interval crossing 0.

    >>> e = EstimatedEffect(0.3, 0.1, 0.5)
    >>> e.averted(100), e.averted_range(80, 120)
    (30.0, (8.0, 60.0))
    >>> EstimatedEffect(0.1, -0.2, 0.4).averted_range(80, 120)
    (-24.0, 48.0)

    ``by_band``: where the effects differed detectably between Think Family bands
    (``escalation_model.impact.targeting_effects``), each band's reduction as targeting
    by expected benefit uses it (empty: one effect for all).

    >>> e = EstimatedEffect(0.2, 0.1, 0.3, by_band=(("0", 0.3), ("5+", 0.0)))
    >>> e.reductions(np.array(["5+", "0", "1-2"])).tolist()
    [0.0, 0.3, 0.2]
    >>> e.for_families(0.1)
    EstimatedEffect(reduction=0.1, lower=0.05, upper=0.15, by_band=())
    """

    reduction: float
    lower: float
    upper: float
    by_band: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        if not self.lower <= self.reduction <= self.upper or self.upper > 1:
            raise ValueError(
                f"an estimated effect needs lower <= reduction <= upper <= 1, got "
                f"{self.lower}, {self.reduction}, {self.upper}"
            )

    def reductions(self, bands: np.ndarray) -> np.ndarray:
        """Each family's reduction from its band (a band without one: the overall
        effect), in [0, 1]."""
        table = dict(self.by_band)
        r = [table.get(str(b), self.reduction) for b in np.asarray(bands, dtype=object)]
        return np.clip(np.asarray(r, dtype=float), 0.0, 1.0)

    def for_families(self, reduction: float) -> EstimatedEffect:
        """The effect on a set of families whose band effects average ``reduction``
        (weighted by their expected escalations), its interval the overall one scaled to
        it (the bands' estimates share their uncertainty with the overall one)."""
        scale = reduction / self.reduction if self.reduction else 0.0
        return EstimatedEffect(
            reduction, min(self.lower * scale, reduction), min(self.upper * scale, 1.0)
        )

    def averted(self, expected: float) -> float:
        """Escalations averted among families expected to have ``expected``."""
        return self.reduction * expected

    def averted_range(self, low: float, high: float) -> tuple[float, float]:
        """The range of escalations averted when the expected count lies in [``low``,
        ``high``] and the effect in its interval: the smallest and largest product of
        their ends (so at least as wide as either range alone)."""
        ends = [r * n for r in (self.lower, self.upper) for n in (low, high)]
        return min(ends), max(ends)


def for_planning(
    balanced: bool, reduction: float | None, lower: float | None, upper: float | None
) -> tuple[EstimatedEffect | None, str | None]:
    """The one policy on whether the planning figures use an estimated effect: only where
    the recipients and comparison families balance and the interval shows fewer
    escalations (its lower end above 0; a reduction beyond 100% read as 100%). Otherwise
    ``(None, why)``, and the planning figures keep the assumed effects.

    >>> for_planning(True, 0.3, 0.1, 1.2)
    (EstimatedEffect(reduction=0.3, lower=0.1, upper=1.0, by_band=()), None)
    >>> for_planning(True, -0.2, -0.7, 0.2)[1]
    'its interval includes no effect (this data cannot tell whether help lowered escalations)'
    >>> for_planning(False, 0.3, 0.1, 0.5)[1]
    'the recipients and the comparison families did not balance'
    """
    ends = (lower, reduction, upper)
    if not balanced:
        return None, "the recipients and the comparison families did not balance"
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in ends):
        return None, "its interval could not be computed"
    lo, mid, hi = (min(float(v), 1.0) for v in ends)  # type: ignore[arg-type]
    if hi <= 0:
        return None, (
            "it shows no fewer escalations among recipients, which contradicts the assumed effects"
        )
    if lo <= 0:
        return None, (
            "its interval includes no effect (this data cannot tell whether help lowered "
            "escalations)"
        )
    return EstimatedEffect(mid, lo, hi), None


def benefit_score(risk: np.ndarray, reduction: np.ndarray) -> np.ndarray:
    """The order of targeting by expected benefit as a score (higher is offered help
    first): risk times reduction, ties (one effect for all, or none) broken by risk, so
    that where the reductions are equal it offers the same families as risk alone, ties
    included.

    >>> benefit_score(np.array([0.1, 0.5, 0.3, 0.3]), np.array([0.3, 0.0, 0.3, 0.3])).tolist()
    [2.0, 1.0, 3.0, 3.0]
    """
    risk = np.asarray(risk, dtype=float)
    benefit = risk * np.clip(np.asarray(reduction, dtype=float), 0.0, 1.0)
    order = np.lexsort((risk, benefit))
    b, r = benefit[order], risk[order]
    new = np.r_[True, (b[1:] != b[:-1]) | (r[1:] != r[:-1])]
    score = np.empty(len(risk))
    score[order] = np.cumsum(new)
    return score

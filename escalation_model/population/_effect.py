"""An effect of early help estimated from the council's own data, as the planning tables
use it beside the assumed effects."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["ESTIMATED", "EstimatedEffect", "for_planning"]

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
    """

    reduction: float
    lower: float
    upper: float

    def __post_init__(self) -> None:
        if not self.lower <= self.reduction <= self.upper or self.upper > 1:
            raise ValueError(
                f"an estimated effect needs lower <= reduction <= upper <= 1, got "
                f"{self.lower}, {self.reduction}, {self.upper}"
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
    (EstimatedEffect(reduction=0.3, lower=0.1, upper=1.0), None)
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

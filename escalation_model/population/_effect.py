"""An effect of early help estimated from the council's own data, as the planning tables
use it beside the assumed effects."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ESTIMATED", "EstimatedEffect"]

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

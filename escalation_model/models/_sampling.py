"""Case-control samples for fitting a model of a rare outcome on fewer families.

A model of a rare outcome learns almost everything from its cases: beyond some tens of
controls per case, more controls add little precision (a logistic model's efficiency is
about ``m / (m + 1)`` with ``m`` controls per case) and cost time in proportion. Keeping
every case and a seeded random share of the others, each drawn control weighted by the
inverse of its chance of being drawn, gives a weighted fit whose probabilities stay on the
population's scale (the weights restore the controls' number).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CaseControlSample", "case_control_sample"]

#: Controls kept per case, and at least this many controls, when the training families
#: are sampled (``evaluation/bench_case_control.py`` measures what the sample costs).
CONTROLS_PER_CASE = 20
MIN_CONTROLS = 200_000


@dataclass(frozen=True)
class CaseControlSample:
    """Rows to fit on (ascending positions) and each one's weight."""

    rows: np.ndarray
    weight: np.ndarray | None  #: None when every family is kept (no weighting needed)

    @property
    def sampled(self) -> bool:
        return self.weight is not None


def case_control_sample(
    y: np.ndarray,
    *,
    controls_per_case: int = CONTROLS_PER_CASE,
    min_controls: int = MIN_CONTROLS,
    random_state: int = 0,
) -> CaseControlSample:
    """Every case (``y == 1``) and ``max(controls_per_case x cases, min_controls)`` of the
    controls drawn without replacement, weighted by controls / drawn; all rows, unweighted,
    when there are no more controls than that (or nothing to draw).

    >>> y = np.r_[np.ones(10), np.zeros(990)].astype(int)
    >>> s = case_control_sample(y, controls_per_case=20, min_controls=100)
    >>> s.rows.size, float(s.weight[y[s.rows] == 0][0]), round(float(s.weight.sum()), 6)
    (210, 4.95, 1000.0)
    >>> case_control_sample(y, min_controls=5_000).sampled
    False
    """
    y = np.asarray(y)
    cases = np.flatnonzero(y == 1)
    controls = np.flatnonzero(y != 1)
    keep = max(controls_per_case * cases.size, min_controls)
    if controls.size <= keep or keep == 0:
        return CaseControlSample(np.arange(y.size), None)
    rng = np.random.default_rng(random_state)
    drawn = rng.choice(controls, size=keep, replace=False)
    rows = np.sort(np.r_[cases, drawn])
    weight = np.where(y[rows] == 1, 1.0, controls.size / keep)
    return CaseControlSample(rows, weight)

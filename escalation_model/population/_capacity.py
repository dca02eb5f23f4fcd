"""How much early help: escalations reached and averted against the places offered, and
the point beyond which more places stop paying their way."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .._cellkey import KEY_RANGE, perturbation
from .._selection import resolve_capacity
from ._aggregate import round_protected
from ._disclosure import DisclosureRules, publish_count
from ._effect import ESTIMATED, EstimatedEffect
from ._poisson_binomial import prefix_count_limits

__all__ = ["CAPACITY_POINT_MEANING", "capacity_curve", "diminishing_returns"]

#: The definition of the recommended capacity, printed wherever it is.
CAPACITY_POINT_MEANING = (
    "the number of places beyond which one more place, offered in the model's order, "
    "reaches fewer expected escalations than a place offered at random (the family next in "
    "line is less likely to escalate than the average family): where the curve stands "
    "furthest above offering places at random"
)


def diminishing_returns(proba: np.ndarray) -> int:
    """The number of families whose probability is at least the average: past it, the
    next place in the model's order does worse than a place offered at random. It is also
    the point where the share of escalations reached most exceeds the share of families
    offered (the slope of that curve is the family's probability over the average).

    >>> diminishing_returns(np.array([0.5, 0.3, 0.1, 0.05, 0.05]))  # the average is 0.2
    2
    """
    p = np.asarray(proba, dtype=float)
    return int((p >= p.mean()).sum())


def capacity_curve(
    proba: np.ndarray | pd.Series,
    *,
    capacity: float | int,
    risk_reduction: Mapping[str, float],
    confidence: float = 0.95,
    calibration_se: float = 0.0,
    rules: DisclosureRules | None = None,
    points: int = 24,
    keys: np.ndarray | None = None,
    estimated: EstimatedEffect | None = None,
) -> pd.DataFrame:
    """Expected escalations reached, and averted under each assumed effect, for a range of
    early-help places offered in the model's order (highest probability first).

    ``proba`` are the probabilities of the families the service plans for (the latest
    year's). Each row: ``places`` (a multiple of the rounding base), the share of families,
    ``expected_reached`` with the range of the count if the model is right, widened for its
    own calibration uncertainty (``calibration_se``), the share of all expected
    escalations, and ``averted_<assumption>`` = reached x assumed relative reduction.
    Every expected figure is protected as a count is: moved by the cell key of the
    families it sums (``keys``: their record keys, aligned with ``proba``) and rounded;
    shares and averted figures are made of the protected ones, and no point of the curve
    is under the disclosure threshold of families.
    ``attrs``: ``recommended_places`` (:func:`diminishing_returns`, rounded), what it
    reaches, ``assumed_places`` (the configuration's capacity: an assumption, not a
    finding) and what that reaches. The curve runs to twice the recommended capacity (at
    least twice the assumed one). With an ``estimated`` effect (from this data),
    ``averted_estimated`` and its ``_lower`` and ``_upper`` (the effect's interval with
    the count's range) stand beside the assumed ones, and ``attrs["estimated_effect"]``
    holds it.

    >>> p = np.r_[np.full(2_000, 0.3), np.full(18_000, 0.01)]
    >>> t = capacity_curve(p, capacity=0.05, risk_reduction={"central": 0.2})
    >>> t.attrs["recommended_places"], t.attrs["recommended_reached"]
    (2000, 600.0)
    >>> t.attrs["assumed_places"], t.attrs["assumed_reached"]
    (1000, 300.0)
    """
    rules = rules or DisclosureRules()
    order = np.argsort(-np.asarray(proba, dtype=float), kind="stable")
    p = np.asarray(proba, dtype=float)[order]
    exact = np.r_[0.0, np.cumsum(p)]
    moved = np.zeros(p.size + 1, dtype=np.int64)
    if keys is not None:
        moved[1:] = perturbation(np.cumsum(np.asarray(keys)[order]) % KEY_RANGE)
    # every sum of the top k families published as a count is: moved, rounded
    cum = rules.round(np.maximum(exact + moved, 0.0))
    recommended = int(rules.round(diminishing_returns(p)))
    assumed = int(rules.round(resolve_capacity(capacity, p.size)))
    top = min(p.size, max(2 * recommended, 2 * assumed))
    grid = np.unique(
        np.r_[[int(rules.round(v)) for v in np.linspace(0, top, points + 1)], recommended, assumed]
    )
    grid = grid[(grid <= p.size) & ((grid == 0) | (grid >= rules.min_cell))]
    families = publish_count(p.size, rules) or np.nan
    limits = dict(zip(grid, prefix_count_limits(p, grid, confidence, calibration_se), strict=True))
    rows = []
    for k in grid:
        exact_lo, exact_hi = limits[k]
        shift = 0 if keys is None else int(moved[k])
        lo = round_protected(exact_lo + shift, rules, "down")
        hi = round_protected(exact_hi + shift, rules, "up")
        row: dict[str, float] = {
            "places": float(k),
            "share_of_families": k / families,
            "expected_reached": float(cum[k]),
            "expected_lower": float(lo),
            "expected_upper": float(hi),
            "share_of_expected": float(cum[k] / cum[-1]) if cum[-1] else np.nan,
        }
        for name, rrr in risk_reduction.items():
            row[f"averted_{name}"] = rrr * float(cum[k])
        if estimated is not None:
            low, high = estimated.averted_range(float(lo), float(hi))
            row[f"averted_{ESTIMATED}"] = estimated.averted(float(cum[k]))
            row[f"averted_{ESTIMATED}_lower"], row[f"averted_{ESTIMATED}_upper"] = low, high
        rows.append(row)
    table = pd.DataFrame(rows)

    def reached(k: int) -> np.floating:
        return cum[min(k, p.size)]

    table.attrs.update(
        recommended_places=recommended,
        recommended_reached=float(reached(recommended)),
        recommended_share_of_expected=float(reached(recommended) / cum[-1]),
        assumed_places=assumed,
        assumed_reached=float(reached(assumed)),
        assumed_share_of_expected=float(reached(assumed) / cum[-1]),
        total_expected=float(cum[-1]),
        meaning=CAPACITY_POINT_MEANING,
        risk_reduction=dict(risk_reduction),
        estimated_effect=None
        if estimated is None
        else {"reduction": estimated.reduction, "lower": estimated.lower, "upper": estimated.upper},
    )
    return table

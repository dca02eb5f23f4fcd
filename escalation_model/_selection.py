"""Selection at capacity: which families a service with a number of places would take.

One place for the rule, below both the fairness audit and the population tables (which
both use it): the highest scores first, and at a tied boundary either a seeded random
choice (:func:`select_at_capacity`, where a set of families is needed) or the places
shared equally among the tied families (:func:`capacity_weights`, the expectation over
every random choice, which is what the metrics table's "reached at capacity" reports).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["capacity_problem", "capacity_weights", "resolve_capacity", "select_at_capacity"]


def resolve_capacity(capacity: float | int, n: int) -> float:
    """Number of places: ``capacity`` is a share of families if below 1, else a count."""
    if capacity <= 0:
        raise ValueError(f"capacity must be positive, got {capacity}")
    if capacity < 1:
        return float(capacity) * n
    if capacity > n:
        raise ValueError(f"capacity {capacity} exceeds the {n} families evaluated")
    return float(capacity)


def capacity_problem(capacity: float, n_families: int | None = None) -> str | None:
    """Why ``capacity`` cannot be used, or None: a share must lie strictly between 0 and
    1; a number of places must be a whole number, at least the disclosure threshold (a
    figure about fewer families would be published about them) and, where the number of
    families is known, no more than it; either way the places must reach the threshold.

    >>> capacity_problem(0.05), capacity_problem(400)
    (None, None)
    >>> capacity_problem(1.5)
    'a number of places must be a whole number (1.5 is neither a share below 1 nor one)'
    >>> capacity_problem(1)
    'at least 10 places are needed: figures about fewer families would be published'
    """
    from ._publish import DisclosureRules

    minimum = DisclosureRules().min_cell
    if not math.isfinite(capacity) or capacity <= 0:
        return f"{capacity} is not a positive share or number of places"
    if capacity >= 1 and capacity != int(capacity):
        return (
            f"a number of places must be a whole number ({capacity} is neither a share "
            "below 1 nor one)"
        )
    places = capacity * n_families if capacity < 1 and n_families is not None else capacity
    if capacity >= 1 or n_families is not None:
        if places < minimum:
            return (
                f"at least {minimum} places are needed: figures about fewer families would "
                "be published"
            )
        if n_families is not None and places > n_families:
            return f"{places:,.0f} places is more than the {n_families:,} families"
    return None


def select_at_capacity(
    score: np.ndarray, capacity: float | int, random_state: int = 0
) -> np.ndarray:
    """The families a service with ``capacity`` places would take: the highest scores, with
    ties at the boundary broken by a seeded random order (so a rule's ties are fair)."""
    score = np.asarray(score, dtype=float)
    n = len(score)
    k = min(int(round(resolve_capacity(capacity, n))), n)
    tiebreak = np.random.default_rng(random_state).random(n)
    selected = np.zeros(n, dtype=bool)
    if k == 0:
        return selected
    if np.isnan(score).any():
        selected[np.lexsort((tiebreak, -score))[:k]] = True
        return selected
    # the same choice as a full sort by (-score, tiebreak), in linear time: everything
    # above the k-th highest score, then the tied families with the lowest tiebreaks
    threshold = np.partition(score, n - k)[n - k]
    selected[score > threshold] = True
    tied = np.flatnonzero(score == threshold)
    still = k - int(selected.sum())
    selected[tied[np.argsort(tiebreak[tied], kind="stable")[:still]]] = True
    return selected


def capacity_weights(score: np.ndarray, capacity: float | int) -> np.ndarray:
    """Each family's share of a place: 1 above the boundary score, the remaining places
    shared equally among the families tied at it, 0 below. Sums to the places.

    >>> capacity_weights(np.array([0.9, 0.5, 0.5, 0.1]), 2).tolist()
    [1.0, 0.5, 0.5, 0.0]
    """
    score = np.nan_to_num(np.asarray(score, dtype=float), nan=-np.inf)
    n = len(score)
    k = min(float(resolve_capacity(capacity, n)), n)
    k = float(round(k))
    weights = np.zeros(n)
    if k <= 0:
        return weights
    threshold = np.partition(score, n - int(k))[n - int(k)]
    above = score > threshold
    tied = score == threshold
    weights[above] = 1.0
    weights[tied] = (k - above.sum()) / tied.sum()
    return weights

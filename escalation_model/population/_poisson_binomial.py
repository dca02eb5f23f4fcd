"""The Poisson-binomial distribution: the number of escalations among families whose
probabilities differ. Exact, by multiplying the families' generating polynomials
``(1 - p_i) + p_i z`` pairwise with FFTs, all pairs of a level at once."""

from __future__ import annotations

import numpy as np
from scipy.fft import irfft, next_fast_len, rfft

__all__ = ["poisson_binomial_pmf", "poisson_binomial_interval"]


def poisson_binomial_pmf(p: np.ndarray) -> np.ndarray:
    """Probability of 0, 1, ... escalations among independent families with probabilities
    ``p`` (truncated where the remaining mass is negligible: beyond the mean plus 12
    standard deviations).

    Examples
    --------
    >>> poisson_binomial_pmf(np.array([0.5, 0.5])).round(3).tolist()
    [0.25, 0.5, 0.25]
    """
    p = np.clip(np.asarray(p, dtype=float).ravel(), 0.0, 1.0)
    if p.size == 0:
        return np.array([1.0])
    mean = p.sum()
    sd = np.sqrt((p * (1 - p)).sum())
    cap = int(min(p.size, np.ceil(mean + 12 * sd + 30))) + 1
    polys = np.stack([1 - p, p], axis=1)
    while polys.shape[0] > 1:
        if polys.shape[0] % 2:
            one = np.zeros((1, polys.shape[1]))
            one[0, 0] = 1.0
            polys = np.vstack([polys, one])
        a, b = polys[0::2], polys[1::2]
        length = a.shape[1] + b.shape[1] - 1
        n_fft = next_fast_len(length, real=True)
        prod = irfft(rfft(a, n_fft, axis=1) * rfft(b, n_fft, axis=1), n_fft, axis=1)
        polys = np.clip(prod[:, : min(length, cap)], 0.0, None)
    pmf = polys[0]
    return pmf / pmf.sum()


def poisson_binomial_interval(p: np.ndarray, confidence: float = 0.95) -> tuple[int, int]:
    """Central interval for the count of escalations: the smallest ``lo`` and ``hi`` with
    ``P(X < lo) <= alpha/2`` and ``P(X > hi) <= alpha/2``."""
    pmf = poisson_binomial_pmf(p)
    cdf = np.cumsum(pmf)
    alpha = (1 - confidence) / 2
    lo = int(np.searchsorted(cdf, alpha, side="right"))
    hi = int(np.searchsorted(cdf, 1 - alpha, side="left"))
    return lo, min(hi, pmf.size - 1)

"""The Poisson-binomial distribution: the number of escalations among families whose
probabilities differ. Exact, by multiplying the families' generating polynomials
``(1 - p_i) + p_i z`` pairwise with FFTs, all pairs of a level at once."""

from __future__ import annotations

import numpy as np
from scipy.fft import irfft, next_fast_len, rfft

__all__ = ["poisson_binomial_pmf", "poisson_binomial_interval", "count_limits", "chance_outside"]


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
    ``P(X < lo) <= alpha/2`` and ``P(X > hi) <= alpha/2``: the range of the count if the
    probabilities are right."""
    return count_limits(p, confidence)


#: Gauss-Hermite nodes for mixing over the model's calibration-in-the-large.
_NODES = 9


def count_pmf(p: np.ndarray, calibration_se: float = 0.0) -> np.ndarray:
    """The distribution of the count among families with probabilities ``p`` when the
    model's overall calibration is itself uncertain: its odds are off by a factor whose
    logarithm is normal with standard deviation ``calibration_se`` (0: the model is taken
    as exactly right, the plain Poisson-binomial).

    >>> p = np.full(1000, 0.05)
    >>> a, b = count_pmf(p), count_pmf(p, 0.1)
    >>> bool(np.isclose(a.sum(), 1) and np.isclose(b.sum(), 1))
    True
    >>> k = lambda f: np.arange(f.size)
    >>> var = lambda f: float((k(f) ** 2 * f).sum() - (k(f) * f).sum() ** 2)
    >>> round(var(a), 1), round(var(b), 1)  # 47.5 + (47.5 x 0.1) ** 2, nearly
    (47.5, 70.5)
    """
    p = np.asarray(p, dtype=float).ravel()
    if calibration_se <= 0 or p.size == 0:
        return poisson_binomial_pmf(p)
    x, w = np.polynomial.hermite_e.hermegauss(_NODES)
    w = w / w.sum()
    q = np.clip(p, 1e-12, 1 - 1e-12)
    logit = np.log(q / (1 - q))
    pmfs = [poisson_binomial_pmf(1 / (1 + np.exp(-(logit + calibration_se * z)))) for z in x]
    out = np.zeros(max(f.size for f in pmfs))
    for f, weight in zip(pmfs, w, strict=True):
        out[: f.size] += weight * f
    return out / out.sum()


def count_limits(
    p: np.ndarray, confidence: float = 0.95, calibration_se: float = 0.0
) -> tuple[int, int]:
    """Control limits for an observed count: the smallest ``lo`` and ``hi`` with
    ``P(X < lo) <= alpha/2`` and ``P(X > hi) <= alpha/2`` under :func:`count_pmf`. A count
    outside them is flagged; with ``calibration_se=0`` the limits are
    :func:`poisson_binomial_interval`'s.

    >>> count_limits(np.full(10_000, 0.047)) == poisson_binomial_interval(np.full(10_000, 0.047))
    True
    >>> lo, hi = count_limits(np.full(10_000, 0.047), calibration_se=0.05)
    >>> lo < 428 and hi > 512
    True
    """
    pmf = count_pmf(p, calibration_se)
    cdf = np.cumsum(pmf)
    alpha = (1 - confidence) / 2
    lo = int(np.searchsorted(cdf, alpha, side="right"))
    hi = int(np.searchsorted(cdf, 1 - alpha, side="left"))
    return lo, min(hi, pmf.size - 1)


def chance_outside(pmf: np.ndarray, lo: float, hi: float) -> float:
    """The probability that a count with distribution ``pmf`` falls below ``lo`` or above
    ``hi``: how often limits flag it.

    >>> chance_outside(np.array([0.25, 0.5, 0.25]), 1, 1)
    0.5
    """
    k = np.arange(pmf.size)
    return float(pmf[(k < lo) | (k > hi)].sum())

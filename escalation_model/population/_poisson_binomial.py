"""The Poisson-binomial distribution: the number of escalations among families whose
probabilities differ. Exact to float precision, by multiplying the families' generating
polynomials ``(1 - p_i) + p_i z`` pairwise with FFTs, all pairs of a level at once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.fft import irfft, next_fast_len, rfft
from scipy.signal import fftconvolve

__all__ = [
    "poisson_binomial_pmf",
    "poisson_binomial_interval",
    "count_limits",
    "prefix_count_limits",
    "group_count_limits",
    "chance_outside",
]


#: Coefficients further than this many standard deviations (plus ``_MARGIN`` counts) from
#: a product's mean are dropped as it is built: by Bernstein's inequality their mass is
#: under 6e-20 at every step (below the float64 rounding of the rest; the limits are
#: those of the untruncated product, ``tests/population/test_population.py``).
_SDS, _MARGIN = 12.0, 30


def _cap(p: np.ndarray) -> int:
    """The largest count kept for families ``p``: the mean plus ``_SDS`` standard
    deviations plus ``_MARGIN``, at most the number of families (the one cut every
    distribution here is made to)."""
    return int(min(p.size, np.ceil(p.sum() + _SDS * np.sqrt((p * (1 - p)).sum()) + _MARGIN)))


def poisson_binomial_pmf(p: np.ndarray) -> np.ndarray:
    """Probability of 0, 1, ... escalations among independent families with probabilities
    ``p``, up to the mean plus 12 standard deviations (the mass beyond is negligible).

    The families' generating polynomials ``(1 - p_i) + p_i z`` are multiplied pairwise
    with FFTs, all pairs of a level at once; each partial product keeps only its window of
    the mean plus or minus 12 standard deviations (and an offset saying where the window
    starts), so the work grows with the spread of the count, not with the families.

    Examples
    --------
    >>> poisson_binomial_pmf(np.array([0.5, 0.5])).round(3).tolist()
    [0.25, 0.5, 0.25]
    """
    p = np.clip(np.asarray(p, dtype=float).ravel(), 0.0, 1.0)
    if p.size == 0:
        return np.array([1.0])
    cap = _cap(p)
    if p.size < _MANY:  # few families: the plain product tree, cut at ``cap`` only
        polys = np.stack([1 - p, p], axis=1)
        while polys.shape[0] > 1:
            polys = _pairs(_odd_out(polys))[:, : cap + 1]
        return polys[0] / polys[0].sum()
    polys, stats = _blocks(p)
    while polys.shape[0] > 1:
        if polys.shape[0] % 2:
            stats = np.vstack([stats, np.zeros((1, 4))])
        polys = _pairs(_odd_out(polys))
        stats = stats[0::2] + stats[1::2]
        polys, stats = _window(polys, stats, cap)
    start = int(stats[0, 0])
    pmf = np.zeros(start + polys.shape[1])
    pmf[start:] = polys[0]
    pmf = pmf[: cap + 1]
    return pmf / pmf.sum()


def _odd_out(polys: np.ndarray) -> np.ndarray:
    """An even number of rows: the odd one out is paired with the polynomial 1."""
    if polys.shape[0] % 2 == 0:
        return polys
    return np.vstack([polys, np.eye(1, polys.shape[1])])


def _pairs(polys: np.ndarray) -> np.ndarray:
    """The products of rows 0 and 1, 2 and 3, ... by FFT (negative rounding noise set to 0)."""
    length = 2 * polys.shape[1] - 1
    n_fft = next_fast_len(length, real=True)
    a, b = polys[0::2], polys[1::2]
    prod = irfft(rfft(a, n_fft, axis=1) * rfft(b, n_fft, axis=1), n_fft, axis=1)[:, :length]
    return np.clip(prod, 0.0, None)


#: Among ``_MANY`` families or more, blocks of ``_BLOCK`` are multiplied directly, one
#: family at a time, before the FFT levels take over, and the partial products are cut to
#: their windows (at 500,000 families twice as fast; among a few thousand the bookkeeping
#: costs more than it saves).
_BLOCK, _MANY = 16, 20_000


def _blocks(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The generating polynomials of blocks of ``_BLOCK`` families (the last padded with
    families of probability 0), multiplied directly; per block: where its coefficients
    start (0), its mean, variance and number of families (the columns of ``stats``)."""
    size = min(_BLOCK, p.size)
    padded = np.zeros(-(-p.size // size) * size)
    padded[: p.size] = p
    q = padded.reshape(-1, size)
    poly = np.zeros((q.shape[0], size + 1))
    poly[:, 0] = 1.0
    for j in range(size):
        pj = q[:, j : j + 1]
        poly[:, 1 : j + 2] = poly[:, 1 : j + 2] * (1 - pj) + poly[:, : j + 1] * pj
        poly[:, 0] *= 1 - q[:, j]
    stats = np.zeros((q.shape[0], 4))
    stats[:, 1], stats[:, 2], stats[:, 3] = q.sum(axis=1), (q * (1 - q)).sum(axis=1), size
    return poly, stats


def _window(prod: np.ndarray, stats: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's coefficients within ``_SDS`` standard deviations (plus ``_MARGIN``) of its
    mean, not beyond its number of families nor the whole count's ``cap``, cut to one
    common width (products narrower than a window's margins, or whose window is most of
    them, are only cut at ``cap``)."""
    prod = prod[:, : max(1, cap + 1 - int(stats[:, 0].min()))]
    if prod.shape[1] <= 4 * _MARGIN:
        return prod, stats
    start, mean, var, top = stats.T
    reach = _SDS * np.sqrt(var) + _MARGIN
    lo = np.maximum(start, np.floor(mean - reach))
    hi = np.minimum(np.minimum(start + prod.shape[1] - 1, top), np.ceil(mean + reach))
    hi = np.minimum(hi, cap)
    width = int((hi - lo).max()) + 1
    if width > 0.75 * prod.shape[1]:  # too little to cut to repay the copy
        return prod, stats
    padded = np.zeros((prod.shape[0], prod.shape[1] + width))
    padded[:, : prod.shape[1]] = prod
    cols = (lo - start).astype(np.int64)[:, None] + np.arange(width)
    stats = stats.copy()
    stats[:, 0] = lo
    return np.take_along_axis(padded, cols, axis=1), stats


def poisson_binomial_interval(p: np.ndarray, confidence: float = 0.95) -> tuple[int, int]:
    """Central interval for the count of escalations: the smallest ``lo`` and ``hi`` with
    ``P(X < lo) <= alpha/2`` and ``P(X > hi) <= alpha/2``: the range of the count if the
    probabilities are right."""
    return count_limits(p, confidence)


#: Gauss-Hermite nodes for mixing over the model's calibration-in-the-large.
_NODES = 9


def _calibration_nodes(p: np.ndarray, calibration_se: float) -> list[tuple[np.ndarray, float]]:
    """The probabilities at each Gauss-Hermite node of the calibration uncertainty, with
    the node's weight (one node, ``p`` itself, where there is none)."""
    if calibration_se <= 0 or p.size == 0:
        return [(p, 1.0)]
    x, w = np.polynomial.hermite_e.hermegauss(_NODES)
    w = w / w.sum()
    q = np.clip(p, 1e-12, 1 - 1e-12)
    logit = np.log(q / (1 - q))
    return [
        (1 / (1 + np.exp(-(logit + calibration_se * z))), float(weight))
        for z, weight in zip(x, w, strict=True)
    ]


def _limits(pmf: np.ndarray, confidence: float) -> tuple[int, int]:
    cdf = np.cumsum(pmf)
    alpha = (1 - confidence) / 2
    lo = int(np.searchsorted(cdf, alpha, side="right"))
    hi = int(np.searchsorted(cdf, 1 - alpha, side="left"))
    return lo, min(hi, pmf.size - 1)


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
    pmfs = [
        (poisson_binomial_pmf(q), weight) for q, weight in _calibration_nodes(p, calibration_se)
    ]
    out = np.zeros(max(f.size for f, _ in pmfs))
    for f, weight in pmfs:
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
    return _limits(count_pmf(p, calibration_se), confidence)


def prefix_count_limits(
    p: np.ndarray,
    sizes: Sequence[int] | np.ndarray,
    confidence: float = 0.95,
    calibration_se: float = 0.0,
) -> list[tuple[int, int]]:
    """:func:`count_limits` of the first ``k`` families for each ``k`` in ``sizes``
    (ascending), each prefix's distribution made from the last one's times that of the
    families between them: every family is multiplied in once, not once per prefix (the
    capacity curve's 26 points at 660,000 families: 13 times less work).

    >>> p = np.linspace(0.01, 0.6, 5_000)
    >>> one_by_one = [count_limits(p[:k], calibration_se=0.1) for k in (1_000, 3_000)]
    >>> prefix_count_limits(p, [1_000, 3_000], calibration_se=0.1) == one_by_one
    True
    """
    p = np.asarray(p, dtype=float).ravel()
    ks = [int(k) for k in sizes]
    if any(b < a for a, b in zip(ks, ks[1:], strict=False)):
        raise ValueError("prefix sizes must be ascending")
    mixtures = [np.zeros(1) for _ in ks]
    for q, weight in _calibration_nodes(p, calibration_se):
        running, done = np.array([1.0]), 0
        for i, k in enumerate(ks):
            if k > done:
                running = _times(running, poisson_binomial_pmf(q[done:k]), q[:k])
                done = k
            if mixtures[i].size < running.size:
                mixtures[i] = np.pad(mixtures[i], (0, running.size - mixtures[i].size))
            mixtures[i][: running.size] += weight * running
    return [
        (0, 0) if k == 0 else _limits(m / m.sum(), confidence)
        for k, m in zip(ks, mixtures, strict=True)
    ]


def group_count_limits(
    p: np.ndarray, groups: Sequence[np.ndarray], confidence: float = 0.95
) -> list[tuple[int, int]]:
    """:func:`poisson_binomial_interval` of ``p[idx]`` for each ``idx`` in ``groups``, the
    groups under 20,000 families multiplied together: those whose sizes round up to the
    same power of two are padded with families of probability 0 and their product trees
    built level by level in one FFT per level, instead of a dozen small FFTs per group (a
    table of 3,000 wards: per-call overhead was most of the population stage).

    >>> p = np.linspace(0.01, 0.5, 300)
    >>> groups = [np.arange(0, 7), np.arange(7, 100), np.arange(100, 300)]
    >>> group_count_limits(p, groups) == [poisson_binomial_interval(p[g]) for g in groups]
    True
    """
    p = np.clip(np.asarray(p, dtype=float).ravel(), 0.0, 1.0)
    out: list[tuple[int, int]] = [(0, 0)] * len(groups)
    buckets: dict[int, list[int]] = {}
    for i, idx in enumerate(groups):
        n = len(idx)
        if n >= _MANY:
            out[i] = count_limits(p[idx], confidence)
        elif n:
            buckets.setdefault(1 << (n - 1).bit_length(), []).append(i)
    for size, members in buckets.items():
        q = np.zeros((len(members), size))
        for row, i in enumerate(members):
            q[row, : len(groups[i])] = p[groups[i]]
        caps = np.array([_cap(p[groups[i]]) for i in members])
        polys = np.stack([1 - q, q], axis=-1)  # (groups, families, 2)
        while polys.shape[1] > 1:
            length = 2 * polys.shape[2] - 1
            n_fft = next_fast_len(length, real=True)
            a, b = rfft(polys[:, 0::2], n_fft, axis=-1), rfft(polys[:, 1::2], n_fft, axis=-1)
            prod = irfft(a * b, n_fft, axis=-1)[..., :length]
            polys = np.clip(prod, 0.0, None)[..., : int(caps.max()) + 1]
        for row, i in enumerate(members):
            pmf = polys[row, 0, : caps[row] + 1]
            out[i] = _limits(pmf / pmf.sum(), confidence)
    return out


def _times(a: np.ndarray, b: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The distribution of the sum of two independent counts, cut where
    :func:`poisson_binomial_pmf` cuts that of the families ``q`` they cover together."""
    cap = _cap(q)
    out = np.clip(fftconvolve(a, b) if min(a.size, b.size) > 64 else np.convolve(a, b), 0, None)
    out = out[: cap + 1]
    return out / out.sum()


def chance_outside(pmf: np.ndarray, lo: float, hi: float) -> float:
    """The probability that a count with distribution ``pmf`` falls below ``lo`` or above
    ``hi``: how often limits flag it.

    >>> chance_outside(np.array([0.25, 0.5, 0.25]), 1, 1)
    0.5
    """
    k = np.arange(pmf.size)
    return float(pmf[(k < lo) | (k > hi)].sum())

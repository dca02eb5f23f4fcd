"""How many threads the library's own parallel work may use.

``OMP_NUM_THREADS``, when set to a whole number, caps every thread count the library
chooses (LightGBM's ``n_jobs``, the authorities checked at once by the transfer check):
a scheduler that gives a job one core, or a test runner with one worker per core, sets
it so that threads do not compete for the same core. The numbers do not depend on it:
LightGBM is fitted with ``deterministic=True`` and row-wise histograms.

>>> from unittest import mock
>>> with mock.patch.dict("os.environ", {"OMP_NUM_THREADS": "1"}):
...     capped(2)
1
>>> with mock.patch.dict("os.environ", {"OMP_NUM_THREADS": "many"}):
...     capped(2)
2
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["capped", "in_threads", "cores"]

T = TypeVar("T")


def capped(threads: int) -> int:
    """``threads``, at most ``OMP_NUM_THREADS`` when that is set to a positive whole
    number (anything else is ignored)."""
    limit = os.environ.get("OMP_NUM_THREADS", "").strip()
    if limit.isdigit() and int(limit) > 0:
        return max(1, min(threads, int(limit))) if threads > 0 else int(limit)
    return threads


def cores(n_jobs: int | None = None) -> int:
    """Threads for ``n_jobs`` (``None`` or a non-positive number: one per core), capped
    as above."""
    wanted = n_jobs if n_jobs is not None and n_jobs > 0 else (os.cpu_count() or 1)
    return max(1, capped(wanted))


def in_threads(jobs: Sequence[Callable[[], T]], n_jobs: int | None = None) -> list[T]:
    """Each job's result, in order, the jobs run ``cores(n_jobs)`` at a time (here and
    now when that is one). For work that releases the GIL (numpy on large arrays,
    LightGBM): the results do not depend on the number of threads as long as no job
    shares a random generator with another.

    >>> in_threads([lambda: 1, lambda: 2, lambda: 3], n_jobs=2)
    [1, 2, 3]
    """
    workers = min(len(jobs), cores(n_jobs))
    if workers <= 1:
        return [job() for job in jobs]
    with ThreadPoolExecutor(workers, thread_name_prefix="escalation-model") as pool:
        return list(pool.map(lambda job: job(), jobs))

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

__all__ = ["capped"]


def capped(threads: int) -> int:
    """``threads``, at most ``OMP_NUM_THREADS`` when that is set to a positive whole
    number (anything else is ignored)."""
    limit = os.environ.get("OMP_NUM_THREADS", "").strip()
    if limit.isdigit() and int(limit) > 0:
        return max(1, min(threads, int(limit))) if threads > 0 else int(limit)
    return threads

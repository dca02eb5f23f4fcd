"""A stage run on a thread beside the stages after it.

The transfer check (leave one authority out) depends only on the fitted models and
nothing after it depends on it until the result is assembled. Its work is mostly
LightGBM, which releases the GIL, while the stages after it (fairness, population,
explanations) run on one core: beside them it costs little of the run's time. Its
numbers do not depend on when or on how many threads it runs (each fit is seeded and
single-threaded).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

from .._threads import cores

__all__ = ["Alongside", "spare_cores"]

T = TypeVar("T")


def spare_cores() -> int:
    """The cores left beside the main thread: 0 on one core, or where
    ``OMP_NUM_THREADS=1`` (a scheduler's one core, a test runner's worker), which
    caps every thread the library starts."""
    return cores() - 1


class Alongside(Generic[T]):
    """``fn(*args)`` started on its own thread (run here and now, with ``beside=False``:
    no spare core); :meth:`result` waits for it.

    >>> import threading
    >>> job = Alongside(threading.current_thread)
    >>> job.result() is threading.current_thread(), job.seconds >= 0
    (False, True)
    >>> Alongside(threading.current_thread, beside=False).result() is threading.current_thread()
    True
    """

    def __init__(self, fn: Callable[..., T], *args: object, beside: bool = True) -> None:
        self.seconds = 0.0
        self._pool: ThreadPoolExecutor | None = None
        if beside:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="escalation-model-alongside")
            self._future = self._pool.submit(self._timed, fn, *args)
            return
        self._future = Future()
        try:
            self._future.set_result(self._timed(fn, *args))
        except Exception as error:  # raised by result(), as from a thread
            self._future.set_exception(error)

    def _timed(self, fn: Callable[..., T], *args: object) -> T:
        start = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.seconds = time.perf_counter() - start

    def result(self) -> T:
        """Its result (or its exception), once it has finished."""
        try:
            return self._future.result()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)

    def abandon(self) -> None:
        """Not wanted any more (the run stopped): it is left to finish on its own."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

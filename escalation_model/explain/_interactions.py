"""Pairwise SHAP interactions of a LightGBM model, on sampled families with two or more
recorded needs.

shap's interaction values hold the GIL while they run (seconds for a thousand families),
which would stall every other thread of the study for as long, the transfer check's
included. Where a core is spare and ``fork`` exists (Linux), they are computed in a
forked process started as soon as the model is fitted; it inherits the explainer and the
encoded families in memory and sends back only the values. Anywhere else, or if that
process fails, they are computed here when asked for. The numbers are the same either
way: the same function on the same rows.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import numpy as np
import pandas as pd

from .._limits import DISCLOSURE_MIN_CELL, MIN_EXPLANATION_SUPPORT

__all__: list[str] = []

_CHUNK = 100  # families per call of shap's interaction values (the GIL is free between)
#: Seconds to wait for the forked process before computing the values here instead.
_TIMEOUT = 600.0


def interaction_rows(
    frame: pd.DataFrame, roles: Any, size: int, rng: np.random.Generator
) -> np.ndarray:
    """Positions of a seeded sample of ``size`` families with at least two recorded
    needs (none when no family has two)."""
    from ..population import count_indicators

    eligible = np.flatnonzero(count_indicators(frame, roles.indicators()).to_numpy() >= 2)
    m = min(size, eligible.size)
    if m == 0:
        return eligible[:0]
    return np.sort(rng.choice(eligible, size=m, replace=False))


def _values(explainer: Any, X: np.ndarray) -> np.ndarray:
    chunks = [X[i : i + _CHUNK] for i in range(0, len(X), _CHUNK)]
    return np.concatenate([np.asarray(explainer.shap_interaction_values(c)) for c in chunks])


class InteractionValues:
    """shap's interaction values of ``X`` (families x features x features), started now:
    in a forked process with ``forked=True`` where fork exists, else when :meth:`get` is
    first called.

    >>> class Explainer:  # shap's signature, for the example
    ...     def shap_interaction_values(self, X):
    ...         return X[:, :, None] * X[:, None, :]
    >>> X = np.arange(6.0).reshape(3, 2)
    >>> InteractionValues(Explainer(), X, forked=True).get()[2].tolist()
    [[16.0, 20.0], [20.0, 25.0]]
    """

    def __init__(self, explainer: Any, X: np.ndarray, *, forked: bool) -> None:
        self._explainer, self._X = explainer, X
        self._process: Any = None
        self._result: np.ndarray | None = None
        if forked and sys.platform == "linux" and len(X):
            self._start()

    def _start(self) -> None:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        try:
            self._process = context.Process(target=self._child, args=(send,), daemon=True)
            self._process.start()
        except OSError:  # no process to be had: computed here when asked
            self._process = None
        finally:
            send.close()

    def _child(self, send: Any) -> None:
        # the study's handlers, inherited, would outlive a stop request: a stopped run ends
        # this process at once
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            send.send(_values(self._explainer, self._X))
        except BaseException:  # nothing printed here: computed again in the run, where an
            os._exit(1)  # error is reported as the run's own
        send.close()

    def get(self) -> np.ndarray:
        """The values (computed here if the forked process did not deliver them)."""
        if self._result is None:
            self._result = self._from_process()
        if self._result is None:
            self._result = _values(self._explainer, self._X)
        return self._result

    def _from_process(self) -> np.ndarray | None:
        if self._process is None:
            return None
        try:
            if self._receive.poll(_TIMEOUT):
                values = self._receive.recv()
                if isinstance(values, np.ndarray) and values.shape[:2] == self._X.shape:
                    return values
        except (EOFError, OSError):  # the process died before sending
            pass
        finally:
            self.abandon()
        return None

    def abandon(self) -> None:
        """Not wanted (or already received): the forked process is ended."""
        if self._process is not None:
            if self._process.is_alive():
                self._process.terminate()
            self._process.join()
            self._receive.close()
            self._process = None


def interaction_table(
    X: np.ndarray, inter: np.ndarray, names: list[str], labels: list[str]
) -> pd.DataFrame:
    """The mean absolute interaction of each pair, and the mean interaction among the
    sampled families that have both (the extra log-odds of the pair beyond its parts),
    with a Student-t interval where at least ``DISCLOSURE_MIN_CELL`` have both."""
    mean_abs = np.abs(inter).mean(axis=0)
    binary = [
        bool(set(np.unique(X[:, j][~np.isnan(X[:, j])])) <= {0.0, 1.0}) for j in range(len(names))
    ]
    rows = []
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            both = (X[:, a] == 1) & (X[:, b] == 1) if binary[a] and binary[b] else None
            n_both = int(both.sum()) if both is not None else 0
            when_both, lo, hi = np.nan, np.nan, np.nan
            if both is not None and n_both >= DISCLOSURE_MIN_CELL:
                values = 2 * inter[both, a, b]
                when_both = float(values.mean())
                lo, hi = _mean_interval(values)
            rows.append(
                (
                    names[a],
                    names[b],
                    labels[a],
                    labels[b],
                    2 * mean_abs[a, b],
                    when_both,
                    lo,
                    hi,
                    n_both,
                    n_both >= MIN_EXPLANATION_SUPPORT,
                )
            )
    return pd.DataFrame(
        rows,
        columns=[
            "feature_a",
            "feature_b",
            "label_a",
            "label_b",
            "mean_abs_interaction",
            "mean_interaction_when_both",
            "when_both_lower",
            "when_both_upper",
            "n_both_sampled",
            "supported",
        ],
    ).sort_values("mean_abs_interaction", ascending=False, ignore_index=True)


def _mean_interval(values: np.ndarray) -> tuple[float, float]:
    """95% Student-t interval of the mean of ``values`` (sampled families). Not the
    percentile bootstrap: over 20 to 50 families it is too narrow (covered 92% at 25
    families of a skewed quantity, the t interval 93%, and 87% against 92% at 10;
    ``evaluation/bench_small_sample_intervals.py``).

    >>> lo, hi = _mean_interval(np.array([1.0, 2.0, 3.0, 4.0]))
    >>> round(lo, 3), round(hi, 3)
    (0.446, 4.554)
    """
    from scipy import stats

    n = values.size
    half = stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return float(values.mean() - half), float(values.mean() + half)

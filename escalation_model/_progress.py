"""Progress a person can follow: each stage of a command with the seconds since it
started and how many stages are left; a progress bar (tqdm) where the output is a
terminal or a notebook, plain lines where it is not (a pipe, a log, CI).

The library itself never prints: the commands and a notebook's ``run_study(...,
progress=True)`` make a :class:`Stages` and pass it on as the ``progress`` callable."""

from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO

__all__ = ["Stages"]


class Stages:
    """Announce stages: ``stages("fitting")`` starts the next one.

    Parameters
    ----------
    total : int
        How many stages are expected (:meth:`expect` changes it once the plan is known).
    bar : bool, optional
        A progress bar; by default where ``stream`` is a terminal and ``CI`` is unset.
    notebook : bool
        A notebook's bar (on the error stream, always shown) instead of a terminal's.
    quiet : bool
        Say nothing.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> stages = Stages(2, stream=out, clock=iter([0.0, 1.5, 3.0]).__next__)
    >>> stages("loading"); stages("fitting"); stages.close()
    >>> print(out.getvalue(), end="")
    - [   1.5 s] (1 of 2) loading
    - [   3.0 s] (2 of 2) fitting
    """

    def __init__(
        self,
        total: int,
        *,
        bar: bool | None = None,
        notebook: bool = False,
        quiet: bool = False,
        stream: TextIO | None = None,
        clock: Any = time.perf_counter,
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.total, self.done, self.quiet, self.clock = total, 0, quiet, clock
        self.started = clock()
        if bar is None:
            bar = notebook or (_is_terminal(self.stream) and not os.environ.get("CI"))
        self._bar = None if quiet or not bar else _make_bar(total, notebook, self.stream)

    def expect(self, total: int) -> None:
        """The number of stages, once known (never fewer than those already done)."""
        self.total = max(total, self.done)
        if self._bar is not None:
            self._bar.total = self.total
            self._bar.refresh()

    def elapsed(self) -> float:
        return float(self.clock() - self.started)

    def __call__(self, message: str) -> None:
        self.done += 1
        self.total = max(self.total, self.done)
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.set_description_str(message[:60])
            self._bar.update(1)
            return
        line = f"- [{self.elapsed():6.1f} s] ({self.done} of {self.total}) {message}"
        print(line, file=self.stream, flush=True)

    def write(self, message: str) -> None:
        """A line of its own (a plan, a note) that does not break the bar."""
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.write(message, file=self.stream)
        else:
            print(message, file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _make_bar(total: int, notebook: bool, stream: TextIO) -> Any:
    """tqdm's text bar: in a terminal on ``stream``; in a notebook on its error stream,
    which Jupyter redraws in place (no widget library needed)."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        file=sys.stderr if notebook else stream,
        bar_format="{desc:<60} {n_fmt}/{total_fmt} stages [{elapsed} so far]",
        leave=True,
    )

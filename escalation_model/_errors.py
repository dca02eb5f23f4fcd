"""One error family. Every error the library raises on purpose is an
:class:`EscalationModelError`; its ``exit_code`` is what the command line returns for it.

Exit codes (documented in the README):

- 0: done;
- 1: the data, the roles or the configuration was refused (nothing was written);
- 2: a file or environment problem (a path, a model file, the output folder, the
  tracking store);
- 3: an unexpected error (one line is printed, the details go to a log file);
- 130: interrupted (Ctrl-C or SIGTERM); the tracked run is recorded as KILLED.

Messages never hold a family identifier or an individual score: they name files, columns,
counts and row numbers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = [
    "EXIT_DONE",
    "EXIT_ENVIRONMENT",
    "EXIT_INTERRUPTED",
    "EXIT_REFUSED",
    "EXIT_UNEXPECTED",
    "EscalationModelError",
    "Interrupted",
    "ModelFileError",
    "interrupts_deferred",
    "interrupts_are_deferred",
    "TrackingError",
]

EXIT_DONE = 0
EXIT_REFUSED = 1
EXIT_ENVIRONMENT = 2
EXIT_UNEXPECTED = 3
EXIT_INTERRUPTED = 130


class EscalationModelError(ValueError):
    """Base class of the library's own errors; the message names the problem and the fix."""

    exit_code: int = EXIT_REFUSED


class ModelFileError(EscalationModelError):
    """A model file that cannot be trusted or read."""

    exit_code = EXIT_ENVIRONMENT


class TrackingError(EscalationModelError):
    """The MLflow tracking store cannot be used; the message names the store and the fix."""

    exit_code = EXIT_ENVIRONMENT


class Interrupted(KeyboardInterrupt):
    """The process was asked to stop (SIGTERM); handled like Ctrl-C."""


_interrupt = threading.Event()


def request_interrupt() -> None:
    """Note that the process was asked to stop. A signal handler's exception can be lost
    (raised inside a garbage-collection callback it is only printed), so the request is
    kept and checked again before anything is published or a run is marked FINISHED."""
    _interrupt.set()


def clear_interrupt() -> None:
    """Forget an earlier request (a new command starts)."""
    _interrupt.clear()


def raise_if_interrupted() -> None:
    """Raise :class:`Interrupted` if the process was asked to stop.

    >>> raise_if_interrupted()  # nothing asked: nothing happens
    """
    if _interrupt.is_set():
        raise Interrupted()


_deferred = 0


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold a stop request (Ctrl-C, SIGTERM) that arrives inside until the end, then
    raise it: for a step that must not be left half done, such as starting a tracked run
    (the store holds it as RUNNING before the code that would mark it KILLED knows it).
    The command line's signal handler only records a request while this is open.

    >>> try:
    ...     with interrupts_deferred():
    ...         request_interrupt()  # as the signal handler does: nothing raised here
    ...         held = interrupts_are_deferred()
    ... except Interrupted:
    ...     print("raised at the end; held inside:", held)
    raised at the end; held inside: True
    >>> clear_interrupt()
    """
    global _deferred
    _deferred += 1
    try:
        yield
    finally:
        _deferred -= 1
    raise_if_interrupted()


def interrupts_are_deferred() -> bool:
    """Whether a stop request should be recorded only (see :func:`interrupts_deferred`)."""
    return _deferred > 0

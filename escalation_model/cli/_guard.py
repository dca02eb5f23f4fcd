"""How a command ends: one exit code per kind of ending, one line per error.

See :mod:`escalation_model._errors` for the codes. An unexpected error prints one line
naming a log file; the log holds the traceback's frames and exception types but no
exception message (a message from another library might quote data).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from .._errors import (
    EXIT_ENVIRONMENT,
    EXIT_INTERRUPTED,
    EXIT_UNEXPECTED,
    EscalationModelError,
    Interrupted,
    clear_interrupt,
    interrupts_are_deferred,
    raise_if_interrupted,
    request_interrupt,
)

__all__ = ["guarded"]


def _err(message: str) -> None:
    print(f"escalation-model: {message}", file=sys.stderr)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    request_interrupt()  # kept, in case the exception is lost in a GC callback
    if not interrupts_are_deferred():  # else raised when the step that holds it ends
        raise Interrupted()


def _quiet_unraisable(unraisable: Any) -> None:
    """A stop request raised inside a garbage-collection callback is kept by
    :func:`request_interrupt`; do not print its traceback. Anything else as usual."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        return
    sys.__unraisablehook__(unraisable)


def _log_unexpected(exc: BaseException) -> Path:
    """Write the frames and exception types (never the messages) to a private log file."""
    lines = [f"escalation-model {time.strftime('%Y-%m-%d %H:%M:%S')}: unexpected error\n"]
    chain: BaseException | None = exc
    while chain is not None:
        lines.append(f"{type(chain).__module__}.{type(chain).__qualname__}\n")
        lines += traceback.format_list(traceback.extract_tb(chain.__traceback__))
        chain = chain.__cause__ or chain.__context__
    fd, name = tempfile.mkstemp(prefix="escalation-model-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.writelines(lines)
    return Path(name)


class _ClosedPipeSafe(io.TextIOBase):
    """Standard output that a closed pipe (``| head``) does not break: once the reader
    has gone, what is left to print is dropped and the command finishes its work (files
    written, run recorded) with its own exit code. The Python documentation's advice:
    point the file descriptor at ``os.devnull`` so that the interpreter's last flush
    cannot fail either."""

    def __init__(self, stream: TextIO):
        self._stream = stream
        self._gone = False

    def _closed_pipe(self) -> None:
        self._gone = True
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())

    def write(self, text: str) -> int:
        if not self._gone:
            try:
                self._stream.write(text)
            except BrokenPipeError:
                self._closed_pipe()
        return len(text)

    def flush(self) -> None:
        if not self._gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._closed_pipe()

    def writable(self) -> bool:
        return True


def guarded(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run ``command``; turn every way it can end into an exit code and at most a few
    lines on standard error."""
    # MLflow and its migrations announce routine steps (a new experiment, a schema
    # upgrade) at INFO; the command says what matters itself
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    clear_interrupt()
    sys.unraisablehook = _quiet_unraisable
    stdout = sys.stdout
    sys.stdout = _ClosedPipeSafe(stdout)
    previous = {}
    with contextlib.suppress(ValueError):  # not the main thread (a notebook): no handler
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, _on_signal)
    try:
        code = command(args)
        raise_if_interrupted()
        return code
    except EscalationModelError as exc:
        text = str(exc)
        if "\n" in text:  # a list of problems, already introduced
            print(text, file=sys.stderr)
        else:
            _err(text)
        return exc.exit_code
    except OSError as exc:
        text = str(exc)
        _err(text if "Fix:" in text else f"{text}. Fix: check the path and its permissions.")
        return EXIT_ENVIRONMENT
    except KeyboardInterrupt:
        _err("interrupted; nothing was published and any tracked run is recorded as KILLED.")
        return EXIT_INTERRUPTED
    except Exception as exc:
        log = _log_unexpected(exc)
        _err(
            f"unexpected error ({type(exc).__name__}); nothing was published. The details "
            f"are in {log}. Please report it with that file."
        )
        return EXIT_UNEXPECTED
    finally:
        sys.stdout.flush()
        sys.stdout = stdout
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sys.unraisablehook = sys.__unraisablehook__
        clear_interrupt()

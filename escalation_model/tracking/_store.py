"""The tracking store: opened under a file lock, errors in one line, dead runs reaped.

Several processes may start runs on one SQLite store at once; creating a new store's
schema is not safe to do twice at the same time, so store creation and first use (and
model registration) happen under a lock file beside the database. A run records the
process and host that own it; a RUNNING run whose process is gone (killed, machine
restarted) is marked KILLED the next time a run starts on that store.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .._errors import EscalationModelError, TrackingError

__all__ = [
    "OWNER_TAGS",
    "error_tag",
    "owner_tags",
    "reap_dead_runs",
    "sqlite_path",
    "store_guard",
    "store_lock",
]

#: Tags naming the process that owns a run, so a dead owner can be recognised: the
#: store's bookkeeping, prefixed so that they sort after the tags a team reads.
OWNER_TAGS = ("zz_bookkeeping.pid", "zz_bookkeeping.host", "zz_bookkeeping.pid_started")
_LOCK_TIMEOUT_S = 300


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (None for any other store).

    >>> str(sqlite_path("sqlite:///mlflow.db"))
    'mlflow.db'
    >>> sqlite_path("http://localhost:5000") is None
    True
    """
    prefix = "sqlite:///"
    return Path(uri[len(prefix) :]) if uri.startswith(prefix) else None


@contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Hold the store's lock file (SQLite stores only; others serialise themselves)."""
    db = sqlite_path(uri)
    if db is None:
        yield
        return
    from filelock import FileLock, Timeout

    try:
        db.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(db) + ".lock", timeout=_LOCK_TIMEOUT_S)
        lock.acquire()
    except Timeout:
        raise TrackingError(
            f"tracking store {uri}: another run has held its lock for {_LOCK_TIMEOUT_S} s. "
            f"Fix: wait for it to finish, or delete {db}.lock if no run is going."
        ) from None
    except OSError as exc:
        raise TrackingError(
            f"tracking store {uri}: cannot create its folder or lock file "
            f"({exc.strerror or type(exc).__name__}). Fix: choose a writable place with "
            "--tracking-uri, or run with --no-tracking."
        ) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def store_guard(uri: str, doing: str) -> Iterator[None]:
    """Report any MLflow or database error as one :class:`TrackingError` line naming the
    store and the fix (the library's own errors pass through unchanged)."""
    try:
        yield
    except (EscalationModelError, KeyboardInterrupt):
        raise
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        raise TrackingError(
            f"tracking store {uri}: {doing} failed ({type(exc).__name__}: {first}). Fix: "
            "check that the store is reachable and not damaged (an older or newer MLflow may "
            "have written it), point --tracking-uri at another store, or run with "
            "--no-tracking."
        ) from None


def _started(pid: int) -> str:
    import psutil

    try:
        return f"{psutil.Process(pid).create_time():.3f}"
    except psutil.Error:
        return ""


def owner_tags() -> dict[str, str]:
    """The tags that say which live process owns a run."""
    pid = os.getpid()
    return dict(zip(OWNER_TAGS, (str(pid), socket.gethostname(), _started(pid)), strict=True))


def _alive(tags: dict[str, str]) -> bool:
    try:
        pid = int(tags[OWNER_TAGS[0]])
    except (KeyError, ValueError):
        return True  # not ours to judge
    started = _started(pid)
    return bool(started) and started == tags.get(OWNER_TAGS[2], started)


def reap_dead_runs(client: Any, experiment_id: str) -> list[str]:
    """Mark KILLED every RUNNING run of this host whose owning process is gone.

    Returns the run ids marked. Runs of other hosts, and runs without owner tags (not
    started by this library), are left alone.
    """
    host = socket.gethostname()
    runs = client.search_runs(
        [experiment_id],
        filter_string=f"attributes.status = 'RUNNING' and tags.`{OWNER_TAGS[1]}` = '{host}'",
        max_results=1000,
    )
    reaped = []
    for run in runs:
        if not _alive(run.data.tags):
            client.set_tag(
                run.info.run_id,
                "status_reason",
                "killed: its process ended without finishing the run (found by a later run)",
            )
            client.set_terminated(run.info.run_id, status="KILLED")
            reaped.append(run.info.run_id)
    return reaped


def error_tag(exc: BaseException) -> str:
    """What a FAILED run records of its error. The library's own messages name columns,
    counts and rows, never a family; any other error is recorded by its type only (its
    message might quote data)."""
    if isinstance(exc, EscalationModelError):
        return f"{type(exc).__name__}: {str(exc)[:4000]}"
    return f"{type(exc).__name__} (an unexpected error; see the log file the command named)"

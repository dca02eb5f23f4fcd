"""Output folders: written whole or not at all, never over a user's files.

A run writes into a hidden sibling folder (``.NAME.partial-PID``) and, once everything is
written, a manifest last; only then does the folder take the final name, replacing the
previous run's folder as a whole (never mixing old and new files). A run that fails
leaves nothing; a run that is killed leaves only the hidden partial folder, which is
cleared by the next run. A folder that holds files escalation-model did not write (not
in its manifest) is never written into.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ._errors import EscalationModelError, raise_if_interrupted

__all__ = [
    "MANIFEST",
    "MARKER",
    "OutputFolderError",
    "file_sha256",
    "staged_output",
    "write_manifest",
]

MARKER = ".escalation-model-output"
MANIFEST = "manifest.json"


class OutputFolderError(EscalationModelError):
    """The output folder cannot be used (files this tool did not write, not writable)."""

    exit_code = 2


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes (in manifests, and for every saved model: checked before
    a registered one is loaded)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_manifest(folder: str | Path, files: Iterable[str | Path]) -> Path:
    """Write ``manifest.json`` listing ``files`` (paths inside ``folder``) with their sizes
    and SHA-256; written last, it marks the folder complete."""
    folder = Path(folder)
    entries = []
    for f in sorted({Path(f).resolve() for f in files}):
        rel = f.relative_to(folder.resolve()).as_posix()
        entries.append({"path": rel, "bytes": f.stat().st_size, "sha256": file_sha256(f)})
    path = folder / MANIFEST
    text = json.dumps({"complete": True, "files": entries}, indent=2)
    path.write_text(text + "\n", "utf-8")
    return path


def read_manifest(folder: str | Path) -> list[str]:
    """The files a complete output folder holds, as paths relative to it (empty if the
    folder has no manifest)."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return []
    try:
        return [str(e["path"]) for e in json.loads(path.read_text("utf-8"))["files"]]
    except (ValueError, KeyError, TypeError):
        return []


def _foreign_files(out: Path) -> list[str]:
    """Files in ``out`` that no run of escalation-model wrote (so must not be removed)."""
    if not (out / MARKER).exists():
        return sorted(p.name for p in out.iterdir())
    if not (out / MANIFEST).exists():  # written before manifests existed: all ours
        return []
    ours = {MARKER, MANIFEST, *read_manifest(out)}
    found = [p.relative_to(out).as_posix() for p in out.rglob("*") if not p.is_dir()]
    return sorted(f for f in found if f not in ours)


def _edited_files(out: Path) -> list[str]:
    """Files a previous run wrote whose bytes no longer match its manifest (a user's
    edit), or that are gone."""
    path = out / MANIFEST
    if not path.is_file():
        return []
    try:
        entries = json.loads(path.read_text("utf-8"))["files"]
        listed = [(str(e["path"]), str(e["sha256"])) for e in entries]
    except (ValueError, KeyError, TypeError):
        return []
    return [
        rel for rel, sha in listed if not (out / rel).is_file() or file_sha256(out / rel) != sha
    ]


def check_output_dir(path: str | Path, *, overwrite: bool = False) -> Path:
    """Refuse, before any work, a folder this tool may not replace: one holding files it
    did not write, or files a previous run wrote that have been changed since (unless
    ``overwrite``); nothing is created."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise OutputFolderError(f"{out} is a file, not a folder. Fix: choose another --output.")
    if out.is_dir() and any(out.iterdir()):
        foreign = _foreign_files(out)
        if foreign:
            raise OutputFolderError(
                f"{out} holds {len(foreign)} file(s) that escalation-model did not write (for "
                f"example {foreign[0]!r}); nothing was changed. Fix: choose an empty or new "
                "folder with --output, or move those files away."
            )
        edited = [] if overwrite else _edited_files(out)
        if edited:
            raise OutputFolderError(
                f"{out / edited[0]} was changed after the run that wrote it (its bytes no "
                f"longer match {MANIFEST}; {len(edited)} file(s) in all); nothing was changed. "
                "Fix: move your edited copy elsewhere, choose another --output, or pass "
                "--overwrite to replace it."
            )
    return out


def _clear_stale_partials(out: Path) -> None:
    """Remove partial folders of this output left by runs whose process is gone."""
    import psutil

    for stale in out.parent.glob(f".{out.name}.partial-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not psutil.pid_exists(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


def _swap_in(staging: Path, out: Path, overwrite: bool = False) -> None:
    """Give ``staging`` the final name, replacing the previous folder as a whole."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        check_output_dir(out, overwrite=overwrite)  # a user may have edited files meanwhile
        out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def staged_output(path: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a fresh hidden folder to write into; on success it replaces ``path`` whole.

    The folder is checked first and the staging folder's creation is the write probe, so
    an unusable output folder is reported before any work. If the body raises, the staging
    folder is removed and ``path`` is left as it was. The body must write the manifest
    (:func:`write_manifest`) last. ``overwrite`` replaces files a user changed since the
    previous run wrote them (refused otherwise).
    """
    out = check_output_dir(path, overwrite=overwrite)
    staging = out.parent / f".{out.name}.partial-{os.getpid()}"
    # one cleanup for all of it: a stop request is raised wherever the run is, so also
    # just after the staging folder exists
    try:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            _clear_stale_partials(out)
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            (staging / MARKER).write_text("This folder is written by escalation-model runs.\n")
        except OSError as exc:
            raise OutputFolderError(
                f"cannot write next to {out} ({exc.strerror or type(exc).__name__}); nothing "
                "was run. Fix: choose a folder you can write to with --output."
            ) from None
        yield staging
        raise_if_interrupted()
        if not (staging / MANIFEST).is_file():
            write_manifest(staging, [p for p in staging.rglob("*") if p.is_file()])
        _swap_in(staging, out, overwrite)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise

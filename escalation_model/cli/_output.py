"""Output folders that never overwrite what a user wrote."""

from __future__ import annotations

from pathlib import Path

from .._errors import EscalationModelError

MARKER = ".escalation-model-output"


class OutputFolderError(EscalationModelError):
    """The output folder cannot be used (files this tool did not write, not writable)."""

    exit_code = 2


def prepare_output_dir(path: str | Path) -> Path:
    """Create ``path`` for a run's outputs, or reuse it if an earlier run made it.

    A folder that exists, is not empty and was not made by this tool is never written into.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise OutputFolderError(f"{out} is a file, not a folder. Fix: choose another --output.")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise OutputFolderError(
            f"{out} already holds files that escalation-model did not write; nothing was "
            "changed. Fix: choose an empty or new folder with --output."
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("This folder is written by escalation-model runs.\n", "utf-8")
    return out

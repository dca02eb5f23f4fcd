"""Where a result came from: the package version and, in a checkout, the git commit."""

from __future__ import annotations

import subprocess
from pathlib import Path

from . import __version__

__all__ = ["code_version"]


def _git(*args: str) -> str:
    root = Path(__file__).resolve().parents[1]
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True, timeout=5
    ).stdout.strip()


def code_version() -> str:
    """The package version, and the git commit when run from a checkout (``.dirty`` when
    tracked files have uncommitted changes)."""
    try:
        commit = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{commit}{'.dirty' if dirty else ''}"

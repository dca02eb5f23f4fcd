"""Output folders that never overwrite what a user wrote (see ``escalation_model._outputs``)."""

from __future__ import annotations

from .._outputs import MARKER, OutputFolderError, check_output_dir, staged_output

__all__ = ["MARKER", "OutputFolderError", "check_output_dir", "staged_output"]

"""Writing a benchmark's results file (shared by the scripts in this folder)."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def write_results(name: str, payload: dict[str, Any]) -> Path:
    """Write ``results/NAME.json`` with the machine it was measured on."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    record = {"machine": f"{platform.machine()}, Python {platform.python_version()}", **payload}
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path

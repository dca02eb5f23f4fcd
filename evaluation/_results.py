"""Writing a benchmark's results file (shared by the scripts in this folder)."""

from __future__ import annotations

import json
import platform
from functools import cache
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


@cache
def population(n_families: int, seed: int) -> Any:
    """The synthetic population of a benchmark, made once per worker process and kept
    (replicates redraw receipt and outcomes on it)."""
    from escalation_model.datasets import make_synthetic_population

    return make_synthetic_population(n_families, random_state=seed)

"""The model-file fuzzer in full: seeded mutations of real model files of every kind the
library writes, each loaded and scored in a worker process (tests/security/fuzz_models.py).

    python evaluation/fuzz_model_files.py [--mutations 5000] [--seed 2026]

Writes ``evaluation/results/fuzz_model_files.json``: the count of each outcome. Every
outcome must be ``refused`` or ``loaded``; ``crash``, ``hang`` or ``error:...`` fail.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _results import write_results  # noqa: E402

from tests.security.fuzz_models import fuzz, make_model_files  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mutations", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = make_model_files(folder, n_estimators=200)
        started = time.perf_counter()
        outcomes = fuzz(paths, args.mutations, args.seed, folder, timeout=3600)
    seconds = round(time.perf_counter() - started, 1)
    failures = {k: v for k, v in outcomes.items() if k not in ("refused", "loaded")}
    result = {
        "mutations": args.mutations,
        "seed": args.seed,
        "model_kinds": [p.stem for p in paths],
        "outcomes": dict(sorted(outcomes.items())),
        "failures": failures,
        "seconds": seconds,
    }
    print(result)
    write_results("fuzz_model_files", result)
    if failures:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

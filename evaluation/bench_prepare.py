"""Time writing synthetic returns and preparing them, and record peak memory.

python evaluation/bench_prepare.py [N ...]   (default: 100000)
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time

from _results import write_results

from escalation_model.datasets import make_synthetic_population
from escalation_model.returns import load_prepare_config, make_synthetic_returns, prepare


def main(sizes: list[int]) -> None:
    results = []
    for n in sizes:
        pop = make_synthetic_population(n_families=n, random_state=3)
        with tempfile.TemporaryDirectory() as folder:
            t = time.perf_counter()
            path = make_synthetic_returns(pop, folder, random_state=1)
            written = time.perf_counter() - t
            t = time.perf_counter()
            frame, _ = prepare(load_prepare_config(path))
            prepared = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{n:>9,} families: returns written in {written:.1f} s, prepared in "
            f"{prepared:.1f} s ({len(frame):,} rows); peak memory so far {peak:,.0f} MB"
        )
        results.append(
            {
                "families": n,
                "returns_written_s": round(written, 1),
                "prepared_s": round(prepared, 1),
                "peak_memory_mb": round(peak),
            }
        )
    path = write_results(
        "bench_prepare",
        {
            "command": "python evaluation/bench_prepare.py " + " ".join(map(str, sizes)),
            "results": results,
            "target": "1,000,000 families prepared in under 60 s",
        },
    )
    print("wrote", path)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000])

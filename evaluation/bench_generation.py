"""Benchmark: time and peak memory of generating and validating the synthetic population.

    python evaluation/bench_generation.py                 # 100k, 1M and 10M families
    python evaluation/bench_generation.py --sizes 100000  # just one size

Each size runs in a fresh subprocess so that its peak resident memory is its own. Results
are printed and written to evaluation/results/bench_generation.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

from _results import write_results


def _one(n: int) -> dict:
    from escalation_model.datasets import make_synthetic_population
    from escalation_model.schema import validate

    t0 = time.perf_counter()
    pop = make_synthetic_population(n, random_state=2015)
    t1 = time.perf_counter()
    validate(pop.frame, pop.roles)
    t2 = time.perf_counter()
    return {
        "n_families": n,
        "generate_seconds": round(t1 - t0, 2),
        "validate_seconds": round(t2 - t1, 2),
        "frame_megabytes": round(pop.frame.memory_usage(deep=True).sum() / 1e6, 1),
        "peak_rss_megabytes": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(_one(args.child)))
        return 0
    rows = []
    header = ("families", "generate s", "validate s", "frame MB", "peak MB")
    print("{:>12s} {:>11s} {:>11s} {:>9s} {:>9s}".format(*header))
    for n in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(
            f"{n:12,d} {row['generate_seconds']:11.2f} {row['validate_seconds']:11.2f} "
            f"{row['frame_megabytes']:9.1f} {row['peak_rss_megabytes']:9.1f}",
            flush=True,
        )
    write_results("bench_generation", {"results": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())

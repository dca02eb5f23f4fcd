"""Coverage of two 95% intervals for a mean over few sampled families: the percentile
bootstrap (what the explanations' interaction intervals used) and Student's t (what they
use now), on a skewed quantity (gamma, shape 2) like an attribution, 2,000 samples per size.

    python evaluation/bench_small_sample_intervals.py

Writes evaluation/results/bench_small_sample_intervals.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import stats


def coverage(n: int, replicates: int, rng: np.random.Generator) -> dict[str, float]:
    truth, hits_boot, hits_t = 0.2, 0, 0
    t = stats.t.ppf(0.975, n - 1)
    for _ in range(replicates):
        x = rng.gamma(2.0, 0.1, size=n)
        means = rng.choice(x, size=(500, n), replace=True).mean(axis=1)
        lo, hi = np.quantile(means, [0.025, 0.975])
        hits_boot += lo <= truth <= hi
        half = t * x.std(ddof=1) / np.sqrt(n)
        hits_t += x.mean() - half <= truth <= x.mean() + half
    return {"percentile_bootstrap": hits_boot / replicates, "student_t": hits_t / replicates}


def main() -> None:
    rng = np.random.default_rng(0)
    results = {str(n): coverage(n, 2000, rng) for n in (10, 25, 50, 200)}
    for n, r in results.items():
        print(
            f"{n:>4} families: percentile bootstrap {r['percentile_bootstrap']:.1%}, "
            f"Student t {r['student_t']:.1%}"
        )
    out = Path(__file__).parent / "results" / "bench_small_sample_intervals.json"
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

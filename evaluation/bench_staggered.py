"""Benchmark: the staggered-adoption difference in differences against a synthetic
roll-out that knows the truth.

    python evaluation/bench_staggered.py            # 200 replicates; 100 with each pre-trend
    python evaluation/bench_staggered.py --quick    # 20 and 10

Each replicate draws a new population of 300,000 families (seed 1000 + replicate) and
starts early help ward by ward (``impact.plant_rollout``: each of the 248 wards starts in
2012Q3, 2013Q3 or 2014Q3, or with probability 0.25 never; escalations after the start
thinned by 30%), then estimates ``impact.staggered_did`` on ward x quarter (999
multiplier-bootstrap draws over wards) and compares it with the truth aggregated the same
way (``true_staggered_att``). Reported: the bias of the overall effect, its 95% interval's
coverage, the event study's pointwise coverage after the start, and how often the
pre-trend test (sup-t over the pre-start periods, 5%) rejects: with parallel trends
(a false alarm) and with a planted violation (risk in the wards that will start rising
3% or 6% a quarter relative to the others). Results: evaluation/results/bench_staggered.json.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from _results import write_results

from escalation_model.datasets import make_synthetic_population
from escalation_model.impact import QUARTER, plant_rollout, staggered_did, true_staggered_att


def replicate(r: int, pre_trend: float) -> dict:
    pop = make_synthetic_population(300_000, random_state=1000 + r)
    world = plant_rollout(pop, pre_trend=pre_trend, random_state=r)
    where = dict(unit="ward_code", period=QUARTER, started=world.started)
    est = staggered_did(world.frame, outcome="escalated", random_state=r, **where)
    truth, by_event = true_staggered_att(world.frame, world.true_effect, **where)
    post = est.event_study[est.event_study.event_time >= 0].set_index("event_time")
    covered = [(post.lower[e] <= by_event[e] <= post.upper[e]) for e in post.index]
    return {
        "att": est.att,
        "truth": truth,
        "covered": bool(est.lower <= truth <= est.upper),
        "event_covered": float(np.mean(covered)),
        "pre_trend_rejected": not est.pre_trends_flat,
        "reduction": est.reduction,
    }


def run(replicates: int, pre_trend: float) -> dict:
    rows = [replicate(r, pre_trend) for r in range(replicates)]
    att = np.array([r["att"] for r in rows])
    truth = np.array([r["truth"] for r in rows])
    return {
        "replicates": replicates,
        "pre_trend_per_quarter": pre_trend,
        "mean_truth": float(truth.mean()),
        "bias": float((att - truth).mean()),
        "relative_bias": float((att - truth).mean() / truth.mean()),
        "coverage": float(np.mean([r["covered"] for r in rows])),
        "event_study_coverage_after_start": float(np.mean([r["event_covered"] for r in rows])),
        "pre_trend_rejected": float(np.mean([r["pre_trend_rejected"] for r in rows])),
        "mean_reduction": float(np.mean([r["reduction"] for r in rows])),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    n_flat, n_trend = (20, 10) if args.quick else (200, 100)
    t0 = time.perf_counter()
    flat = run(n_flat, 0.0)
    print("parallel trends:", flat, flush=True)
    trends = {}
    for size in (0.03, 0.06):
        trends[f"{size:.2f}"] = run(n_trend, size)
        print(f"pre-trend {size:.0%} a quarter:", trends[f"{size:.2f}"], flush=True)
    seconds = round(time.perf_counter() - t0, 1)
    if not args.quick:
        write_results(
            "bench_staggered", {"parallel_trends": flat, "pre_trend": trends, "seconds": seconds}
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

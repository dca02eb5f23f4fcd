"""Benchmark: models against the oracle and the 5+ rule, and the speed of the bootstrap.

    python evaluation/bench_models.py            # quality on 100k families, speed on 1M
    python evaluation/bench_models.py --quick    # smaller sizes, for a smoke run

Prints the figures and writes them to evaluation/results/bench_models.json.
Quality: 100,000 synthetic families (seed 2015), temporal split (train 2011-2013, test
2015), the default models, 1,000 bootstrap resamples, capacity 5% of families.
Speed: intervals for every metric of one model with 1,000 resamples on 1,000,000 families,
next to the naive approach (recomputing every metric with sklearn on each resample) on
100,000 families, timed on 20 resamples and scaled to 1,000.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from _results import write_results

from escalation_model.datasets import make_synthetic_population
from escalation_model.evaluation import (
    bootstrap_metrics,
    evaluate_models,
    point_estimates,
    temporal_split,
)
from escalation_model.models import make_models


def quality(n: int, n_bootstrap: int) -> dict:
    pop = make_synthetic_population(n, random_state=2015)
    split = temporal_split(pop.frame, pop.roles)
    t0 = time.perf_counter()
    cmp_, fitted = evaluate_models(
        pop.frame,
        pop.roles,
        split,
        make_models(pop.roles),
        oracle=pop.oracle,
        capacity=0.05,
        n_bootstrap=n_bootstrap,
    )
    seconds = time.perf_counter() - t0
    auc_gbm = cmp_.estimate("lightgbm", "roc_auc")
    auc_oracle = cmp_.estimate("oracle", "roc_auc")
    slope = cmp_.estimate("lightgbm", "calibration_slope")
    reach_gbm = cmp_.estimate("lightgbm", "recall_at_capacity")
    reach_rule = cmp_.estimate("five_plus_rule", "recall_at_capacity")
    diff = cmp_.difference("lightgbm", "recall_at_capacity")
    out = {
        "n_families": n,
        "n_train": int(len(split.train)),
        "n_test": int(len(split.test)),
        "seconds_fit_and_evaluate": round(seconds, 1),
        "lightgbm_roc_auc": auc_gbm,
        "oracle_roc_auc": auc_oracle,
        "auc_gap_to_oracle": auc_oracle[0] - auc_gbm[0],
        "lightgbm_calibration_slope": slope,
        "lightgbm_recall_at_5pct": reach_gbm,
        "five_plus_rule_recall_at_5pct": reach_rule,
        "lightgbm_minus_rule_recall_at_5pct": diff,
        "lightgbm_calibration": fitted["lightgbm"].calibration_report_,
        "table": cmp_.table.round(5).to_dict(orient="records"),
    }
    print(f"quality on {n:,} families (test {len(split.test):,}, {n_bootstrap} resamples):")
    print(f"  LightGBM ROC AUC   {auc_gbm[0]:.4f} ({auc_gbm[1]:.4f} to {auc_gbm[2]:.4f})")
    print(f"  oracle ROC AUC     {auc_oracle[0]:.4f}; gap {out['auc_gap_to_oracle']:.4f}")
    print(f"  calibration slope  {slope[0]:.3f} ({slope[1]:.3f} to {slope[2]:.3f})")
    print(f"  reached at 5%      LightGBM {reach_gbm[0]:.1%}, 5+ rule {reach_rule[0]:.1%}")
    print(f"  paired difference  {diff[0]:+.1%} ({diff[1]:+.1%} to {diff[2]:+.1%})")
    return out


def speed(n_big: int, n_naive: int, n_bootstrap: int) -> dict:
    pop = make_synthetic_population(n_big, random_state=1)
    y = pop.frame["escalated"].to_numpy()
    p = pop.oracle.to_numpy()
    t0 = time.perf_counter()
    est = point_estimates(y, p, p, 0.05)
    t1 = time.perf_counter()
    bootstrap_metrics(y, p, p, est, capacity=0.05, n_bootstrap=n_bootstrap, random_state=0)
    t2 = time.perf_counter()
    ys, ps = y[:n_naive], p[:n_naive]
    rng = np.random.default_rng(0)
    k = 20
    t3 = time.perf_counter()
    for _ in range(k):
        idx = rng.integers(0, n_naive, n_naive)
        point_estimates(ys[idx], ps[idx], ps[idx], 0.05)
    naive = (time.perf_counter() - t3) / k * n_bootstrap
    out = {
        "n_families": n_big,
        "n_bootstrap": n_bootstrap,
        "point_estimates_seconds": round(t1 - t0, 2),
        "bootstrap_seconds": round(t2 - t1, 2),
        "naive_n_families": n_naive,
        "naive_seconds_scaled_to_n_bootstrap": round(naive, 1),
    }
    print(f"bootstrap of all metrics, one model, {n_bootstrap} resamples:")
    print(f"  fast, {n_big:,} families: {t2 - t1:.1f} s (+ {t1 - t0:.1f} s point estimates)")
    print(f"  naive, {n_naive:,} families: {naive:.0f} s ({k} resamples timed, scaled)")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        q, s = quality(20_000, 200), speed(100_000, 10_000, 200)
    else:
        q, s = quality(100_000, 1000), speed(1_000_000, 100_000, 1000)
    if not args.quick:
        write_results("bench_models", {"quality": q, "speed": s})
    return 0


if __name__ == "__main__":
    sys.exit(main())

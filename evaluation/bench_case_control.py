"""Benchmark: the model of entry into care fitted on a case-control sample, against the
same model fitted on every training family.

    python evaluation/bench_case_control.py    # 300,000 (1 seed), 1,000,000 (3), 2,000,000 (2)
    python evaluation/bench_case_control.py --quick    # 100,000, 2 seeds

The study fits its model of entry into care (a rare outcome: about 0.5% of families) on
every entry into care in the training period and a seeded sample of the other families
(20 per entry, at least 200,000; below that every family is kept, as in the default
300,000-family run), each weighted by the inverse of its chance of being drawn
(``escalation_model.models.case_control_sample``). This script measures what the sample
costs: on the same test families, each published metric (ROC AUC, average precision,
Brier score, calibration slope) of the sampled fit against the full fit, next to the
half-width of the full fit's 95% bootstrap interval, and the fitting time of each. The
sample is justified where the change is small against that half-width: the interval the
card prints describes the published model, and the sample moves it by much less than
its own width. Results: evaluation/results/bench_case_control.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

import numpy as np
from _results import write_results

from escalation_model.config import load_config
from escalation_model.datasets import make_synthetic_population
from escalation_model.evaluation import evaluate_models, temporal_split
from escalation_model.models import case_control_sample, make_models

METRICS = ("roc_auc", "average_precision", "brier", "calibration_slope")


def one(n: int, seed: int) -> dict:
    config = load_config("training/configs/default.toml")
    pop = make_synthetic_population(n, random_state=seed)
    split = temporal_split(pop.frame, pop.roles)
    y = (pop.frame["outcome_level"].astype("string") == "looked_after").fillna(False)
    frame = pop.frame.assign(_entered_care=y.to_numpy().astype(np.int8))
    roles = replace(pop.roles, outcome="_entered_care")
    model = {
        "lightgbm": make_models(
            roles, calibrate=False, lightgbm_params=dict(config.models.lightgbm)
        )["lightgbm"]
    }
    common = dict(
        oracle=pop.oracle_looked_after,
        metrics=METRICS,
        n_bootstrap=1000,
        capacity=0.05,
        reference="lightgbm",
    )
    t0 = time.perf_counter()
    full, _ = evaluate_models(frame, roles, split, model, **common)
    t_full = time.perf_counter() - t0
    sample = case_control_sample(y.to_numpy()[split.train])
    t0 = time.perf_counter()
    sampled, _ = evaluate_models(
        frame,
        roles,
        replace(split, train=split.train[sample.rows]),
        model,
        train_weight=sample.weight,
        **common,
    )
    t_sampled = time.perf_counter() - t0
    out: dict = {
        "n_families": n,
        "seed": seed,
        "train_families": int(split.train.size),
        "train_entries_into_care": int(y.to_numpy()[split.train].sum()),
        "sampled_families": int(sample.rows.size),
        "seconds_full": round(t_full, 2),
        "seconds_sampled": round(t_sampled, 2),
    }
    for m in METRICS:
        est, lo, hi = full.estimate("lightgbm", m)
        s_est = sampled.estimate("lightgbm", m)[0]
        out[m] = {
            "full": est,
            "sampled": s_est,
            "change": s_est - est,
            "full_half_width": (hi - lo) / 2,
            "change_over_half_width": (s_est - est) / ((hi - lo) / 2),
            "oracle": full.estimate("oracle", m)[0],
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    plan = (
        [(100_000, range(2015, 2017))]
        if args.quick
        else [
            (300_000, range(2015, 2016)),
            (1_000_000, range(2015, 2018)),
            (2_000_000, range(2015, 2017)),
        ]
    )
    rows = []
    for n, seeds in plan:
        for seed in seeds:
            row = one(n, seed)
            rows.append(row)
            ratios = ", ".join(f"{m} {row[m]['change_over_half_width']:+.2f}" for m in METRICS)
            print(
                f"{n:>9,} seed {seed}: fit+evaluate {row['seconds_full']:.1f} s -> "
                f"{row['seconds_sampled']:.1f} s on {row['sampled_families']:,} of "
                f"{row['train_families']:,}; change / half-width: {ratios}",
                flush=True,
            )
    summary = {
        m: {
            "largest_abs_change_over_half_width": max(
                abs(r[m]["change_over_half_width"]) for r in rows
            ),
            "mean_change": float(np.mean([r[m]["change"] for r in rows])),
        }
        for m in METRICS
    }
    print(summary)
    if not args.quick:
        write_results("bench_case_control", {"runs": rows, "summary": summary})
    return 0


if __name__ == "__main__":
    sys.exit(main())

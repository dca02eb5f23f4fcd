"""Benchmark: the full fairness audit with 1,000 bootstrap resamples on 1,000,000 families.

    python evaluation/bench_fairness.py

The audit covers the four protected characteristics, deprivation quintile, lone-parent
household and ethnicity by deprivation quintile, at a capacity of 5%. It is timed next to
fairlearn's own bootstrap (MetricFrame with n_boot) on 50,000 families, timed on 20
resamples and scaled to 1,000. Results go to evaluation/results/bench_fairness.json.
"""

from __future__ import annotations

import sys
import time

from _results import write_results

from escalation_model.datasets import make_synthetic_population
from escalation_model.fairness import FairnessAudit, select_at_capacity, sensitive_features_from


def main() -> int:
    from fairlearn.metrics import (
        MetricFrame,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    pop = make_synthetic_population(1_000_000, random_state=4)
    y = pop.frame["escalated"].to_numpy()
    p = pop.oracle.to_numpy()
    sf = sensitive_features_from(pop.frame, pop.roles)
    t0 = time.perf_counter()
    audit = FairnessAudit(
        y,
        p,
        sf,
        intersections=[("child_ethnicity", "deprivation_quintile")],
        n_bootstrap=1000,
    )
    ours = time.perf_counter() - t0
    n_small, k = 50_000, 20
    sel = select_at_capacity(p[:n_small], 0.05).astype(int)
    t1 = time.perf_counter()
    for char in sf.columns:
        MetricFrame(
            metrics={
                "selection_rate": selection_rate,
                "tpr": true_positive_rate,
                "fpr": false_positive_rate,
                "fnr": false_negative_rate,
            },
            y_true=y[:n_small],
            y_pred=sel,
            sensitive_features=sf[char].to_numpy()[:n_small],
            n_boot=k,
            ci_quantiles=[0.025, 0.975],
            random_state=0,
        )
    theirs = (time.perf_counter() - t1) / k * 1000
    print(
        f"full audit, 1,000,000 families, 1,000 resamples: {ours:.1f} s "
        f"({len(audit.characteristics)} characteristics, {len(audit.by_group):,} group rows)"
    )
    print(
        f"fairlearn MetricFrame bootstrap, 4 threshold metrics, {n_small:,} families, "
        f"scaled to 1,000 resamples: {theirs:.0f} s"
    )
    write_results(
        "bench_fairness",
        {
            "audit_seconds_1m_1000_resamples": round(ours, 1),
            "fairlearn_seconds_50k_scaled_to_1000": round(theirs, 1),
            "characteristics": audit.characteristics,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: population-level SHAP summaries for 1,000,000 families.

    python evaluation/bench_explain.py

Fits the default LightGBM on a 1,000,000-family synthetic population (not timed), then
times explain_model on all of it: 10,000 sampled families for attributions, importance
with bootstrap intervals, means by segment, and interactions on 1,000 families with two or
more needs. Prints the time and the relative sampling error of the top ten importances.
Results go to evaluation/results/bench_explain.json.
"""

from __future__ import annotations

import sys
import time

from _results import write_results

from escalation_model.datasets import make_synthetic_population
from escalation_model.explain import explain_model
from escalation_model.models import make_models


def main() -> int:
    pop = make_synthetic_population(1_000_000, random_state=2015)
    model = make_models()["lightgbm"].fit(pop.frame, pop.frame["escalated"])
    t0 = time.perf_counter()
    ex = explain_model(model, pop.frame, pop.roles)
    seconds = time.perf_counter() - t0
    top = ex.importance.head(10)
    print(f"explain_model on 1,000,000 families: {seconds:.1f} s")
    print(
        top[["label", "mean_abs", "lower", "upper", "relative_se"]].round(4).to_string(index=False)
    )
    print(f"largest relative sampling error in the top ten: {top.relative_se.max():.1%}")
    print("\n".join(ex.summary()))
    write_results(
        "bench_explain",
        {
            "seconds_1m": round(seconds, 1),
            "max_relative_se_top10": round(float(top.relative_se.max()), 4),
            "top10": top[["feature", "mean_abs", "relative_se"]].round(5).to_dict(orient="records"),
            "summary": ex.summary(),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

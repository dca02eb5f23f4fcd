"""Does the effect-of-early-help estimator recover a planted effect? Replicates of the
synthetic world (escalation_model.impact.plant_early_help) on one population of 300,000
families, about 3,000 recipients chosen on observed risk, each replicate drawing receipt
and outcomes afresh:

- ``observed``: a 30% relative reduction, selection on observed risk only: bias (as a
  share of the effect) and coverage of the 95% interval of the doubly robust estimate
  (AIPW, cross-fitted) and of propensity score matching; the naive recipients-versus-
  others difference's bias beside them;
- ``unobserved``: the same with a confounder no record shows (1 log-odds per standard
  deviation on both receipt and escalation): how often the sensitivity analysis says the
  estimate could be explained away, or the interval covers the truth;
- ``by_band``: true reductions of 10%, 20%, 30%, 40% by Think Family band: how often the
  group intervals (Bonferroni over the bands) cover every band's true effect together.

    python evaluation/bench_impact.py                      # 200 / 100 / 100 replicates
    python evaluation/bench_impact.py --replicates 20 10 10 --name bench_impact_quick

Two worker processes. Writes evaluation/results/NAME.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from _results import population

os.environ.setdefault("OMP_NUM_THREADS", "1")

POPULATION, RECIPIENTS, SEED = 300_000, 3000, 2015
BANDS = {"0": 0.1, "1-2": 0.2, "3-4": 0.3, "5+": 0.4}


def _population() -> Any:
    return population(POPULATION, SEED)


def _replicate(job: tuple[str, int]) -> dict[str, Any]:
    from escalation_model.impact import estimate_att, match_att, naive_difference, plant_early_help

    scenario, r = job
    pop = _population()
    if scenario == "observed":
        w = plant_early_help(pop, recipients=RECIPIENTS, reduction=0.3, random_state=r)
        dr, psm = estimate_att(w.frame, pop.roles), match_att(w.frame, pop.roles)
        return {
            "truth": w.true_att,
            "dr": [dr.att, dr.lower, dr.upper],
            "psm": [psm.att, psm.lower, psm.upper],
            "naive": naive_difference(w.frame, pop.roles),
            "dr_balanced": dr.balanced,
            "recipients": w.recipients,
        }
    if scenario == "unobserved":
        w = plant_early_help(pop, recipients=RECIPIENTS, unobserved=1.0, random_state=r)
        dr = estimate_att(w.frame, pop.roles)
        return {
            "truth": w.true_att,
            "dr": [dr.att, dr.lower, dr.upper],
            "explained_away": dr.sensitivity.explained_away,
            "e_value_interval": dr.sensitivity.e_value_interval,
            "strongest_bias": dr.sensitivity.strongest_bias,
        }
    w = plant_early_help(pop, recipients=RECIPIENTS, reduction=BANDS, random_state=r)
    dr = estimate_att(w.frame, pop.roles, by="n_think_family_band")
    truth = w.true_by_band.set_index("band")["true_att"]
    g = dr.groups.set_index("group")
    covered = {b: bool(g.at[b, "lower"] <= truth[b] <= g.at[b, "upper"]) for b in truth.index}
    return {"covered": covered, "all_covered": all(covered.values())}


def _summary(scenario: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    if scenario == "observed":
        truth = np.array([r["truth"] for r in rows])
        out: dict[str, Any] = {"replicates": len(rows), "true_att_mean": float(truth.mean())}
        for m in ("dr", "psm"):
            est = np.array([r[m] for r in rows])
            out[m] = {
                "bias_share_of_effect": float(np.mean(est[:, 0] - truth) / abs(truth.mean())),
                "coverage": float(np.mean((est[:, 1] <= truth) & (truth <= est[:, 2]))),
                "mean_interval_width": float(np.mean(est[:, 2] - est[:, 1])),
            }
        naive = np.array([r["naive"] for r in rows])
        out["naive_bias_share_of_effect"] = float(np.mean(naive - truth) / abs(truth.mean()))
        out["dr_balanced_share"] = float(np.mean([r["dr_balanced"] for r in rows]))
        return out
    if scenario == "unobserved":
        truth = np.array([r["truth"] for r in rows])
        est = np.array([r["dr"] for r in rows])
        covers = (est[:, 1] <= truth) & (truth <= est[:, 2])
        away = np.array([r["explained_away"] for r in rows])
        return {
            "replicates": len(rows),
            "dr_bias_share_of_effect": float(np.mean(est[:, 0] - truth) / abs(truth.mean())),
            "dr_coverage": float(covers.mean()),
            "explained_away_or_covers": float(np.mean(away | covers)),
            "mean_e_value_interval": float(np.mean([r["e_value_interval"] for r in rows])),
        }
    bands = {b: float(np.mean([r["covered"].get(b, False) for r in rows])) for b in BANDS}
    return {
        "replicates": len(rows),
        "all_bands_covered": float(np.mean([r["all_covered"] for r in rows])),
        "each_band_covered": bands,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, nargs=3, default=[200, 100, 100])
    parser.add_argument("--name", default="bench_impact")
    args = parser.parse_args()
    scenarios = dict(zip(("observed", "unobserved", "by_band"), args.replicates, strict=True))
    jobs = [(s, r) for s, n in scenarios.items() for r in range(n)]
    started = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        rows = list(pool.map(_replicate, jobs, chunksize=4))
    results: dict[str, Any] = {
        "population": POPULATION,
        "recipients": RECIPIENTS,
        "seconds": round(time.perf_counter() - started, 1),
    }
    for s in scenarios:
        mine = [row for (sc, _), row in zip(jobs, rows, strict=True) if sc == s]
        results[s] = _summary(s, mine) if mine else None
    print(json.dumps(results, indent=2))
    out = Path(__file__).parent / "results" / f"{args.name}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

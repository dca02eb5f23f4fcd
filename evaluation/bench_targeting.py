"""Does targeting by expected benefit avert more escalations than targeting by risk?
Replicates of the synthetic world (escalation_model.impact.plant_early_help) on one
population of 300,000 families, about 3,000 recipients chosen on observed risk, each
replicate drawing receipt and outcomes afresh; the places are the default capacity (5%
of families). Every strategy is scored by the truth: the escalations it would avert,
the sum over the families it offers help of their true risk times their true reduction.

Worlds (true relative reductions by Think Family band 0, 1-2, 3-4, 5+):

- ``same``: 30% for every band (the effects do not differ);
- ``rising``: 10/20/30/40% (help works best where need is highest);
- ``falling``: 40/30/20/10%;
- ``none_at_5plus``: 30/30/30/0% (help does nothing once five or more needs are
  recorded: those families need statutory support).

For each: the escalations averted by risk alone (the cross-fitted risk without help),
by expected benefit (``compare_targeting``'s steps: band effects shrunk, used only where
Cochran's test finds they differ at the gate's level; 0.05 is the library's, 0.2 and
1.0, always, beside it), and by the oracles (true risk; true risk times true effect: the
most any targeting could do); how often the gate found the bands' effects different.

    python evaluation/bench_targeting.py                     # 50 replicates per world
    python evaluation/bench_targeting.py --replicates 4 --name bench_targeting_quick

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

POPULATION, RECIPIENTS, SEED, CAPACITY = 300_000, 3000, 2015, 0.05
WORLDS: dict[str, float | dict[str, float]] = {
    "same": 0.3,
    "rising": {"0": 0.1, "1-2": 0.2, "3-4": 0.3, "5+": 0.4},
    "falling": {"0": 0.4, "1-2": 0.3, "3-4": 0.2, "5+": 0.1},
    "none_at_5plus": {"0": 0.3, "1-2": 0.3, "3-4": 0.3, "5+": 0.0},
}
#: Levels of the heterogeneity gate compared (1.0: the shrunk band effects always used);
#: the library's is escalation_model.impact.HETEROGENEITY_ALPHA.
GATES = (0.05, 0.2, 1.0)


def _population() -> Any:
    return population(POPULATION, SEED)


def _top(score: np.ndarray, k: int) -> np.ndarray:
    pick = np.zeros(len(score), dtype=bool)
    pick[np.argsort(-score, kind="stable")[:k]] = True
    return pick


def _replicate(job: tuple[str, int]) -> dict[str, Any]:
    from escalation_model.impact import plant_early_help, targeting_effects
    from escalation_model.impact._estimate import MAX_PROPENSITY, _by_group, _nuisances
    from escalation_model.population import add_segments, benefit_score

    world, r = job
    pop = _population()
    w = plant_early_help(pop, recipients=RECIPIENTS, reduction=WORLDS[world], random_state=r)
    k = int(round(CAPACITY * len(w.frame)))
    # compare_targeting's steps, once, then the gate at each level
    t = w.frame["early_help"].to_numpy(dtype=int)
    y = w.frame[pop.roles.outcome].to_numpy(dtype=float)
    e, m0 = _nuisances(w.frame, pop.roles, t, y, "logistic", 2, r)
    e = np.clip(e, 1e-6, MAX_PROPENSITY)
    bands = add_segments(w.frame, pop.roles)["n_think_family_band"].astype(str).to_numpy()
    groups = _by_group(bands, t, y, m0, e / (1 - e))
    truth = w.true_risk * w.true_effect
    out: dict[str, Any] = {
        "risk_alone": float(truth[_top(m0, k)].sum()),
        "oracle_risk": float(truth[_top(w.true_risk, k)].sum()),
        "oracle_benefit": float(truth[_top(truth, k)].sum()),
    }
    for alpha in GATES:
        effects = targeting_effects(groups, alpha)
        score = benefit_score(m0, effects.reduction(bands))
        out[f"benefit_{alpha}"] = float(truth[_top(score, k)].sum())
        out[f"differ_{alpha}"] = bool(effects.differ)
    return out


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"replicates": len(rows)}
    for key in ("risk_alone", "oracle_risk", "oracle_benefit"):
        out[f"averted_{key}"] = round(float(np.mean([r[key] for r in rows])), 1)
    for alpha in GATES:
        gain = np.array([r[f"benefit_{alpha}"] - r["risk_alone"] for r in rows])
        se = float(gain.std(ddof=1) / np.sqrt(len(gain))) if len(gain) > 1 else float("nan")
        out[f"gate_{alpha}"] = {
            "averted_expected_benefit": round(
                float(np.mean([r[f"benefit_{alpha}"] for r in rows])), 1
            ),
            "gain_mean": round(float(gain.mean()), 1),
            "gain_95_interval": [
                round(gain.mean() - 1.96 * se, 1),
                round(gain.mean() + 1.96 * se, 1),
            ],
            "worse_than_risk_share": float(np.mean(gain < -1e-9)),
            "found_differences_share": float(np.mean([r[f"differ_{alpha}"] for r in rows])),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=50)
    parser.add_argument("--name", default="bench_targeting")
    args = parser.parse_args()
    jobs = [(world, r) for world in WORLDS for r in range(args.replicates)]
    started = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        rows = list(pool.map(_replicate, jobs, chunksize=2))
    results: dict[str, Any] = {
        "population": POPULATION,
        "recipients": RECIPIENTS,
        "places": int(round(CAPACITY * POPULATION)),
        "seconds": round(time.perf_counter() - started, 1),
    }
    for world in WORLDS:
        mine = [row for (w, _), row in zip(jobs, rows, strict=True) if w == world]
        results[world] = _summary(mine)
    print(json.dumps(results, indent=2))
    out = Path(__file__).parent / "results" / f"{args.name}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

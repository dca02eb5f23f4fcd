"""What disclosure control costs in utility: for each published population table, the mean
absolute change the protection (suppression, cell-key perturbation, rounding) makes to its
counts and expected figures, against the same table unprotected, over the cells both
publish.

    python evaluation/bench_disclosure.py [--families 20000 300000]

Writes ``evaluation/results/bench_disclosure.json``.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from _results import write_results

from escalation_model.datasets import make_synthetic_population
from escalation_model.population import add_segments, aggregate, family_keys
from escalation_model.study._population import expand_groupings

GROUPINGS = ["area", "deprivation_quintile", "n_think_family_band", "family_type"]
FIGURES = ("families", "expected", "observed")


def costs(n_families: int, seed: int = 3) -> dict[str, dict[str, float]]:
    pop = make_synthetic_population(n_families, random_state=seed)
    frame, roles = pop.frame, pop.roles
    proba = pop.oracle.to_numpy()
    seg = add_segments(frame, roles)
    keys = family_keys(frame, roles)
    out: dict[str, dict[str, float]] = {}
    for by in expand_groupings(GROUPINGS, roles):
        raw = aggregate(seg, proba, by, outcome=roles.outcome, disclosure=False)
        pub = aggregate(seg, proba, by, outcome=roles.outcome, keys=keys)
        entry: dict[str, float] = {"cells": float(len(raw))}
        entry["suppressed_share"] = float(pub["families"].isna().mean())
        for col in FIGURES:
            a, b = raw[col].to_numpy(dtype=float), pub[col].to_numpy(dtype=float)
            shown = ~np.isnan(b)
            entry[f"{col}_mean_abs_change"] = round(float(np.abs(a - b)[shown].mean()), 3)
            entry[f"{col}_mean_value"] = round(float(a[shown].mean()), 1)
        out[f"population_by_{by}.csv"] = entry
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--families", type=int, nargs="+", default=[20_000, 300_000])
    args = parser.parse_args()
    result = {"by_size": {str(n): costs(n) for n in args.families}}
    print(json.dumps(result, indent=2))
    write_results("bench_disclosure", result)


if __name__ == "__main__":
    main()

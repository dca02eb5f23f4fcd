"""Differencing attacks on whole runs: ``run`` on a synthetic population and again with one
family removed (the highest-scoring family of the test year), every published CSV and
summary.json read as an attacker would, and every figure that moved compared with the
removed family's score and outcome.

    python evaluation/bench_differencing.py [--families 20000 300000]

Writes ``evaluation/results/bench_differencing.json``: for each size, how many published
figures moved, whether any moved by the family's score to within 0.005, and whether any
count of families moved by exactly one (its outcome).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _results import write_results

from escalation_model._publish import COUNT_COLUMNS
from escalation_model.config import EvaluationConfig, ExplainConfig, RunConfig, SplitConfig
from escalation_model.datasets import fingerprint, make_synthetic_population
from escalation_model.schema import SchemaWarning
from escalation_model.study import StudyData, run_study


def _publish(frame: pd.DataFrame, roles, folder: Path, oracle) -> Path:
    config = RunConfig(
        split=SplitConfig(leave_one_authority_out=False),
        evaluation=EvaluationConfig(n_bootstrap=50),
        explain=ExplainConfig(sample_size=500, interaction_sample=0),
    )
    data = StudyData(frame, roles, "attack", fingerprint(frame), oracle=oracle)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SchemaWarning)
        run_study(config, data).write(folder)
    return folder


def _figures(folder: Path) -> dict[tuple[str, int, str], float]:
    out = {}
    for path in sorted(folder.glob("*.csv")):
        table = pd.read_csv(path)
        for col in table.select_dtypes("number").columns:
            for i, v in enumerate(table[col].to_numpy(dtype=float)):
                if not np.isnan(v):
                    out[(path.name, i, col)] = float(v)
    return out


def attack(n_families: int, seed: int = 11) -> dict:
    pop = make_synthetic_population(n_families, random_state=seed)
    frame, oracle = pop.frame.reset_index(drop=True), pop.oracle.reset_index(drop=True)
    # the family the attacker targets: the highest true risk among the latest year's
    latest = pd.to_datetime(frame["profile_date"]) >= pd.Timestamp("2015-01-01")
    target = int(oracle[latest].idxmax())
    with tempfile.TemporaryDirectory() as tmp:
        a = _publish(frame, pop.roles, Path(tmp) / "a", oracle)
        keep = np.arange(len(frame)) != target
        b = _publish(
            frame[keep].reset_index(drop=True),
            pop.roles,
            Path(tmp) / "b",
            oracle[keep].reset_index(drop=True),
        )
        fa, fb = _figures(a), _figures(b)
    moved = [(k, fa[k] - fb[k]) for k in fa.keys() & fb.keys() if fa[k] != fb[k]]
    score = float(oracle[target])
    near_score = [k for k, d in moved if abs(abs(d) - score) < 0.005]
    # a count of families (or escalations) that moved by exactly one gives an outcome away
    by_one = [k for k, d in moved if abs(abs(d) - 1) < 1e-9 and k[2] in COUNT_COLUMNS]
    return {
        "families": n_families,
        "removed_family_score": round(score, 4),
        "removed_family_escalated": int(frame.loc[target, "escalated"]),
        "figures_compared": len(fa.keys() & fb.keys()),
        "figures_moved": len(moved),
        "moved_by_the_score_within_0.005": [list(k) for k in near_score][:20],
        "moved_by_exactly_one": [list(k) for k in by_one][:20],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--families", type=int, nargs="+", default=[20_000, 300_000])
    args = parser.parse_args()
    result = {"by_size": [attack(n) for n in args.families]}
    print(json.dumps(result, indent=2))
    write_results("bench_differencing", result)


if __name__ == "__main__":
    main()

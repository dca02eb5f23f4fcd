"""The library's doubly robust ATT against the DoubleML package's (DoubleMLIRM, score
'ATTE') on the same synthetic world and the same kind of learners (logistic regressions on
the library's feature matrix): a reference implementation the library did not write.

    pip install doubleml   # not a dependency of the library
    python evaluation/compare_doubleml.py

Writes evaluation/results/compare_doubleml.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd


def main() -> None:
    import doubleml
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from escalation_model.datasets import make_synthetic_population
    from escalation_model.features import RolesEncoder
    from escalation_model.impact import estimate_att, plant_early_help

    pop = make_synthetic_population(300_000, random_state=2015)
    results = []
    for seed in (1, 2, 3):
        world = plant_early_help(pop, recipients=3000, reduction=0.3, random_state=seed)
        frame = world.frame
        started = time.perf_counter()
        ours = estimate_att(frame, pop.roles, random_state=seed)
        ours_s = time.perf_counter() - started
        X = RolesEncoder(pop.roles, include_protected=True).fit(frame).transform(frame)
        X = SimpleImputer(add_indicator=True, keep_empty_features=True).fit_transform(X)
        data = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
        data["y"] = frame[pop.roles.outcome].to_numpy(dtype=float)
        data["d"] = frame["early_help"].to_numpy(dtype=float)
        dml_data = doubleml.DoubleMLData(data, y_col="y", d_cols="d")

        def learner():
            return make_pipeline(
                SimpleImputer(add_indicator=True),
                StandardScaler(),
                LogisticRegression(max_iter=1000),
            )

        np.random.seed(seed)  # noqa: NPY002 (DoubleML draws its folds from numpy's global one)
        started = time.perf_counter()
        irm = doubleml.DoubleMLIRM(dml_data, learner(), learner(), n_folds=2, score="ATTE")
        irm.fit()
        theirs_s = time.perf_counter() - started
        row = {
            "seed": seed,
            "truth": world.true_att,
            "library": [ours.att, ours.lower, ours.upper],
            "doubleml": [float(irm.coef[0]), *map(float, irm.confint().iloc[0])],
            "library_seconds": round(ours_s, 1),
            "doubleml_seconds": round(theirs_s, 1),
        }
        print(row)
        results.append(row)
    out = Path(__file__).parent / "results" / "compare_doubleml.json"
    out.write_text(json.dumps({"doubleml": doubleml.__version__, "runs": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()

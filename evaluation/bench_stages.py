"""Benchmark: every stage of `escalation-model run`, at 100,000 and 1,000,000 families.

    python evaluation/bench_stages.py                  # both sizes, 3 repetitions each
    python evaluation/bench_stages.py --sizes 100000   # one size
    python evaluation/bench_stages.py --profile        # and where the time goes, by function
    python evaluation/bench_stages.py --sizes 8000000 --repeat 1 --name bench_stages_8m
    python evaluation/bench_stages.py --set evaluation.n_bootstrap=200 --name NAME
                                                       # a setting changed (any number)

Side by side in each child process, on the same families: the whole run, the project's
LightGBM fit and predict, a bare LightGBM (``LGBMClassifier``, 200 trees, on the same
encoded matrix) and ``mlflow.models.evaluate`` of that bare model on the test families
(what MLflow's own evaluation costs, for scale; it computes far less than the study). The
model is logged with the sklearn flavour (``LGBMClassifier`` is a scikit-learn estimator)
and evaluated with MLflow's default configuration, as the issue that set the targets
measured it: metrics, plots and SHAP, which MLflow computes with a tree explainer on 2,000
sampled families because it can reach the raw model through that flavour. Beside it,
the same evaluation without SHAP, and of the model logged with the lightgbm flavour
(whose pyfunc wrapper would get a permutation explainer taking minutes, so without SHAP):
``mlflow_evaluate_without_shap_seconds``.
With ``--profile`` one more repetition runs under cProfile (its times are inflated by
the profiler; the ranking is what it is for): the functions with the most cumulative and
own time are written beside the timings.

The work done, beside the time it took: ``cpu_seconds`` is the processor time the run
used (this process's threads and its forked processes: the interaction values and the
figures), by phase. Divided by the cores the run may use it is ``cpu_floor_seconds``, the
least time any schedule of that work could take on this machine; a target below it cannot
be met by running the same work in parallel, only by doing less of it.

Peak memory (``peak_rss_gb``) is the process's maximum resident size when the study has
finished (the data's generation included), before the side-by-side fits, which hold
their own matrices (``peak_rss_gb_with_side_by_side``: the process's at the end).
Each size runs three times, each in a fresh process (so its peak memory is its own); the
repetition with the median ratio is reported, with the ratios of all three. A repetition
runs the default configuration (training/configs/default.toml) on the synthetic population:
generation,
then run_study's stages, writing the outputs and card, and logging to a throwaway MLflow
store. Next to it, the time to fit the LightGBM model alone on the same training families
and predict every family (its test ROC AUC shows what the run's model, fitted on the earlier
80% of the training families, gives up by not refitting). Quality is reported against the
oracle. The tracking store is created before the clock starts (a new store's schema takes
about 2 s once; reported apart). Results are written to evaluation/results/bench_stages.json,
which the README quotes.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _results import write_results

CONFIG = Path(__file__).resolve().parents[1] / "training" / "configs" / "default.toml"


def _profiled(profiler: cProfile.Profile, top: int = 25) -> dict[str, list[dict]]:
    """The functions with the most cumulative time (the library's own) and the most own
    time (any), as rows of seconds."""
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = [
        {
            "function": f"{Path(file).name}:{line}({name})"
            if "escalation_model" not in file
            else f"{file.split('escalation_model/')[-1]}:{line}({name})",
            "library": "escalation_model" in file,
            "calls": calls,
            "own_seconds": round(own, 3),
            "cumulative_seconds": round(cum, 3),
        }
        for (file, line, name), (_, calls, own, cum, _) in stats.items()
    ]
    ours = [r for r in rows if r["library"]]
    return {
        "library_by_cumulative": sorted(ours, key=lambda r: -r["cumulative_seconds"])[:top],
        "all_by_own_time": sorted(rows, key=lambda r: -r["own_seconds"])[:top],
    }


def _side_by_side(data, split, tmp: str) -> dict:
    """A bare LightGBM on the project's encoded matrix, and mlflow.models.evaluate of it on
    the test families, timed on the same families as the run."""
    import mlflow
    import pandas as pd
    from lightgbm import LGBMClassifier

    from escalation_model.features import RolesEncoder

    frame = data.frame
    train = frame.iloc[split.train]
    X_all = RolesEncoder(data.roles).fit(train).transform(frame)  # the models' own matrix
    columns = [f"x{i}" for i in range(X_all.shape[1])]
    X_train = pd.DataFrame(X_all[split.train], columns=columns)
    t0 = time.perf_counter()
    bare = LGBMClassifier(n_estimators=200, verbose=-1).fit(X_train, train["escalated"])
    bare.predict_proba(pd.DataFrame(X_all, columns=columns))
    bare_seconds = time.perf_counter() - t0
    test = pd.DataFrame(X_all[split.test], columns=columns)
    test["label"] = frame["escalated"].to_numpy()[split.test]
    mlflow.set_tracking_uri(f"sqlite:///{tmp}/evaluate.db")
    mlflow.set_experiment("mlflow-evaluate-for-scale")
    # the types skops must trust to load a LightGBM estimator back (MLflow 3 refuses others)
    trusted = [
        "collections.OrderedDict",
        "lightgbm.basic.Booster",
        "lightgbm.sklearn.LGBMClassifier",
    ]

    def evaluate(log: Any, **config: Any) -> float:
        with mlflow.start_run():
            info = log(bare)
            t0 = time.perf_counter()
            mlflow.models.evaluate(
                info.model_uri,
                test,
                targets="label",
                model_type="classifier",
                evaluator_config=config,
            )
            return time.perf_counter() - t0

    evaluate_seconds = evaluate(
        lambda m: mlflow.sklearn.log_model(m, name="model", skops_trusted_types=trusted)
    )
    without_shap = evaluate(
        lambda m: mlflow.lightgbm.log_model(m, name="model"), log_model_explainability=False
    )
    return {
        "bare_lightgbm_fit_and_predict_seconds": round(bare_seconds, 1),
        "mlflow_evaluate_seconds": round(evaluate_seconds, 1),
        "mlflow_evaluate_without_shap_seconds": round(without_shap, 1),
    }


def _cpu() -> float:
    """Processor seconds so far: this process's threads and its waited-for children."""
    own, children = resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN
    return sum(
        u.ru_utime + u.ru_stime for u in (resource.getrusage(own), resource.getrusage(children))
    )


def _overrides(settings: list[str]) -> dict[str, dict[str, Any]]:
    """``--set section.key=value`` (the value in TOML) as ``{section: {key: value}}``."""
    import tomllib

    out: dict[str, dict[str, Any]] = {}
    for setting in settings:
        name, _, value = setting.partition("=")
        section, _, key = name.partition(".")
        if not (section and key and value):
            raise SystemExit(f"--set {setting}: expected section.key=value, as in the config")
        out.setdefault(section, {})[key] = tomllib.loads(f"v = {value}")["v"]
    return out


def _config(n: int, settings: list[str]) -> Any:
    """The default configuration at ``n`` families with ``--set``'s changes (validated as a
    configuration file's are)."""
    from escalation_model.config import load_config

    config = load_config(CONFIG)
    config = config.replace(data={**config.data.model_dump(), "n_families": n})
    for section, values in _overrides(settings).items():
        if section not in type(config).model_fields:
            raise SystemExit(f"--set {section}.*: the configuration has no [{section}] table")
        try:
            config = config.replace(
                **{section: {**getattr(config, section).model_dump(), **values}}
            )
        except ValueError as exc:  # pydantic's ValidationError is one
            raise SystemExit(f"--set {section}.*: {exc}") from None
    return config


def _one(n: int, profile: bool = False, settings: list[str] | None = None) -> dict:
    from escalation_model._threads import cores
    from escalation_model.evaluation import temporal_split
    from escalation_model.models import LightGBMRiskClassifier
    from escalation_model.study import load_study_data, run_study
    from escalation_model.tracking import log_study, tracked_run

    config = _config(n, settings or [])
    t0 = time.perf_counter()
    data = load_study_data(config)
    t_generate = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        store = f"sqlite:///{tmp}/mlflow.db"
        import os

        os.chdir(tmp)
        # MLflow creates the SQLite schema on a store's first use (once per store); that
        # one-off cost is timed apart from the run
        t0 = time.perf_counter()
        import mlflow

        mlflow.MlflowClient(tracking_uri=store).search_experiments()
        t_store = time.perf_counter() - t0
        profiler = cProfile.Profile() if profile else None
        if profiler is not None:
            profiler.enable()
        t1, c1 = time.perf_counter(), _cpu()
        with tracked_run(tracking_uri=store):
            result = run_study(config, data)
            t2, c2 = time.perf_counter(), _cpu()
            out = Path(tmp) / "out"
            out.mkdir()
            result.write(out)
            t3, c3 = time.perf_counter(), _cpu()
            log_study(result, out)
            t4, c4 = time.perf_counter(), _cpu()
        # the study's own peak (the data's generation included), before the side-by-side
        # fits below, which hold their own matrices
        peak_run = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        if profiler is not None:
            profiler.disable()
        split = temporal_split(data.frame, data.roles)
        side = _side_by_side(data, split, tmp)
    run_seconds = t4 - t1

    train = data.frame.iloc[split.train]
    params = dict(config.models.lightgbm)
    b0 = time.perf_counter()
    gbm = LightGBMRiskClassifier(**params).fit(train, train["escalated"])
    proba = gbm.predict_proba(data.frame)[:, 1]
    baseline = time.perf_counter() - b0
    test = data.frame.iloc[split.test]
    from sklearn.metrics import roc_auc_score

    baseline_auc = roc_auc_score(test["escalated"], proba[split.test])

    metrics = result.summary()["models"]["metrics"]
    return {
        "n_families": n,
        "generate_seconds": round(t_generate, 1),
        "stages_seconds": {
            **result.timings,
            "write_outputs_and_card": round(t3 - t2, 3),
            "mlflow_logging": round(t4 - t3, 3),
        },
        "run_seconds_from_loaded_frame": round(run_seconds, 1),
        "settings_changed": settings or [],
        "cpu_seconds": {
            "study": round(c2 - c1, 1),
            "write_outputs_and_card": round(c3 - c2, 1),
            "mlflow_logging": round(c4 - c3, 1),
            "total": round(c4 - c1, 1),
        },
        "cores": cores(),
        "cpu_floor_seconds": round((c4 - c1) / cores(), 1),
        "new_tracking_store_seconds": round(t_store, 1),
        "lightgbm_fit_and_predict_seconds": round(baseline, 1),
        "ratio_run_to_lightgbm": round(run_seconds / baseline, 2),
        **side,
        "ratio_run_to_mlflow_evaluate": round(run_seconds / side["mlflow_evaluate_seconds"], 2),
        "peak_rss_gb": round(peak_run, 2),
        "peak_rss_gb_with_side_by_side": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2
        ),
        "lightgbm_roc_auc": metrics["lightgbm"]["roc_auc"]["estimate"],
        "oracle_roc_auc": metrics["oracle"]["roc_auc"]["estimate"],
        "lightgbm_on_all_training_families_roc_auc": baseline_auc,
        "lightgbm_calibration_slope": metrics["lightgbm"]["calibration_slope"]["estimate"],
        "lightgbm_recall_at_capacity": metrics["lightgbm"]["recall_at_capacity"]["estimate"],
        "oracle_recall_at_capacity": metrics["oracle"]["recall_at_capacity"]["estimate"],
        **({"profile": _profiled(profiler)} if profiler is not None else {}),
    }


def _as_args(settings: list[str]) -> list[str]:
    return [a for s in settings for a in ("--set", s)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=3, help="repetitions per size (median reported)")
    ap.add_argument("--profile", action="store_true", help="one more repetition, profiled")
    ap.add_argument("--name", default="bench_stages", help="results file name (results/NAME.json)")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="change a setting of the default configuration (TOML value); repeatable",
    )
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--child-profile", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(_one(args.child, profile=args.child_profile, settings=args.set)))
        return 0
    for n in args.sizes:  # a wrong setting stops here, before any child starts
        _config(n, args.set)
    rows = []
    for n in args.sizes:
        reps = []
        for _ in range(args.repeat):
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(n), *_as_args(args.set)],
                capture_output=True,
                text=True,
                check=True,
            )
            reps.append(json.loads(out.stdout.strip().splitlines()[-1]))
        # the repetition with the median ratio, and the spread of all of them
        reps.sort(key=lambda r: r["ratio_run_to_lightgbm"])
        row = {
            **reps[len(reps) // 2],
            "repetitions": len(reps),
            "ratios_all_repetitions": [r["ratio_run_to_lightgbm"] for r in reps],
            "run_seconds_all_repetitions": [r["run_seconds_from_loaded_frame"] for r in reps],
        }
        if args.profile:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    str(n),
                    "--child-profile",
                    *_as_args(args.set),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            row["profile"] = json.loads(out.stdout.strip().splitlines()[-1])["profile"]
        rows.append(row)
        print(
            f"{n:,} families: generate {row['generate_seconds']} s; run from a loaded frame "
            f"{row['run_seconds_from_loaded_frame']} s = {row['ratio_run_to_lightgbm']} x "
            f"LightGBM fit+predict ({row['lightgbm_fit_and_predict_seconds']} s); peak "
            f"{row['peak_rss_gb']} GB; AUC {row['lightgbm_roc_auc']:.3f} vs oracle "
            f"{row['oracle_roc_auc']:.3f}; ratios over {len(reps)} repetitions "
            f"{row['ratios_all_repetitions']}; mlflow.models.evaluate "
            f"{row['mlflow_evaluate_seconds']} s (run = {row['ratio_run_to_mlflow_evaluate']} x), "
            f"bare LightGBM {row['bare_lightgbm_fit_and_predict_seconds']} s; "
            f"{row['cpu_seconds']['total']} processor seconds, so at least "
            f"{row['cpu_floor_seconds']} s on {row['cores']} cores"
        )
        for stage, seconds in row["stages_seconds"].items():
            print(f"    {stage:28s} {seconds:8.1f} s")
        for r in row.get("profile", {}).get("library_by_cumulative", [])[:15]:
            print(f"    {r['cumulative_seconds']:8.2f} s  {r['function']}")
    write_results(args.name, {"results": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""MLflow tracking: every run is an MLflow run; the chosen model is registered by alias.

Only aggregates are logged: the run's published tables and plots, metrics with their
interval bounds, parameters, the data's fingerprint and roles, and the code version. The
model is logged with a signature and an input example made up for the purpose (it holds no
family's data).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from .._provenance import code_version

__all__ = [
    "DEFAULT_TRACKING_URI",
    "code_version",
    "input_example",
    "load_registered_model",
    "log_study",
    "tracked_run",
]

#: The default store: a SQLite file in the working directory (artifacts in ./mlruns).
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
DEFAULT_EXPERIMENT = "escalation_model"
DEFAULT_MODEL_NAME = "escalation_model"
DEFAULT_ALIAS = "candidate"


def _mlflow() -> Any:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow

    return mlflow


@contextmanager
def tracked_run(
    *,
    tracking_uri: str | None = None,
    experiment: str = DEFAULT_EXPERIMENT,
    run_name: str | None = None,
) -> Iterator[Any]:
    """An MLflow run that is marked FAILED, with the error as a tag, if the body raises."""
    mlflow = _mlflow()
    mlflow.set_tracking_uri(tracking_uri or DEFAULT_TRACKING_URI)
    mlflow.set_experiment(experiment)
    run = mlflow.start_run(run_name=run_name)
    try:
        mlflow.set_tags({"escalation_model.version": code_version()})
        yield run
    except BaseException as exc:
        mlflow.set_tags(
            {"error": f"{type(exc).__name__}: {str(exc)[:4000]}", "status_reason": "failed"}
        )
        mlflow.end_run(status="FAILED")
        raise
    else:
        mlflow.end_run(status="FINISHED")


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, list | tuple):
        out[prefix] = json.dumps(value)
    else:
        out[prefix] = value


def input_example(model: Any, n: int = 2) -> pd.DataFrame:
    """A made-up input for the model's signature: indicator columns 0 and 1, the middle
    deprivation decile, the first level of any category. No family's data. Numbers are
    floats, so the signature accepts the missing ("not known") values real extracts have."""
    spec = getattr(model, "feature_spec_", None)
    if spec is None:
        return pd.DataFrame(np.zeros((n, model.n_features_in_)))
    data: dict[str, Any] = {}
    for col in spec.columns:
        if col in spec.categories:
            data[col] = [spec.categories[col][0]] * n
        elif spec.monotone[spec.names.index(col)] == -1:
            data[col] = [5.0] * n
        else:
            data[col] = [float(i % 2) for i in range(n)]
    return pd.DataFrame(data)


def log_study(
    result: Any,
    output_dir: str | Path,
    *,
    model_name: str = DEFAULT_MODEL_NAME,
    alias: str = DEFAULT_ALIAS,
) -> dict[str, Any]:
    """Log a finished study to the active MLflow run and register its model.

    Returns the run id, the registered model name, version and alias.
    """
    mlflow = _mlflow()
    from mlflow import MlflowClient
    from mlflow.models import infer_signature

    summary = result.summary()
    params: dict[str, Any] = {}
    _flatten("config", summary["config"], params)
    for name, hp in summary["models"].get("hyperparameters", {}).items():
        _flatten(f"model.{name}", hp, params)
    params["data.fingerprint_sha256"] = result.data_fingerprint
    params["data.source"] = result.data_source
    params["data.synthetic"] = result.is_synthetic
    mlflow.log_params({k: str(v)[:6000] for k, v in params.items()})
    mlflow.set_tags(
        {
            "data.fingerprint_sha256": result.data_fingerprint,
            "data.synthetic": str(result.is_synthetic),
            "intended_use": "population-level commissioning evidence; not decisions about "
            "individual families",
        }
    )
    metrics: dict[str, float] = {}
    for model, table in summary["models"].get("metrics", {}).items():
        for metric, v in table.items():
            for part in ("estimate", "lower", "upper"):
                key = f"{model}.{metric}" + ("" if part == "estimate" else f".{part}")
                metrics[key] = v[part]
    for model, table in summary["models"].get("differences_to_reference", {}).items():
        for metric, v in table.items():
            for part in ("difference", "lower", "upper"):
                suffix = "" if part == "difference" else f".{part}"
                metrics[f"{model}.minus_reference.{metric}{suffix}"] = v[part]
    mlflow.log_metrics({k: float(v) for k, v in metrics.items() if np.isfinite(v)})
    mlflow.log_dict({k: v for k, v in summary.items()}, "summary.json")
    mlflow.log_dict(result.roles_dict, "roles.json")
    out = Path(output_dir)
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.suffix in (".csv", ".png", ".json", ".md", ".html"):
            sub = path.parent.relative_to(out)
            mlflow.log_artifact(str(path), artifact_path=None if str(sub) == "." else str(sub))

    model = result.models["lightgbm"]
    example = input_example(model)
    signature = infer_signature(example, model.predict_proba(example)[:, 1])
    import skops.io as sio

    tmp = out / ".model-for-tracking.skops"
    sio.dump(model, tmp)
    trusted = sio.get_untrusted_types(file=tmp)
    tmp.unlink()
    info = mlflow.sklearn.log_model(
        model,
        name="model",
        serialization_format="skops",
        skops_trusted_types=trusted,
        signature=signature,
        input_example=example,
        registered_model_name=model_name,
        pip_requirements=[f"escalation-model=={__version__}", "scikit-learn", "lightgbm", "skops"],
    )
    version = info.registered_model_version
    MlflowClient().set_registered_model_alias(model_name, alias, version)
    return {
        "run_id": mlflow.active_run().info.run_id,
        "model_name": model_name,
        "model_version": version,
        "alias": alias,
        "model_uri": f"models:/{model_name}@{alias}",
    }


def load_registered_model(uri: str, *, tracking_uri: str | None = None) -> Any:
    """Load a registered model (``models:/NAME@ALIAS``) without trusting the types listed in
    the artifact itself: the skops file is checked against this library's own allow-list."""
    mlflow = _mlflow()
    from ..models import load_model

    mlflow.set_tracking_uri(tracking_uri or DEFAULT_TRACKING_URI)
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    files = sorted(local.rglob("*.skops"))
    if not files:
        raise FileNotFoundError(f"{uri} holds no skops model file")
    return load_model(files[0])

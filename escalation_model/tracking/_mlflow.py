"""MLflow tracking: every run is an MLflow run; the chosen model is registered by alias.

Only aggregates are logged: the run's published tables and plots, metrics with their
interval bounds, parameters, the data's fingerprint and roles, and the code version. The
model is logged with a signature and an input example made up for the purpose (it holds no
family's data).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .. import __version__
from .._errors import ModelFileError, TrackingError, interrupts_deferred, raise_if_interrupted
from .._escape import mlflow_text
from .._provenance import code_version
from ..models._example import input_example
from ._metrics import run_description, run_metrics, run_name
from ._registry import (
    ALIAS_POLICY,
    MODEL_DESCRIPTION,
    AliasDecision,
    RegistryFacts,
    decide_alias,
    describe_version,
    registry_facts,
)
from ._store import (
    OWNER_TAGS,
    error_tag,
    owner_tags,
    reap_dead_runs,
    sqlite_path,
    store_guard,
    store_lock,
)

__all__ = [
    "STORE_HOME_ENV",
    "absolute_store_uri",
    "check_before_run",
    "code_version",
    "default_tracking_uri",
    "input_example",
    "load_registered_model",
    "log_outputs",
    "log_study",
    "register_model",
    "open_store",
    "tracked_run",
]

#: The environment variable naming the folder of the default store.
STORE_HOME_ENV = "ESCALATION_MODEL_HOME"
DEFAULT_EXPERIMENT = "escalation_model"


def default_tracking_uri() -> str:
    """The default store: ``mlflow.db`` in ``$ESCALATION_MODEL_HOME``, else in
    ``~/.escalation_model`` (the same store from whichever folder a run starts; its
    artifacts in ``mlartifacts/`` beside it).

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {STORE_HOME_ENV: "/srv/em"}):
    ...     print(default_tracking_uri())
    sqlite:////srv/em/mlflow.db
    """
    home = os.environ.get(STORE_HOME_ENV) or str(Path.home() / ".escalation_model")
    return "sqlite:///" + str(Path(home).resolve() / "mlflow.db")


def absolute_store_uri(uri: str | None) -> str:
    """The store (:func:`default_tracking_uri` when ``None``) as a URI that works from
    any folder: a relative SQLite path made absolute, any other URI unchanged.

    >>> absolute_store_uri("sqlite:///mlflow.db") == "sqlite:///" + str(Path("mlflow.db").resolve())
    True
    >>> absolute_store_uri("http://localhost:5000")
    'http://localhost:5000'
    """
    uri = uri or default_tracking_uri()
    db = sqlite_path(uri)
    return uri if db is None else "sqlite:///" + str(db.resolve())


DEFAULT_MODEL_NAME = "escalation_model"
DEFAULT_ALIAS = "candidate"
#: The tag on the run and the model version holding the model file's SHA-256.
MODEL_SHA_TAG = "model.sha256"
INTENDED_USE = "population-level commissioning evidence; not decisions about individual families"


def _mlflow() -> Any:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow

    return mlflow


#: Tables every MLflow SQLite store has: a file without them is another application's.
_MLFLOW_TABLES = {"alembic_version", "experiments", "runs"}


def check_store_file(db: Path, uri: str) -> None:
    """Refuse, in seconds and without writing, a SQLite store path that is a folder, or a
    file that is not an MLflow store (another application's database, or not SQLite)."""
    import sqlite3

    if db.is_dir():
        raise TrackingError(
            f"tracking store {uri} is a folder, not a SQLite file. Fix: give a file path, "
            f"for example --tracking-uri sqlite:///{(db / 'mlflow.db').as_posix()}."
        )
    if not db.is_file() or db.stat().st_size == 0:
        return  # a new store: MLflow creates it
    try:
        with open(db, "rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise sqlite3.DatabaseError("not a SQLite file")
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            con.close()
    except sqlite3.Error:
        names = set()
    if not names >= _MLFLOW_TABLES:
        raise TrackingError(
            f"tracking store {uri} is a file that is not an MLflow store (another "
            "application's database, or not SQLite); nothing was written to it. Fix: give "
            "the path of an MLflow store, or of a new file."
        )


def check_before_run(config: Any, tracking_uri: str | None = None) -> None:
    """Everything MLflow would refuse at the end of a run, checked before it starts: the
    store (:func:`check_store_file`) and every parameter name the configuration becomes
    (a ``risk_reduction`` label MLflow rejects)."""
    db = sqlite_path(tracking_uri or default_tracking_uri())
    if db is not None:
        check_store_file(db, tracking_uri or default_tracking_uri())
    from mlflow.exceptions import MlflowException
    from mlflow.utils.validation import _validate_param_name

    params: dict[str, Any] = {}
    _flatten("config", config.to_dict(), params)
    for key in params:
        try:
            _validate_param_name(key)
        except MlflowException:
            setting = key.removeprefix("config.")
            raise TrackingError(
                f"the setting {setting!r} cannot be recorded by MLflow (names may hold "
                "letters, digits, spaces and _ - . : / only); nothing was run. Fix: rename "
                "it in the configuration, or run with --no-tracking."
            ) from None


def open_store(tracking_uri: str | None = None, *, create: bool = True) -> str:
    """Point MLflow at the store and return its URI; with ``create=False`` a SQLite store
    that does not exist is an error naming it (nothing is created). A relative SQLite
    path is made absolute first: MLflow keeps one store per URI for the life of the
    process, so ``sqlite:///mlflow.db`` would otherwise stay the first folder's store
    after a notebook (or a test) changed folder."""
    uri = absolute_store_uri(tracking_uri)
    db = sqlite_path(uri)
    if db is not None:
        check_store_file(db, uri)
    if not create and db is not None and not db.is_file():
        raise TrackingError(
            f"tracking store {uri} does not exist (looked for {db.resolve()}). Fix: give the "
            "store the run used, --tracking-uri sqlite:///PATH/mlflow.db (the default is "
            f"{default_tracking_uri()}; {STORE_HOME_ENV} moves it)."
        )
    _mlflow().set_tracking_uri(uri)
    return uri


def _experiment(mlflow: Any, name: str, uri: str) -> Any:
    """The experiment, created on first use with its artifacts beside a SQLite store
    (``mlartifacts/`` next to the file), not in ``./mlruns`` of whichever folder the
    first run started in."""
    client = mlflow.MlflowClient()
    if client.get_experiment_by_name(name) is None:
        db = sqlite_path(uri)
        location = None if db is None else str(db.resolve().parent / "mlartifacts")
        client.create_experiment(name, artifact_location=location)
    return mlflow.set_experiment(name)


@contextmanager
def tracked_run(
    *,
    tracking_uri: str | None = None,
    experiment: str = DEFAULT_EXPERIMENT,
    run_name: str | None = None,
) -> Iterator[Any]:
    """An MLflow run that ends FINISHED, FAILED (with the error as a tag) or KILLED (Ctrl-C
    or SIGTERM).

    The store is created and first used under a lock, so runs started together on a new
    store both succeed; RUNNING runs of this host whose process has died are marked KILLED
    first. Store errors are raised as one-line :class:`TrackingError` messages.
    """
    mlflow = _mlflow()
    uri = open_store(tracking_uri)
    run = None
    try:
        # the run is started inside the try: a stop request that lands between its start
        # and the body still ends it KILLED (else MLflow's exit hook would mark it FINISHED)
        with store_lock(uri), store_guard(uri, "starting a run"):
            exp = _experiment(mlflow, experiment, uri)
            # classic ML runs, so that the UI opens on the runs table (MLflow 3)
            mlflow.MlflowClient().set_experiment_tag(
                exp.experiment_id, "mlflow.experimentKind", "custom_model_development"
            )
            reap_dead_runs(mlflow.MlflowClient(), exp.experiment_id)
            # a stop request inside start_run (the run stored as RUNNING, not yet active
            # here) is held until it returns, then ends the run KILLED below
            with interrupts_deferred():
                run = mlflow.start_run(
                    run_name=run_name,
                    tags={"escalation_model.version": code_version(), **owner_tags()},
                )
        yield run
        raise_if_interrupted()
    except KeyboardInterrupt:
        if mlflow.active_run() is not None:
            with store_guard(uri, "recording the interrupted run"):
                mlflow.set_tag("status_reason", "killed: interrupted (Ctrl-C or SIGTERM)")
                mlflow.end_run(status="KILLED")
        raise
    except BaseException as exc:
        if mlflow.active_run() is not None:
            with store_guard(uri, "recording the failed run"):
                mlflow.set_tags({"error": error_tag(exc), "status_reason": "failed"})
                mlflow.end_run(status="FAILED")
        raise
    else:
        with store_guard(uri, "finishing the run"):
            _bookkeeping_last(mlflow)
            mlflow.end_run(status="FINISHED")


def _bookkeeping_last(mlflow: Any) -> None:
    """The owner tags, set first so that a dead run can be recognised, moved after the
    tags a team reads (the run page lists tags in the order they were set)."""
    client, run = mlflow.MlflowClient(), mlflow.active_run()
    tags = client.get_run(run.info.run_id).data.tags
    for key in OWNER_TAGS:
        if key in tags:
            client.delete_tag(run.info.run_id, key)
            client.set_tag(run.info.run_id, key, tags[key])


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, list | tuple):
        out[prefix] = json.dumps(value)
    else:
        out[prefix] = value


def log_study(
    result: Any,
    output_dir: str | Path,
    *,
    model_name: str = DEFAULT_MODEL_NAME,
    alias: str = DEFAULT_ALIAS,
) -> dict[str, Any]:
    """Log a finished study to the active MLflow run and register its model.

    Only the files listed in ``output_dir``'s manifest (written last by
    :meth:`StudyResult.write`) are logged. The registered model's SHA-256 is recorded on
    the run and the model version, and checked by :func:`load_registered_model`.

    Returns the run id, the registered model name, version and alias.
    """
    log_outputs(result, output_dir)
    return register_model(result, model_name=model_name, alias=alias)


def log_outputs(result: Any, output_dir: str | Path) -> None:
    """Log a study's summary, parameters and the files of ``output_dir``'s manifest to the
    active run (the first half of :func:`log_study`; nothing is registered)."""
    mlflow = _mlflow()
    with store_guard(mlflow.get_tracking_uri(), "logging the run"):
        _log_summary(mlflow, result, Path(output_dir))


def register_model(
    result: Any, *, model_name: str = DEFAULT_MODEL_NAME, alias: str = DEFAULT_ALIAS
) -> dict[str, Any]:
    """Register the primary model from the active run and move ``alias`` where the
    policy allows (the second half of :func:`log_study`). ``run`` calls it only once its
    output folder is in place, so a run whose outputs failed registers nothing."""
    mlflow = _mlflow()
    uri = mlflow.get_tracking_uri()
    with store_lock(uri), store_guard(uri, "registering the model"):
        return _register(mlflow, result, model_name=model_name, alias=alias)


def _log_summary(mlflow: Any, result: Any, out: Path) -> None:
    from .._outputs import read_manifest

    summary = result.study_summary()
    models = summary.models
    params: dict[str, Any] = {}
    _flatten("config", summary.config, params)
    for name, hp in (models.hyperparameters if models is not None else {}).items():
        _flatten(f"model.{name}", hp, params)
    params["data.fingerprint_sha256"] = result.data_fingerprint
    params["data.source"] = mlflow_text(result.data_source, 250)
    params["data.synthetic"] = result.is_synthetic
    mlflow.log_params({k: str(v)[:6000] for k, v in params.items()})
    mlflow.set_tags(
        {
            "data.fingerprint_sha256": result.data_fingerprint,
            "data.synthetic": str(result.is_synthetic),
            "intended_use": INTENDED_USE,
        }
    )
    mlflow.set_tag("mlflow.note.content", run_description(result))
    mlflow.set_tag("mlflow.runName", run_name(result))
    _log_dataset(mlflow, result)
    mlflow.log_dict(result.roles_dict, "roles.json")
    files = read_manifest(out)
    if not files:
        raise TrackingError(
            f"{out} has no manifest.json, so what to log is not known. Fix: write the "
            "outputs with StudyResult.write (it writes the manifest last) before log_study."
        )
    for rel in [*files, "manifest.json"]:
        if rel.endswith(".skops"):
            continue  # the model is logged as an MLflow model, below
        sub = str(Path(rel).parent)
        mlflow.log_artifact(str(out / rel), artifact_path=None if sub == "." else sub)


def _log_metrics(mlflow: Any, result: Any, model_id: str) -> None:
    """The run's metrics, logged after the model so that only the registered model's own
    (``PRIMARY.*``) are attached to it: MLflow links every metric already on the run to a
    model when it is logged, which put the rules' and the oracle's on LightGBM's. The
    model's own go first: the run page lists metrics in the order they were logged."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    metrics = run_metrics(result)
    own = {k: v for k, v in metrics.items() if k.startswith(f"{result.config.models.primary}.")}
    run_id = mlflow.active_run().info.run_id
    now = int(time.time() * 1000)
    mlflow.log_metrics(own, model_id=model_id)
    # the client, not mlflow.log_metrics: the fluent call links a run's new metrics to the
    # models it has logged at the same step
    MlflowClient().log_batch(
        run_id,
        metrics=[Metric(k, v, now, 0) for k, v in metrics.items() if k not in own],
    )


def _log_dataset(mlflow: Any, result: Any) -> None:
    """The data as an MLflow dataset: its description and fingerprint only (no row,
    value or column of any family leaves memory)."""
    from mlflow.data.code_dataset_source import CodeDatasetSource
    from mlflow.data.meta_dataset import MetaDataset

    source = CodeDatasetSource(tags={"data.source": mlflow_text(result.data_source, 250)})
    dataset = MetaDataset(source, name="families", digest=result.data_fingerprint[:32])
    mlflow.log_input(dataset, context="training and test")


def _register(mlflow: Any, result: Any, *, model_name: str, alias: str) -> dict[str, Any]:
    import tempfile

    from mlflow import MlflowClient
    from mlflow.models import infer_signature

    from ..models import file_sha256
    from ..models._persist import ALLOWED_NODES

    raise_if_interrupted()  # never register a model from a run asked to stop
    model = result.models[result.config.models.primary]
    example = input_example(model)
    signature = infer_signature(example, model.predict_proba(example)[:, 1])
    info = mlflow.sklearn.log_model(
        model,
        name="model",
        serialization_format="skops",
        skops_trusted_types=sorted({t for _, t in ALLOWED_NODES}),
        signature=signature,
        input_example=example,
        registered_model_name=model_name,
        pip_requirements=[f"escalation-model=={__version__}", "scikit-learn", "lightgbm", "skops"],
    )
    _log_metrics(mlflow, result, info.model_id)
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=info.model_uri, dst_path=tmp))
        sha = file_sha256(_skops_file(local, info.model_uri))
    version = info.registered_model_version
    client = MlflowClient()
    run_id = mlflow.active_run().info.run_id
    client.set_tag(run_id, MODEL_SHA_TAG, sha)
    client.set_model_version_tag(model_name, version, MODEL_SHA_TAG, sha)
    decision = _describe_and_alias(client, result, model_name, version, alias, run_id)
    return {
        "run_id": run_id,
        "model_name": model_name,
        "model_version": version,
        "alias": alias if decision.move else None,
        "alias_reason": decision.reason,
        "model_uri": f"models:/{model_name}@{alias}"
        if decision.move
        else f"models:/{model_name}/{version}",
        "model_sha256": sha,
    }


def _describe_and_alias(
    client: Any, result: Any, model_name: str, version: str, alias: str, run_id: str
) -> AliasDecision:
    """Describe and tag the version; move ``alias`` to it only where the policy allows
    (:mod:`._registry`), and record why on the run either way."""
    from mlflow.exceptions import MlflowException

    facts = registry_facts(result)
    tags = {
        **facts.tags(),
        "data.fingerprint_sha256": result.data_fingerprint,
        "data.synthetic": str(result.is_synthetic),
        "intended_use": INTENDED_USE,
        "model_card": f"runs:/{run_id}/model_card.html",
    }
    for key, value in tags.items():
        client.set_model_version_tag(model_name, version, key, value)
    client.update_model_version(
        model_name, version, description=describe_version(result, facts, run_id)
    )
    client.set_registered_model_tag(model_name, "intended_use", INTENDED_USE)
    client.set_registered_model_tag(
        model_name, "alias_policy", "in the description, with which version holds which alias"
    )
    try:
        held = client.get_model_version_by_alias(model_name, alias)
        current = RegistryFacts.from_tags(dict(held.tags))
    except MlflowException:
        held, current = None, None
    decision = decide_alias(facts, current, alias)
    if decision.move:
        client.set_registered_model_alias(model_name, alias, version)
        client.set_model_version_tag(model_name, version, f"registry.{alias}", decision.reason)
    holder = version if decision.move else (held.version if held is not None else None)
    why = decision.reason if decision.move else (held.tags or {}).get(f"registry.{alias}", "")
    client.update_registered_model(model_name, description=registry_description(alias, holder, why))
    client.set_tag(run_id, f"registry.{alias}", decision.reason)
    return decision


def registry_description(alias: str, holder: str | None, why: str) -> str:
    """The registered model's description: what it is for, which version holds ``alias``
    and why, and the alias policy in full (a tag's text is cut off in the UI).

    >>> text = registry_description("candidate", "3", "comparable and not worse")
    >>> "**'candidate' is version 3**: comparable and not worse." in text
    True
    >>> text.endswith("(see the README's MLflow section).")
    True
    """
    held = (
        f"**'{alias}' is version {holder}**" + (f": {why}." if why else ".")
        if holder is not None
        else f"No version holds '{alias}'."
    )
    return f"{MODEL_DESCRIPTION}\n\n{held}\n\n**Alias policy.** {ALIAS_POLICY}"


def _skops_file(local: Path, uri: str) -> Path:
    files = sorted(local.rglob("*.skops")) if local.is_dir() else [local]
    if len(files) != 1 or files[0].suffix != ".skops":
        raise ModelFileError(
            f"{uri} holds {len(files)} skops model files, not one. Fix: register the model "
            "with `escalation-model run`."
        )
    return files[0]


def _registered_version(client: Any, uri: str) -> Any:
    """The model version a ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION`` URI names."""
    rest = uri.removeprefix("models:/")
    if "@" in rest:
        name, alias = rest.split("@", 1)
        return client.get_model_version_by_alias(name, alias)
    name, _, version = rest.partition("/")
    if not version.isdigit():
        raise ModelFileError(
            f"{uri} names no version or alias. Fix: use models:/NAME@ALIAS or "
            "models:/NAME/VERSION, for example models:/escalation_model@candidate."
        )
    return client.get_model_version(name, version)


def load_registered_model(uri: str, *, tracking_uri: str | None = None) -> Any:
    """Load a registered model (``models:/NAME@ALIAS``) safely.

    The artifact's SHA-256 must equal the one recorded on the model version when it was
    registered (a file swapped in the artifact store is refused), and the file is then
    loaded with this library's exact allow-list, never the types listed in the artifact.
    """
    import tempfile

    mlflow = _mlflow()
    from ..models import file_sha256, load_model

    store = open_store(tracking_uri, create=False)
    with store_guard(store, f"finding {uri}"):
        version = _registered_version(mlflow.MlflowClient(), uri)
    expected = (version.tags or {}).get(MODEL_SHA_TAG)
    if not expected:
        raise ModelFileError(
            f"{uri} (version {version.version}) has no recorded SHA-256, so it cannot be "
            "checked. Fix: register it again with `escalation-model run`."
        )
    with tempfile.TemporaryDirectory() as tmp:
        with store_guard(store, f"downloading {uri}"):
            local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp))
        path = _skops_file(local, uri)
        if file_sha256(path) != expected:
            raise ModelFileError(
                f"{uri} (version {version.version}): the model file's SHA-256 differs from the "
                "one recorded when it was registered, so it was changed afterwards; it was "
                "not loaded. Fix: register a model again with `escalation-model run`."
            )
        return load_model(path)

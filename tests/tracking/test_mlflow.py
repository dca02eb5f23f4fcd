from __future__ import annotations

import warnings

import numpy as np
import pytest

from escalation_model.cli import main
from escalation_model.config import RunConfig, load_config
from escalation_model.datasets import make_synthetic_population
from escalation_model.study import run_study
from escalation_model.tracking import input_example, load_registered_model, log_study, tracked_run

pytest.importorskip("mlflow")


#: The explanation is not what these tests check: a small sample, no interactions.
LIGHT_EXPLAIN = "[explain]\nsample_size = 500\ninteraction_sample = 0\n"


@pytest.fixture()
def store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def _config(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text(
        "[data]\nn_families = 20000\nseed = 4\n[evaluation]\nn_bootstrap = 50\n"
        "[split]\nleave_one_authority_out = false\n" + LIGHT_EXPLAIN
    )
    return load_config(cfg)


def test_registered_model_reloads_with_identical_predictions(tmp_path, store):
    import mlflow

    config = _config(tmp_path)
    with tracked_run(tracking_uri=store) as run:
        result = run_study(config)
        out = tmp_path / "out"
        out.mkdir()
        result.write(out)
        info = log_study(result, out)
    assert info["model_uri"] == "models:/escalation_model@candidate"
    model = load_registered_model(info["model_uri"], tracking_uri=store)
    families = make_synthetic_population(3000, random_state=99).frame
    np.testing.assert_array_equal(
        model.predict_proba(families), result.models["lightgbm"].predict_proba(families)
    )
    finished = mlflow.get_run(run.info.run_id)
    assert finished.info.status == "FINISHED"
    m = finished.data.metrics
    assert m["lightgbm.roc_auc.lower"] < m["lightgbm.roc_auc"] < m["lightgbm.roc_auc.upper"]
    # MLflow publishes exactly the summary's published figures: no exact metric that a
    # rounded count could be solved from (recall at capacity is a ratio of rounded counts)
    models = result.summary()["models"]
    published = {}
    for key, part in (("metrics", "estimate"), ("differences_to_reference", "difference")):
        for model, table in models[key].items():
            for metric, v in table.items():
                group = "" if model == "lightgbm" else "compared/"  # the primary's first
                name = (
                    f"{group}{model}.minus_reference.{metric}"
                    if part == "difference"
                    else (f"{group}{model}.{metric}")
                )
                published |= {
                    name: v[part],
                    f"{name}.lower": v["lower"],
                    f"{name}.upper": v["upper"],
                }
    findings = ("fairness.", "transfer.", "demand.", "looked_after.")
    assert {k: v for k, v in m.items() if not k.startswith(findings)} == {
        k: v for k, v in published.items() if v is not None
    }
    # the study's findings, for comparing runs: fairness, demand, entries into care
    assert m["fairness.findings.within_tolerance"] >= 1
    assert m["demand.expected_escalations.lower"] <= m["demand.expected_escalations"]
    assert m["looked_after.expected_entries"] > 0
    curve = result.summary()["population"]["capacity_curve"]
    assert m["demand.recommended_places"] == curve["recommended_places"]
    assert m["demand.recommended_places"] % 5 == 0
    escalations = models["test_escalations"]
    reached = m["lightgbm.recall_at_capacity"] * escalations / 5
    assert reached == pytest.approx(round(reached), abs=1e-6)  # a multiple of 5 families
    assert finished.data.params["data.fingerprint_sha256"] == result.data_fingerprint
    assert "escalation_model.version" in finished.data.tags
    assert "ROC AUC" in finished.data.tags["mlflow.note.content"]
    # the logged model carries its own metrics only, not the rules' or the oracle's
    (logged,) = mlflow.search_logged_models(
        experiment_ids=[finished.info.experiment_id],
        filter_string=f"source_run_id = '{run.info.run_id}'",
        output_format="list",
    )
    own = {x.key for x in logged.metrics}
    assert own == {k for k in m if k.startswith("lightgbm.")}
    assert "compared/five_plus_rule.roc_auc" in m
    assert "compared/five_plus_rule.roc_auc" not in own
    # the run page lists metrics in the order logged: the primary's headline figures first
    history = mlflow.MlflowClient().get_run(run.info.run_id).data.metrics
    first = [k for k in history if not k.startswith(("compared/", "fairness", "demand"))][:12]
    assert first[:3] == ["lightgbm.roc_auc", "lightgbm.roc_auc.lower", "lightgbm.roc_auc.upper"]
    assert {"lightgbm.calibration_slope", "lightgbm.recall_at_capacity"} <= set(first)
    assert finished.data.tags["mlflow.runName"].startswith("20k families to ")
    (dataset,) = finished.inputs.dataset_inputs
    assert dataset.dataset.digest == result.data_fingerprint[:32]
    client = mlflow.MlflowClient()
    experiment = client.get_experiment(finished.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    version = client.get_model_version("escalation_model", info["model_version"])
    assert "ROC AUC" in version.description and version.tags["intended_use"]
    assert version.tags["data.fingerprint_sha256"] == result.data_fingerprint
    assert "commissioning" in client.get_registered_model("escalation_model").description
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id)}
    assert {"summary.json", "roles.json", "model_comparison.csv", "plots"} <= artifacts
    assert not any(a.endswith(".skops") for a in artifacts)


def test_failed_run_is_recorded_as_failed(tmp_path, store):
    import mlflow

    from escalation_model.schema import Problem, SchemaError

    with pytest.raises(SchemaError), tracked_run(tracking_uri=store) as run:
        raise SchemaError([Problem("x", "the extract could not be read", "read it again")])
    failed = mlflow.get_run(run.info.run_id)
    assert failed.info.status == "FAILED"
    assert "could not be read" in failed.data.tags["error"]
    # another library's message might quote data (a family id): only its type is kept
    with pytest.raises(KeyError), tracked_run(tracking_uri=store) as run:
        raise KeyError("FAM-000123")
    failed = mlflow.get_run(run.info.run_id)
    assert failed.info.status == "FAILED"
    assert "KeyError" in failed.data.tags["error"]
    assert "FAM-000123" not in str(failed.data.tags)


def test_candidate_moves_only_to_a_comparable_run_that_is_not_worse(tmp_path, store, capsys):
    """A full run, then a small trial run in the same store: the trial becomes a version,
    but 'candidate' stays on the full run, and the trial run says why."""
    import mlflow

    def run(n: int, out: str) -> str:
        cfg = tmp_path / f"run{n}.toml"
        cfg.write_text(
            f"[data]\nn_families = {n}\nseed = 4\n[evaluation]\nn_bootstrap = 30\n"
            "[split]\nleave_one_authority_out = false\n"
            "[explain]\nsample_size = 500\ninteraction_sample = 0\n"
        )
        args = ["run", "--config", str(cfg), "--output", out, "--tracking-uri", store]
        assert main(args) == 0
        return capsys.readouterr().out

    run(20_000, "full")
    said = run(10_000, "trial")
    assert "models:/escalation_model/2" in said and "'candidate' stays" in said
    client = mlflow.MlflowClient()
    assert str(client.get_model_version_by_alias("escalation_model", "candidate").version) == "1"
    (trial,) = mlflow.search_runs(
        filter_string="attributes.run_name LIKE '10k families%'", output_format="list"
    )
    assert "fewer than 80%" in trial.data.tags["registry.candidate"]
    # the runs table tells the two apart by their names alone
    assert trial.info.run_name.startswith("10k families to ")
    (full,) = mlflow.search_runs(
        filter_string="attributes.run_name LIKE '20k families%'", output_format="list"
    )
    assert full.info.run_name.replace("20k", "10k") == trial.info.run_name
    assert len(trial.info.run_name) <= 60
    # the registered model says which version is 'candidate' and why, and the whole policy
    described = client.get_registered_model("escalation_model").description
    assert "**'candidate' is version 1**: " in described
    assert "README's MLflow section" in described
    _check_registry_through_rest(store)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _check_registry_through_rest(store: str) -> None:
    """What the MLflow UI shows, read through MLflow's REST API from a real server: the
    registered model and each version carry a description and tags, and the experiment
    is typed for classic ML runs (so the UI opens on its runs table)."""
    import json
    import os
    import subprocess
    import sys
    import time
    import urllib.parse
    import urllib.request

    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            store,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # no job runner beside the server (half its start-up: 11 s of CPU to 6)
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
    )
    base = f"http://127.0.0.1:{port}"

    def get(path: str, **params: str) -> dict:
        url = f"{base}/api/2.0/mlflow/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())

    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        model = get("registered-models/get", name="escalation_model")["registered_model"]
        assert "commissioning" in model["description"]
        assert {t["key"] for t in model.get("tags", [])} >= {"intended_use", "alias_policy"}
        assert {a["alias"] for a in model["aliases"]} == {"candidate"}
        for version in ("1", "2"):
            v = get("model-versions/get", name="escalation_model", version=version)
            v = v["model_version"]
            tags = {t["key"]: t["value"] for t in v["tags"]}
            assert v["description"], version
            assert len(tags["data.fingerprint_sha256"]) == 64
            assert {"intended_use", "model_card", "primary.roc_auc"} <= tags.keys(), tags
            assert float(tags["primary.roc_auc.lower"]) < float(tags["primary.roc_auc"])
        experiment = get("experiments/get-by-name", experiment_name="escalation_model")
        kinds = {t["key"]: t["value"] for t in experiment["experiment"]["tags"]}
        assert kinds["mlflow.experimentKind"] == "custom_model_development"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_input_example_holds_no_family(small_population):
    from escalation_model.models import LightGBMRiskClassifier

    f = small_population.frame
    model = LightGBMRiskClassifier(n_estimators=10).fit(f, f["escalated"])
    ex = input_example(model)
    assert "family_id" not in ex.columns
    assert set(ex["domestic_abuse"]) <= {0, 1}
    assert model.predict_proba(ex).shape == (2, 2)
    # numbers are doubles, so the signature admits "not known" (NaN) values, and MLflow
    # has no integer-column hint to print
    from mlflow.models import infer_signature

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        signature = infer_signature(ex, model.predict_proba(ex)[:, 1])
    types = {c.name: c.type.name for c in signature.inputs.inputs}
    assert types["domestic_abuse"] == "double" and types["deprivation_decile"] == "double"


def test_default_config_is_valid():
    assert load_config("training/configs/default.toml").evaluation.capacity == 0.05
    assert isinstance(RunConfig(), RunConfig)


def test_a_logistic_primary_model_runs_end_to_end(tmp_path, store, capsys):
    import json

    from escalation_model.models import LogisticRiskClassifier, load_model

    cfg = tmp_path / "run.toml"
    cfg.write_text(
        "[data]\nn_families = 20000\nseed = 4\n[evaluation]\nn_bootstrap = 50\n"
        "[models]\nprimary = 'logistic'\n[split]\ntransfer_n_bootstrap = 50\n" + LIGHT_EXPLAIN
    )
    assert main(["run", "--config", str(cfg), "--output", "out", "--tracking-uri", store]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["fairness"]["model"] == "logistic"
    assert summary["explanations"]["model"] == "logistic"
    assert {"logistic", "five_plus_rule"} == set(summary["models"]["transfer"][0]["metrics"])
    assert isinstance(load_model(tmp_path / "out" / "model.skops"), LogisticRiskClassifier)
    card = (tmp_path / "out" / "model_card.md").read_text()
    assert "The logistic regression model is the one audited" in card
    model = load_registered_model("models:/escalation_model@candidate", tracking_uri=store)
    assert isinstance(model, LogisticRiskClassifier)


def test_the_default_store_is_one_documented_folder_whatever_the_working_folder(
    tmp_path, monkeypatch
):
    """No --tracking-uri: the store is mlflow.db in $ESCALATION_MODEL_HOME, its artifacts
    beside it; the folder the run started in gets nothing (no ./mlruns, no mlflow.db)."""
    import mlflow

    from escalation_model.tracking import STORE_HOME_ENV, absolute_store_uri

    home = tmp_path / "home"
    monkeypatch.setenv(STORE_HOME_ENV, str(home))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    note = tmp_path / "note.txt"
    note.write_text("an aggregate")
    with tracked_run() as run:
        mlflow.log_artifact(str(note))
        mlflow.set_tag("data.synthetic", "True")
    assert list(work.iterdir()) == []
    # the store's bookkeeping is listed after the tags a team reads
    from escalation_model.tracking._store import OWNER_TAGS

    tags = [k for k in mlflow.get_run(run.info.run_id).data.tags if not k.startswith("mlflow.")]
    assert tags[-3:] == list(OWNER_TAGS) and tags.index("data.synthetic") < len(tags) - 3
    assert absolute_store_uri(None) == f"sqlite:///{home.resolve() / 'mlflow.db'}"
    assert (home / "mlflow.db").is_file()
    (logged,) = (home / "mlartifacts").rglob("note.txt")
    assert run.info.run_id in str(logged)


def test_a_relative_store_is_the_current_folder_s_after_a_change_of_folder(tmp_path, monkeypatch):
    """MLflow keeps one store per URI in a process: the same relative SQLite URI in a
    second folder must not reach the first folder's store."""
    import mlflow

    from escalation_model.tracking._mlflow import open_store

    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        uri = open_store("sqlite:///mlflow.db")
        assert uri == f"sqlite:///{tmp_path / name / 'mlflow.db'}"
        mlflow.MlflowClient().create_experiment(f"made in {name}")
    names = {e.name for e in mlflow.MlflowClient().search_experiments()}
    assert "made in second" in names and "made in first" not in names

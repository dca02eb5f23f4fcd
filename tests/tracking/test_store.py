"""The tracking store under concurrent, killed and interrupted runs, tampered models, and
what a completed tracked run gives (the card rebuilt, score from the registry, a failed
final swap). These start real ``escalation-model run`` processes, or one's copy."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from escalation_model.cli import main

from ._runs import _start, _statuses, _wait_running

pytest.importorskip("mlflow")


def test_the_copied_store_points_at_its_own_artifacts(completed):
    with sqlite3.connect(completed / "mlflow.db") as con:
        uris = [r[0] for r in con.execute("select artifact_uri from runs")]
        locations = [r[0] for r in con.execute("select storage_location from model_versions")]
    assert uris and locations
    assert all(u.startswith(str(completed)) for u in uris + locations)


def test_two_runs_started_together_on_a_new_store_both_finish(tmp_path):
    a, b = _start(tmp_path, "out_a"), _start(tmp_path, "out_b")
    results = [p.communicate(timeout=600) + (p.returncode,) for p in (a, b)]
    for _, err, code in results:
        assert code == 0, err
        assert "Traceback" not in err
    assert _statuses(tmp_path / "mlflow.db") == ["FINISHED", "FINISHED"]
    with sqlite3.connect(tmp_path / "mlflow.db") as con:
        versions = [r[0] for r in con.execute("select version from model_versions")]
    assert sorted(versions) == [1, 2]


def test_a_killed_run_is_marked_killed_and_never_replaces_the_last_complete_folder(completed):
    tmp_path = completed  # a completed run is there already
    manifest = (tmp_path / "out" / "manifest.json").read_bytes()
    victim = _start(tmp_path, "out")
    _wait_running(tmp_path / "mlflow.db", victim)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=60)
    assert _statuses(tmp_path / "mlflow.db") == ["FINISHED", "RUNNING"]
    assert (tmp_path / "out" / "manifest.json").read_bytes() == manifest  # untouched
    # the killed run's files, if it had written any yet, are only in its hidden partial
    # folder (the run is recorded before the folder is made, so it may have none)
    partials = list(tmp_path.glob(".out.partial-*"))
    # the next run reaps the dead run and clears the partial folder
    last = _start(tmp_path, "out")
    _, err = last.communicate(timeout=600)
    assert last.returncode == 0, err
    assert _statuses(tmp_path / "mlflow.db") == ["FINISHED", "KILLED", "FINISHED"]
    assert not any(p.exists() for p in partials)
    with sqlite3.connect(tmp_path / "mlflow.db") as con:
        reasons = [r[0] for r in con.execute("select value from tags where key='status_reason'")]
    assert any("killed" in r for r in reasons)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_an_interrupted_run_ends_as_killed_with_one_line(tmp_path, sig):
    proc = _start(tmp_path, "out")
    _wait_running(tmp_path / "mlflow.db", proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert err.strip().count("\n") == 0 and "interrupted" in err
    assert _statuses(tmp_path / "mlflow.db") == ["KILLED"]
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.partial-*"))


def test_a_stop_that_lands_while_the_run_is_being_created_still_ends_it_killed(
    tmp_path, monkeypatch
):
    """The race a clean clone's CI once hit: SIGTERM after MLflow had stored the run as
    RUNNING but before it was the active run, so nothing marked it KILLED. Here the signal
    is sent from inside run creation, just after the row is written."""
    import mlflow
    from mlflow.tracking import MlflowClient

    from escalation_model._errors import Interrupted, clear_interrupt
    from escalation_model.cli._guard import _on_signal
    from escalation_model.tracking import tracked_run

    real = MlflowClient.create_run

    def create_then_signal(self, *args, **kwargs):
        run = real(self, *args, **kwargs)
        signal.raise_signal(signal.SIGTERM)  # the handler runs here, as a real signal's would
        return run

    monkeypatch.setattr(MlflowClient, "create_run", create_then_signal)
    previous = signal.signal(signal.SIGTERM, _on_signal)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    try:
        with pytest.raises(Interrupted), tracked_run(tracking_uri=uri, run_name="stopped"):
            raise AssertionError("the body never starts: the stop is raised first")
    finally:
        signal.signal(signal.SIGTERM, previous)
        clear_interrupt()
    assert mlflow.active_run() is None
    assert _statuses(tmp_path / "mlflow.db") == ["KILLED"]


def test_a_swapped_registered_model_is_refused(completed, monkeypatch):
    from escalation_model._errors import ModelFileError
    from escalation_model.models import save_model
    from escalation_model.tracking import load_registered_model

    tmp_path = completed
    monkeypatch.chdir(tmp_path)
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"  # absolute: MLflow keeps a store per URI
    model = load_registered_model("models:/escalation_model@candidate", tracking_uri=store)
    artifacts = sorted(Path("mlartifacts").rglob("*.skops"))
    assert len(artifacts) == 1
    # an attacker (or an accident) replaces the artifact with another valid model file
    model.set_params(estimator__n_estimators=5)
    save_model(model, artifacts[0], overwrite=True)
    with pytest.raises(ModelFileError, match="SHA-256 differs"):
        load_registered_model("models:/escalation_model@candidate", tracking_uri=store)
    new = tmp_path / "new.csv"
    assert main(["generate", str(new), "--n-families", "3000"]) == 0
    args = ["score", "--model", "models:/escalation_model@candidate", "--data", str(new)]
    assert main([*args, "--tracking-uri", store, "--output", "scored"]) == 2
    assert not Path("scored").exists()


def test_card_never_creates_a_store(tmp_path, monkeypatch, capsys):

    monkeypatch.chdir(tmp_path)
    assert main(["card", "abc123", "--output", "c"]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "mlflow.db" in err
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "c").exists()


def test_summary_records_the_model_sha(completed):
    from escalation_model.models import file_sha256

    tmp_path = completed
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["model_file"]["sha256"] == file_sha256(tmp_path / "out" / "model.skops")


def test_a_crafted_model_is_refused_through_the_cli_and_the_registry(completed, monkeypatch):
    """A payload in the registered artifact, with its recorded SHA-256 forged to match, is
    still refused by the allow-list, through `score --model FILE` and `models:/`."""
    from mlflow import MlflowClient

    from escalation_model.models import file_sha256
    from tests.models.test_persist import _call, _rewrite

    tmp_path = completed
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "ran.txt"
    payload = _call("builtins", "eval", f"__import__('pathlib').Path({str(marker)!r}).touch()")

    def hide(schema):
        schema["content"]["content"]["holdout"] = payload

    crafted = _rewrite(tmp_path / "out" / "model.skops", tmp_path / "crafted.skops", hide)
    new = tmp_path / "new.csv"
    assert main(["generate", str(new), "--n-families", "3000"]) == 0
    score = ["score", "--data", str(new), "--output", "scored"]
    assert main([*score, "--model", str(crafted)]) == 2
    artifact = sorted(Path("mlartifacts").rglob("*.skops"))[0]
    artifact.write_bytes(crafted.read_bytes())
    MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}").set_model_version_tag(
        "escalation_model", "1", "model.sha256", file_sha256(artifact)
    )
    uri = [
        "--model",
        "models:/escalation_model@candidate",
        "--tracking-uri",
        f"sqlite:///{tmp_path}/mlflow.db",
    ]
    assert main([*score, *uri]) == 2
    assert not marker.exists() and not Path("scored").exists()


def test_a_store_that_is_not_mlflow_s_is_refused_in_seconds_without_being_written(tmp_path, capsys):
    """Another application's SQLite file, and a folder, given as the store."""
    import sqlite3

    other = tmp_path / "app.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE patients (id INTEGER)")
    con.commit()
    con.close()
    before = other.read_bytes()
    folder = tmp_path / "store"
    folder.mkdir()
    for uri in (f"sqlite:///{other}", f"sqlite:///{folder}"):
        started = time.perf_counter()
        code = main(["run", "--output", str(tmp_path / "o"), "--tracking-uri", uri])
        assert code != 0 and time.perf_counter() - started < 10
        err = capsys.readouterr().err
        assert "Fix:" in err and ("not an MLflow store" in err or "is a folder" in err)
    assert other.read_bytes() == before and not (tmp_path / "o").exists()


def test_a_setting_mlflow_would_reject_is_refused_before_work(tmp_path, capsys):

    cfg = tmp_path / "run.toml"
    cfg.write_text('[population]\nrisk_reduction = { "best case!" = 0.3 }\n')
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    code = main(
        ["run", "--config", str(cfg), "--output", str(tmp_path / "o"), "--tracking-uri", uri]
    )
    err = capsys.readouterr().err
    assert code != 0 and "best case!" in err and "--no-tracking" in err
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "o").exists()


# Tests that start from the completed run live in this file, so that the run is made
# once per test session (a file stays on one worker), not once in each of two files.


def test_cli_run_tracks_and_score_reads_the_registry(completed, monkeypatch):
    monkeypatch.chdir(completed)
    store = f"sqlite:///{completed / 'mlflow.db'}"  # absolute: MLflow keeps a store per URI
    # the run registered its model as the candidate (what it prints is checked in
    # test_candidate_moves_only_to_a_comparable_run_that_is_not_worse)
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=store)
    assert str(client.get_model_version_by_alias("escalation_model", "candidate").version) == "1"
    new = completed / "new.csv"
    main(["generate", str(new), "--n-families", "10000", "--seed", "5"])
    args = [
        "score",
        "--model",
        "models:/escalation_model@candidate",
        "--tracking-uri",
        store,
        "--data",
        str(new),
        "--output",
        "scored",
    ]
    assert main(args) == 0
    assert (completed / "scored" / "strategies.csv").exists()


def test_card_is_rebuilt_from_a_tracked_run(completed, monkeypatch):
    import json

    import mlflow

    monkeypatch.chdir(completed)
    store = f"sqlite:///{completed / 'mlflow.db'}"
    client = mlflow.MlflowClient(tracking_uri=store)
    (run,) = client.search_runs([client.get_experiment_by_name("escalation_model").experiment_id])
    assert main(["card", run.info.run_id, "--tracking-uri", store, "--output", "rebuilt"]) == 0
    original = json.loads((completed / "out" / "model_card.json").read_text())
    rebuilt = json.loads((completed / "rebuilt" / "model_card.json").read_text())
    assert rebuilt["facts"] == original["facts"]
    assert rebuilt["first_page"] == original["first_page"]
    assert (completed / "rebuilt" / "model_card.html").read_text().count("data:image/png") >= 8
    assert main(["card", "no-such-run", "--tracking-uri", store, "--output", "x"]) == 2


def test_a_failed_final_swap_leaves_the_run_failed_and_the_registry_untouched(
    completed, monkeypatch
):
    """After a completed run, the next one's output folder cannot be put in place (a
    read-only target): the command fails, the MLflow run is FAILED, no model version is
    registered and the alias stays where it was."""
    import mlflow

    import escalation_model._outputs as outputs

    monkeypatch.chdir(completed)
    store = f"sqlite:///{completed / 'mlflow.db'}"
    args = ["run", "--config", "run.toml", "--tracking-uri", store, "--quiet"]
    client = mlflow.MlflowClient(tracking_uri=store)
    before = client.get_model_version_by_alias("escalation_model", "candidate").version

    def read_only(staging, out, *_):
        raise PermissionError(13, "Read-only file system", str(out))

    monkeypatch.setattr(outputs, "_swap_in", read_only)
    assert main([*args, "--output", "out2"]) == 2
    runs = client.search_runs(
        client.get_experiment_by_name("escalation_model").experiment_id,
        order_by=["attributes.start_time DESC"],
    )
    assert [r.info.status for r in runs] == ["FAILED", "FINISHED"]
    versions = client.search_model_versions("name='escalation_model'")
    assert len(versions) == 1  # nothing registered by the failed run
    assert client.get_model_version_by_alias("escalation_model", "candidate").version == before
    assert not (completed / "out2").exists()

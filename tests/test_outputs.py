"""Output folders are replaced whole or not at all, and never over a user's files."""

from __future__ import annotations

import json

import pytest

from escalation_model._outputs import MANIFEST, OutputFolderError, staged_output, write_manifest


def _write(folder, names):
    paths = []
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
        paths.append(path)
    write_manifest(folder, paths)


def test_a_second_run_replaces_the_folder_whole(tmp_path):
    out = tmp_path / "run"
    with staged_output(out) as staging:
        _write(staging, ["a.csv", "plots/x.png", "transfer.csv"])
    with staged_output(out) as staging:
        _write(staging, ["a.csv", "plots/y.png"])
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == [".escalation-model-output", "a.csv", MANIFEST, "plots/y.png"]
    listed = [e["path"] for e in json.loads((out / MANIFEST).read_text())["files"]]
    assert listed == ["a.csv", "plots/y.png"]
    assert not list(tmp_path.glob(".run.*"))  # no staging or old folder left behind


def test_a_failed_run_leaves_the_previous_folder_as_it_was(tmp_path):
    out = tmp_path / "run"
    with staged_output(out) as staging:
        _write(staging, ["a.csv"])
    before = (out / MANIFEST).read_bytes()
    with pytest.raises(RuntimeError), staged_output(out) as staging:
        (staging / "half.csv").write_text("half")
        raise RuntimeError("the study failed")
    assert (out / MANIFEST).read_bytes() == before
    assert not (out / "half.csv").exists() and not list(tmp_path.glob(".run.*"))


def test_a_stop_while_the_staging_folder_is_made_leaves_nothing_behind(tmp_path, monkeypatch):
    """A stop request lands as an exception wherever the run is (the command line's signal
    handler raises it): here just after the staging folder exists, while its marker is
    written. Seen once in a run of tests/tracking/test_store.py, where SIGTERM came just
    after the tracked run was recorded."""
    from pathlib import Path

    from escalation_model._errors import Interrupted
    from escalation_model._outputs import MARKER

    write_text = Path.write_text

    def stopped_at_the_marker(self, *args, **kwargs):
        if self.name == MARKER:
            raise Interrupted()
        return write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", stopped_at_the_marker)
    with pytest.raises(Interrupted), staged_output(tmp_path / "run"):
        pass  # never reached
    assert list(tmp_path.iterdir()) == []


def test_a_users_file_is_never_removed(tmp_path):
    out = tmp_path / "run"
    with staged_output(out) as staging:
        _write(staging, ["a.csv"])
    (out / "my_notes.txt").write_text("mine")
    with pytest.raises(OutputFolderError, match="my_notes.txt"), staged_output(out):
        pytest.fail("the body must not run")
    assert (out / "my_notes.txt").read_text() == "mine"


def test_a_folder_from_before_manifests_is_still_ours(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / ".escalation-model-output").write_text("")
    (out / "summary.json").write_text("{}")
    with staged_output(out) as staging:
        _write(staging, ["b.csv"])
    assert (out / "b.csv").exists() and not (out / "summary.json").exists()

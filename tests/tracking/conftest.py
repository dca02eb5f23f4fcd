"""A completed tracked run, made once per test worker and copied for each test that
starts from one (the copy's store moved with it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ._runs import _move_store, _start


@pytest.fixture(scope="session")
def _completed_once(tmp_path_factory) -> Path:
    """One completed tracked run (its output folder, store and artifacts), made once per
    worker for the tests that start from one."""
    folder = tmp_path_factory.mktemp("completed")
    run = _start(folder, "out")
    _, err = run.communicate(timeout=600)
    assert run.returncode == 0, err
    return folder


@pytest.fixture()
def completed(_completed_once: Path, tmp_path: Path) -> Path:
    """A private copy of the completed run in ``tmp_path``, its store moved with it (a
    test may tamper with its copy without touching another test's)."""
    shutil.copytree(_completed_once, tmp_path, dirs_exist_ok=True)
    _move_store(tmp_path / "mlflow.db", str(_completed_once), str(tmp_path))
    return tmp_path

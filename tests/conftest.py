from __future__ import annotations

import os

import pytest
from hypothesis import settings

from escalation_model.datasets import SyntheticPopulation, make_synthetic_population

# With one test worker per core (pytest -n 2), each worker's LightGBM fits and transfer
# checks keep to one thread (the library caps its threads at OMP_NUM_THREADS; the numbers
# do not change): two threads per worker on two cores made every fit about 1.8x slower.
# Commands the tests start inherit it.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")

# The default MLflow store lives in $ESCALATION_MODEL_HOME: a fresh folder per test (and
# one per worker for module fixtures), never the home folder of whoever runs the tests.
if not os.environ.get("ESCALATION_MODEL_HOME"):
    import tempfile

    os.environ["ESCALATION_MODEL_HOME"] = tempfile.mkdtemp(prefix="escalation-model-home-")


@pytest.fixture(autouse=True)
def _own_store_home(tmp_path, monkeypatch):
    monkeypatch.setenv("ESCALATION_MODEL_HOME", str(tmp_path / "escalation-model-home"))


# CI gives the same verdict on every run: property tests draw their examples from a fixed
# seed there (locally they explore afresh each time, and keep what failed in .hypothesis/)
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


#: The longest test files (measured with --junitxml), started first: with one file per
#: worker at a time (--dist loadfile), a long file started last keeps one worker busy
#: while the other waits.
LONGEST_FIRST = (
    "tests/tracking/test_store.py",
    "tests/test_types.py",
    "tests/tracking/test_mlflow.py",
    "tests/security/test_disclosure_attacks.py",
    "tests/cli/test_cli.py",
    "tests/returns/test_prepare.py",
    "tests/study/test_reconciliation.py",
    "tests/fairness/test_audit.py",
    "tests/security/test_differencing.py",
    "tests/study/test_renaming.py",
    "tests/study/test_study.py",
    "notebooks/01_quick_start.ipynb",
)


def pytest_collection_modifyitems(config, items):
    """Run the longest files first (a stable reorder: tests keep their order within a
    file)."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}

    def key(item):
        path = item.nodeid.split("::")[0]
        return rank.get(path, len(rank))

    items.sort(key=key)


@pytest.fixture(scope="session")
def small_population() -> SyntheticPopulation:
    """20,000 families, fixed seed: for behaviour tests."""
    return make_synthetic_population(20_000, random_state=7)


@pytest.fixture(scope="session")
def large_population() -> SyntheticPopulation:
    """400,000 families, fixed seed: for the calibration targets."""
    return make_synthetic_population(400_000, random_state=2015)


@pytest.fixture()
def frame(small_population: SyntheticPopulation):
    """A fresh copy of the small population's frame, for tests that break it."""
    return small_population.frame.copy()


@pytest.fixture(autouse=True)
def _close_figures():
    """Tests that draw leave no figure open for the next one."""
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")

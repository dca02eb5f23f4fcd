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

# CI gives the same verdict on every run: property tests draw their examples from a fixed
# seed there (locally they explore afresh each time, and keep what failed in .hypothesis/)
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


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

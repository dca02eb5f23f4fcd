"""Mutated model files of every kind the library writes: each is refused in one line or
loads and answers; none crashes the process, hangs or ends in an unexpected error. The
full run (5,000 mutations) is ``evaluation/fuzz_model_files.py``; here, 300."""

from __future__ import annotations

import pytest

from .fuzz_models import fuzz, make_model_files


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    return make_model_files(tmp_path_factory.mktemp("models"))


@pytest.mark.slow
def test_mutated_model_files_are_refused_or_load_never_crash(model_files, tmp_path):
    outcomes = fuzz(model_files, 300, seed=2026, folder=tmp_path, timeout=300)
    bad = {k: v for k, v in outcomes.items() if k in ("crash", "hang") or k.startswith("error")}
    assert bad == {}, outcomes
    assert outcomes["refused"] > 150 and sum(outcomes.values()) == 300

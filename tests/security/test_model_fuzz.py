"""Mutated model files of every kind the library writes: each is refused in one line or
loads and answers; none crashes the process, hangs or ends in an unexpected error. The
full run (5,000 mutations) is ``evaluation/fuzz_model_files.py``; here, 300."""

from __future__ import annotations

import pytest

from escalation_model.datasets import make_synthetic_population
from escalation_model.models import make_models, save_model

from .fuzz_models import fuzz


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    pop = make_synthetic_population(8_000, random_state=5)
    frame = pop.frame
    models = make_models(pop.roles)
    plain = make_models(pop.roles, calibrate=False)["lightgbm"].set_params(n_estimators=20)
    calibrated = models["lightgbm"].set_params(estimator__n_estimators=20)
    kinds = {
        "calibrated_lightgbm": calibrated,
        "lightgbm": plain,
        "logistic": models["logistic"],
        "five_plus_rule": models["five_plus_rule"],
        "area_rule": models["area_rule"],
    }
    return [
        save_model(model.fit(frame, frame["escalated"]), folder / f"{name}.skops")
        for name, model in kinds.items()
    ]


@pytest.mark.slow
def test_mutated_model_files_are_refused_or_load_never_crash(model_files, tmp_path):
    outcomes = fuzz(model_files, 300, seed=2026, folder=tmp_path, timeout=300)
    bad = {k: v for k, v in outcomes.items() if k in ("crash", "hang") or k.startswith("error")}
    assert bad == {}, outcomes
    assert outcomes["refused"] > 150 and sum(outcomes.values()) == 300

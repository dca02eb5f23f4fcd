"""Model files: an exact allow-list, checked before anything in the file is built."""

from __future__ import annotations

import contextlib
import io
import json
import zipfile

import numpy as np
import pytest

from escalation_model._errors import ModelFileError
from escalation_model.models import (
    CalibratedRiskClassifier,
    LightGBMRiskClassifier,
    load_model,
    make_models,
    save_model,
)
from escalation_model.models._persist import ALLOWED_NODES, _nodes


@pytest.fixture(scope="module")
def fitted(small_population):
    f = small_population.frame.iloc[:6000]
    y = f["escalated"].to_numpy()
    models = {}
    for calibrate in (True, False):
        for name, m in make_models(small_population.roles, calibrate=calibrate).items():
            models[f"{name}-{calibrate}"] = m.fit(f, y)
    # a model too timid to be calibrated: isotonic is kept, so its file holds the calibrator
    timid = LightGBMRiskClassifier(n_estimators=3, learning_rate=0.01)
    kept = CalibratedRiskClassifier(timid).fit(f, y)
    assert kept.calibration_report_["calibrated"] is True
    models["isotonic-kept"] = kept
    # protected characteristics as features: one-hot blocks in the encoder
    models["with-protected"] = LightGBMRiskClassifier(n_estimators=5, include_protected=True).fit(
        f, y
    )
    return f, models


def _schema(path):
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("schema.json"))


def _rewrite(path, out, edit):
    """Copy a skops file, changing its schema with ``edit``."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "schema.json":
                schema = json.loads(data)
                edit(schema)
                data = json.dumps(schema).encode()
            dst.writestr(item, data)
    return out


def _json(value):
    return {
        "__class__": "str",
        "__module__": "builtins",
        "__loader__": "JsonNode",
        "content": json.dumps(value),
        "is_json": True,
    }


def _call(module, name, *args):
    """A node that calls module.name(*args) when the file is loaded."""
    return {
        "__class__": name,
        "__module__": module,
        "__loader__": "ConstructorFromReduceNode",
        "content": {
            "__class__": "tuple",
            "__module__": "builtins",
            "__loader__": "TupleNode",
            "content": [_json(a) for a in args],
        },
    }


def test_every_model_kind_round_trips_within_the_allow_list(fitted, tmp_path):
    f, models = fitted
    for name, model in models.items():
        path = save_model(model, tmp_path / f"{name}.skops")
        assert set(_nodes(_schema(path))) <= ALLOWED_NODES, name
        again = load_model(path)
        np.testing.assert_array_equal(again.predict_proba(f), model.predict_proba(f))


def _payloads(marker):
    code = f"__import__('pathlib').Path({str(marker)!r}).write_text('ran')"
    return {
        "eval": _call("builtins", "eval", code),
        "exec": _call("builtins", "exec", code),
        "open": _call("builtins", "open", str(marker), "w"),
        "function": {"__class__": "system", "__module__": "os", "__loader__": "FunctionNode"},
    }


# the "open" payload, once trusted, leaves an unclosed file behind: that is the point
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("kind", ["eval", "exec", "open", "function"])
def test_a_crafted_file_is_refused_and_nothing_runs(fitted, tmp_path, kind):
    import skops.io as sio

    _, models = fitted
    real = save_model(models["lightgbm-True"], tmp_path / "real.skops")
    marker = tmp_path / "ran.txt"
    payload = _payloads(marker)[kind]

    def hide(schema):  # a real model with one attribute swapped for the payload
        schema["content"]["content"]["holdout"] = payload

    bad = _rewrite(real, tmp_path / "bad.skops", hide)
    with pytest.raises(ModelFileError, match="Nothing in it was run"):
        load_model(bad)
    assert not marker.exists()
    if kind in ("eval", "exec", "open"):  # the payload is real: trusting the file runs it
        with contextlib.suppress(Exception):
            sio.load(bad, trusted=sio.get_untrusted_types(file=bad))
        assert marker.exists()


def test_a_file_that_is_only_a_payload_is_refused(tmp_path):
    marker = tmp_path / "ran.txt"
    bad = tmp_path / "payload.skops"
    with zipfile.ZipFile(bad, "w") as zf:
        schema = {**_payloads(marker)["eval"], "protocol": 2, "_skops_version": "0.16.0"}
        zf.writestr("schema.json", json.dumps(schema))
    with pytest.raises(ModelFileError, match="builtins.eval"):
        load_model(bad)
    assert not marker.exists()


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04broken"])
def test_a_file_that_is_not_a_model_gets_a_clear_error(tmp_path, content):
    path = tmp_path / "model.skops"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match="not a model file written by escalation-model"):
        load_model(path)


def test_a_plain_sklearn_object_is_not_a_model_of_this_library(tmp_path):
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    path = tmp_path / "other.skops"
    sio.dump(LogisticRegression(), path)
    with pytest.raises(ModelFileError, match="LogisticRegression"):
        load_model(path)


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        load_model(tmp_path / "nope.skops")


def test_schema_walk_sees_nested_nodes():
    schema = {
        "__loader__": "DictNode",
        "__module__": "builtins",
        "__class__": "dict",
        "content": {"a": [{"x": io.__name__, "deep": _call("os", "system", "true")}]},
    }
    assert ("ConstructorFromReduceNode", "os.system") in set(_nodes(schema))


def test_a_model_is_checked_as_a_publication(small_population):
    """Leaves fitted on fewer families than the disclosure threshold, or an isotonic
    calibration's held-out points, keep the model file inside the secure environment."""
    from escalation_model.models import LightGBMRiskClassifier
    from escalation_model.models._release import release_check

    frame = small_population.frame.head(3000)
    tiny = LightGBMRiskClassifier(n_estimators=5, min_child_samples=1).fit(
        frame, frame["escalated"]
    )
    check = release_check(tiny)
    assert check.leaves > 0 and check.small_leaves > 0 and not check.releasable
    assert "Keep it inside the secure environment" in check.sentence()
    usual = LightGBMRiskClassifier(n_estimators=5).fit(frame, frame["escalated"])
    assert release_check(usual).small_leaves == 0 and release_check(usual).releasable

"""The crafted model files that once crashed the process or ended in exit 3, as named
cases: each is loaded in a worker process (a native crash cannot take the test run with
it) and must be refused in one line."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from escalation_model.datasets import make_synthetic_population
from escalation_model.models import LightGBMRiskClassifier, save_model


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> bytes:
    pop = make_synthetic_population(6_000, random_state=3)
    model = LightGBMRiskClassifier(n_estimators=10).fit(pop.frame, pop.frame["escalated"])
    path = save_model(model, tmp_path_factory.mktemp("m") / "model.skops")
    return path.read_bytes()


def _rewrite(original: bytes, schema_edit=None, text_edit=None, extra=None) -> bytes:
    with zipfile.ZipFile(io.BytesIO(original)) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    schema = json.loads(members["schema.json"])
    if text_edit is not None:
        stack = [schema]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                if item.get("__class__") == "Booster":
                    node = item["content"]["content"]["_handle"]
                    node["content"] = json.dumps(text_edit(json.loads(node["content"])))
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    if schema_edit is not None:
        schema = schema_edit(schema)
    members["schema.json"] = schema if isinstance(schema, bytes) else json.dumps(schema).encode()
    members.update(extra or {})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def _first_line(text: str, key: str, value: str) -> str:
    lines = text.split("\n")
    i = next(i for i, line in enumerate(lines) if line.startswith(f"{key}="))
    parts = lines[i].split("=", 1)[1].split(" ")
    parts[0] = value
    lines[i] = f"{key}={' '.join(parts)}"
    return "\n".join(lines)


CASES = {
    "split feature out of range": dict(text_edit=lambda t: _first_line(t, "split_feature", "9999")),
    "split feature slightly out of range": dict(
        text_edit=lambda t: _first_line(t, "split_feature", "23")
    ),
    "left child out of range": dict(text_edit=lambda t: _first_line(t, "left_child", "100000")),
    "left child a cycle to the root": dict(text_edit=lambda t: _first_line(t, "left_child", "0")),
    "categorical split without boundaries": dict(
        text_edit=lambda t: t.replace("num_cat=0", "num_cat=1", 1)
    ),
    "tree size wrong": dict(text_edit=lambda t: _first_line(t, "tree_sizes", "100000000")),
    "zip bomb": dict(extra={"padding.npy": b"\x00" * (300 * 2**20)}),
    "schema a list": dict(schema_edit=lambda s: [s]),
    "schema a string": dict(schema_edit=lambda s: "schema"),
    "schema nested deeply": dict(
        schema_edit=lambda s: ('{"content": ' * 3000 + "{}" + "}" * 3000).encode()
    ),
    "another allowed class at the top": dict(
        schema_edit=lambda s: {**s, "__class__": "Pipeline", "__module__": "sklearn.pipeline"}
    ),
}


def test_each_crafted_file_is_refused_in_one_line_without_a_crash(original, tmp_path):
    paths = {}
    for i, (name, edit) in enumerate(CASES.items()):
        path = tmp_path / f"case{i}.skops"
        path.write_bytes(_rewrite(original, **edit))
        paths[name] = str(path)
    code = (
        "import json, sys\n"
        "from escalation_model._errors import ModelFileError\n"
        "from escalation_model.models import load_model\n"
        "for name, path in json.loads(sys.argv[1]).items():\n"
        "    try:\n"
        "        load_model(path); print(name, 'LOADED', flush=True)\n"
        "    except ModelFileError as exc:\n"
        "        print(name, 'REFUSED', str(exc).count(chr(10)), flush=True)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(paths)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr[-2000:])
    outcomes = dict(line.rsplit(" ", 2)[0:2] for line in proc.stdout.splitlines())
    assert outcomes == dict.fromkeys(CASES, "REFUSED"), proc.stdout
    assert all(line.endswith(" 0") for line in proc.stdout.splitlines())  # one line each
    assert Path(paths["zip bomb"]).stat().st_size < 2 * 2**20  # a small file, refused

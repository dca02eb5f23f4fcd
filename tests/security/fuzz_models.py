"""A seeded fuzzer of model files: mutations of real model files of every kind the library
writes (LightGBM, calibrated LightGBM, logistic regression, the two rules), each loaded and
asked for a prediction in a worker process, so that a native crash or a hang is caught as
a failure rather than taking the test run with it.

Every outcome must be a refusal (:class:`ModelFileError`, a one-line error, exit 1 or 2 at
the command line) or a load that answers with probabilities. Run in full (5,000
mutations) by ``evaluation/fuzz_model_files.py``; ``test_model_fuzz.py`` runs a share.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

#: Values a mutation writes into a field: out of range, negative, huge, not a number.
VALUES = ["-1", "-100", "0", "1", "2147483647", "1000000", "nan", "inf", "x", "", "1e309", "-2"]
TREE_KEYS = (
    "split_feature",
    "left_child",
    "right_child",
    "decision_type",
    "threshold",
    "leaf_value",
    "num_leaves",
    "num_cat",
    "shrinkage",
)
HEADER_KEYS = ("max_feature_idx", "tree_sizes", "feature_names", "num_class")


def make_model_files(folder: Path, n_estimators: int = 20) -> list[Path]:
    """One saved model of every kind the library writes, fitted on 8,000 synthetic
    families: the files the fuzzer mutates."""
    from escalation_model.datasets import make_synthetic_population
    from escalation_model.models import make_models, save_model

    pop = make_synthetic_population(8_000, random_state=5)
    frame, models = pop.frame, make_models(pop.roles)
    plain = make_models(pop.roles, calibrate=False)["lightgbm"]
    kinds = {
        "calibrated_lightgbm": models["lightgbm"].set_params(estimator__n_estimators=n_estimators),
        "lightgbm": plain.set_params(n_estimators=n_estimators),
        "logistic": models["logistic"],
        "five_plus_rule": models["five_plus_rule"],
        "area_rule": models["area_rule"],
    }
    return [
        save_model(m.fit(frame, frame["escalated"]), folder / f"{name}.skops")
        for name, m in kinds.items()
    ]


def _booster_text(schema: Any) -> list[dict[str, Any]]:
    """The JsonNodes holding a Booster's model text, anywhere in the schema."""
    found, stack = [], [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("__class__") == "Booster":
                found.append(item["content"]["content"]["_handle"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _mutate_text(text: str, rng: np.random.Generator) -> str:
    lines = text.split("\n")
    kind = rng.integers(0, 6)
    if kind == 0:  # one value of a tree field
        keys = [i for i, line in enumerate(lines) if line.split("=")[0] in TREE_KEYS]
        i = int(rng.choice(keys))
        key, _, values = lines[i].partition("=")
        parts = values.split(" ")
        parts[int(rng.integers(0, len(parts)))] = str(rng.choice(VALUES))
        lines[i] = f"{key}={' '.join(parts)}"
    elif kind == 1:  # a header field
        keys = [i for i, line in enumerate(lines) if line.split("=")[0] in HEADER_KEYS]
        i = int(rng.choice(keys))
        lines[i] = f"{lines[i].split('=')[0]}={rng.choice(VALUES)}"
    elif kind == 2:  # a line gone
        del lines[int(rng.integers(0, len(lines)))]
    elif kind == 3:  # categorical splits declared without their boundaries
        i = next(i for i, line in enumerate(lines) if line.startswith("num_cat="))
        lines[i] = "num_cat=1"
    elif kind == 4:  # cut short
        return text[: int(rng.integers(0, len(text)))]
    else:  # a line repeated
        i = int(rng.integers(0, len(lines)))
        lines.insert(i, lines[i])
    return "\n".join(lines)


def _mutate_schema(schema: dict[str, Any], rng: np.random.Generator) -> Any:
    kind = rng.integers(0, 5)
    boosters = _booster_text(schema)
    if boosters and kind <= 1:
        node = boosters[int(rng.integers(0, len(boosters)))]
        node["content"] = json.dumps(_mutate_text(json.loads(node["content"]), rng))
        return schema
    if kind == 2:  # the root as something else
        roots = [[schema], "schema", 3, None, {"content": schema}]
        pick = int(rng.integers(0, len(roots) + 1))
        return roots[pick] if pick < len(roots) else _Deep(int(rng.integers(50, 5000)))
    if kind == 3:  # the root class swapped for another allowed one
        swaps = [
            ("Pipeline", "sklearn.pipeline"),
            ("dict", "builtins"),
            ("Booster", "lightgbm.basic"),
        ]
        schema["__class__"], schema["__module__"] = swaps[int(rng.integers(0, len(swaps)))]
        return schema
    # a JsonNode's content anywhere replaced
    nodes, stack = [], [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("__loader__") == "JsonNode":
                nodes.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    if nodes:
        node = nodes[int(rng.integers(0, len(nodes)))]
        contents = ['"x"', "-1", "1e309", "[]", "{}", '"5"', "null"]
        node["content"] = contents[int(rng.integers(0, len(contents)))]
    return schema


class _Deep:
    """A schema nested ``depth`` levels: written as text (json would recurse)."""

    def __init__(self, depth: int):
        self.text = '{"content": ' * depth + "{}" + "}" * depth


def mutate(original: bytes, rng: np.random.Generator) -> bytes:
    """One mutation of a model file: its schema, its model text, or the zip itself."""
    kind = rng.integers(0, 20)
    if kind == 0:  # the zip cut short
        return original[: int(rng.integers(0, len(original)))]
    with zipfile.ZipFile(io.BytesIO(original)) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    if kind in (1, 2):  # an array member damaged
        arrays = [n for n in members if n.endswith(".npy")]
        if arrays:
            name = arrays[int(rng.integers(0, len(arrays)))]
            data = bytearray(members[name])
            for _ in range(int(rng.integers(1, 20))):
                data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
            members[name] = bytes(data)
    elif kind == 3:  # a bomb: a member unpacking to hundreds of megabytes
        members["padding.npy"] = b"\x00" * (300 * 2**20)
    elif kind == 4:  # thousands of members
        members.update({f"m{i}.npy": b"" for i in range(2_000)})
    else:
        schema = json.loads(members["schema.json"])
        mutated = _mutate_schema(schema, rng)
        text = mutated.text if isinstance(mutated, _Deep) else json.dumps(mutated)
        members["schema.json"] = text.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def _worker(paths: list[str], start: int, n: int, seed: int, folder: str) -> None:
    """Load and score mutations ``start`` to ``n``; one line per outcome, flushed, so the
    parent knows which mutation a crash happened on."""
    import warnings

    from escalation_model._errors import ModelFileError
    from escalation_model.models import load_model

    warnings.simplefilter("ignore")
    originals = [Path(p).read_bytes() for p in paths]
    target = Path(folder) / "mutated.skops"
    log = open(Path(folder) / "outcomes.txt", "a", encoding="utf-8")  # noqa: SIM115
    for i in range(start, n):
        rng = np.random.default_rng([seed, i])
        target.write_bytes(mutate(originals[i % len(originals)], rng))
        try:
            load_model(target)
            outcome = "loaded"
        except ModelFileError:
            outcome = "refused"
        except Exception as exc:  # would be exit 3 at the command line
            outcome = f"error:{type(exc).__name__}"
        log.write(f"{i} {outcome}\n")
        log.flush()


def fuzz(paths: list[Path], n: int, seed: int, folder: Path, timeout: float = 600) -> Counter:
    """Run ``n`` mutations in worker processes, restarting after a crash; returns the
    count of each outcome (``crash`` and ``hang`` are failures, as is any ``error:``)."""
    outcomes: dict[int, str] = {}
    log = folder / "outcomes.txt"
    log.write_text("")
    start = 0
    root = Path(__file__).resolve().parents[2]
    while start < n:
        args = f"{[str(p) for p in paths]!r}, {start}, {n}, {seed}, {str(folder)!r}"
        code = (
            f"import sys; sys.path.insert(0, {str(root)!r}); "
            f"from tests.security.fuzz_models import _worker; _worker({args})"
        )
        try:
            proc = subprocess.run([sys.executable, "-c", code], timeout=timeout, check=False)
            status = "crash" if proc.returncode != 0 else None
        except subprocess.TimeoutExpired:
            status = "hang"
        for line in log.read_text().splitlines():
            i, outcome = line.split(" ", 1)
            outcomes[int(i)] = outcome
        done = max(outcomes, default=start - 1) + 1
        if status is not None:
            outcomes[done] = status
            done += 1
        start = max(done, start + 1) if status is not None else n
    return Counter(outcomes.values())

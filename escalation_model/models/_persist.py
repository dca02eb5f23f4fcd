"""Safe persistence of fitted models with skops (no pickle).

A model file is checked against an exact allow-list before anything in it is built: every
node of the file's schema must be one of the (node kind, type) pairs that a model written
by this library holds. Functions, methods, ``functools.partial``, operators and
constructors from ``__reduce__`` are never accepted, whatever type they name, and the
file's own list of types is never trusted.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from os import PathLike
from pathlib import Path
from typing import Any

from .._errors import ModelFileError
from .._outputs import file_sha256

__all__ = ["ALLOWED_NODES", "MODEL_TYPES", "file_sha256", "load_model", "save_model"]

#: The estimators a model file may hold at its root.
MODEL_TYPES: frozenset[str] = frozenset(
    {
        "escalation_model.models._learned.CalibratedRiskClassifier",
        "escalation_model.models._learned.LightGBMRiskClassifier",
        "escalation_model.models._learned.LogisticRiskClassifier",
        "escalation_model.models._rules.AreaDeprivationRuleClassifier",
        "escalation_model.models._rules.FivePlusRuleClassifier",
    }
)

_NUMPY_SCALARS = ("float64", "float32", "int64", "int32", "int8", "uint8", "bool")

#: Every (skops node kind, fully qualified type) a saved model of this library holds.
#: ``tests/models/test_persist.py`` saves each kind of model and checks its file against
#: this list, so a new attribute that needs a new type fails a test, not a user's load.
ALLOWED_NODES: frozenset[tuple[str, str]] = frozenset(
    {("ObjectNode", t) for t in MODEL_TYPES}
    | {
        ("ObjectNode", t)
        for t in (
            "escalation_model.features._matrix.RolesEncoder",
            "escalation_model.schema._roles.ColumnRoles",
            "lightgbm.basic.Booster",
            "lightgbm.sklearn.LGBMClassifier",
            "sklearn.impute._base.MissingIndicator",
            "sklearn.impute._base.SimpleImputer",
            "sklearn.isotonic.IsotonicRegression",
            "sklearn.linear_model._logistic.LogisticRegression",
            "sklearn.pipeline.Pipeline",
            "sklearn.compose._column_transformer.ColumnTransformer",
            # "passthrough" blocks: a FunctionTransformer whose func is None (a function
            # anywhere is a FunctionNode, which is never accepted)
            "sklearn.preprocessing._function_transformer.FunctionTransformer",
            "sklearn.preprocessing._data.StandardScaler",
            "sklearn.preprocessing._encoders.OneHotEncoder",
            "sklearn.preprocessing._label.LabelEncoder",
        )
    }
    | {
        ("DictNode", "builtins.dict"),
        ("DefaultDictNode", "collections.defaultdict"),
        ("ListNode", "builtins.list"),
        ("TupleNode", "builtins.tuple"),
        ("SliceNode", "builtins.slice"),
        ("DTypeNode", "numpy.dtype"),
        ("NdArrayNode", "numpy.ndarray"),
        ("TypeNode", "collections.OrderedDict"),
    }
    | {("JsonNode", f"builtins.{t}") for t in ("str", "int", "float", "bool", "NoneType")}
    | {("TypeNode", f"builtins.{t}") for t in ("str", "int", "float", "bool")}
    | {("NdArrayNode", f"numpy.{t}") for t in _NUMPY_SCALARS}
    | {("TypeNode", f"numpy.{t}") for t in _NUMPY_SCALARS}
)


def save_model(model: Any, path: str | PathLike[str], *, overwrite: bool = False) -> Path:
    """Write a fitted model to a ``.skops`` file. Never replaces a file unless asked."""
    import skops.io as sio

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists. Fix: choose another path.")
    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(model, path)
    return path


def _nodes(value: Any) -> Iterator[tuple[str, str]]:
    """Every (node kind, type) in a skops schema, at any depth."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "__loader__" in item:
                yield (
                    str(item.get("__loader__")),
                    f"{item.get('__module__', '')}.{item.get('__class__', '')}",
                )
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


#: Limits on a model file before anything in it is read: far above any model of this
#: library (a default LightGBM file holds 6 members and about 1 MB).
MAX_MEMBERS = 1_000
MAX_UNCOMPRESSED = 256 * 2**20
MAX_SCHEMA_DEPTH = 64


def _not_a_model(path: Path, why: str) -> ModelFileError:
    return ModelFileError(
        f"{path} is not a model file written by escalation-model ({why}); nothing in it was "
        "run. Fix: pass the model.skops that `escalation-model run` wrote."
    )


def _read_schema(path: Path) -> dict[str, Any]:
    """The file's schema, read within the size limits, as a dict of bounded depth."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
            if len(members) > MAX_MEMBERS:
                raise _not_a_model(path, f"{len(members)} members")
            if sum(m.file_size for m in members) > MAX_UNCOMPRESSED:
                raise _not_a_model(path, "its contents unpack to more than 256 MB")
            schema = json.loads(zf.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, RecursionError) as exc:
        raise _not_a_model(path, type(exc).__name__) from None
    if not isinstance(schema, dict):
        raise _not_a_model(path, "its schema is not a table")
    stack: list[tuple[Any, int]] = [(schema, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_SCHEMA_DEPTH:
            raise _not_a_model(path, "its schema is nested too deeply")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return schema


def _boosters(schema: dict[str, Any]) -> Iterator[tuple[Any, int | None]]:
    """(model text node, the classifier's feature count or None) of every Booster."""
    stack: list[tuple[Any, int | None]] = [(schema, None)]
    while stack:
        item, n = stack.pop()
        if isinstance(item, dict):
            content = item.get("content")
            if item.get("__class__") == "LGBMClassifier" and isinstance(content, dict):
                inner = content.get("content")
                node = inner.get("_n_features") if isinstance(inner, dict) else None
                try:
                    n = int(json.loads(node["content"])) if isinstance(node, dict) else None
                except (ValueError, TypeError, KeyError):
                    n = -1  # not a count: refused below
            if item.get("__class__") == "Booster":
                inner = content.get("content") if isinstance(content, dict) else None
                yield (inner.get("_handle") if isinstance(inner, dict) else None), n
            stack.extend((v, n) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, n) for v in item)


def _check_boosters(path: Path, schema: dict[str, Any]) -> None:
    """Every Booster's model text checked before LightGBM parses it."""
    from ._lgbm_text import ModelTextError, check_model_text

    for node, n in _boosters(schema):
        try:
            if not isinstance(node, dict) or not isinstance(node.get("content"), str):
                raise ModelTextError("its trees are not stored as model text")
            check_model_text(json.loads(node["content"]), n)
        except (ModelTextError, ValueError, TypeError) as exc:
            raise _not_a_model(path, f"its LightGBM trees are malformed: {exc}") from None


def untrusted_nodes(path: str | PathLike[str]) -> list[tuple[str, str]]:
    """The (node kind, type) pairs of a skops file that are not on :data:`ALLOWED_NODES`,
    read from its schema without building anything.

    Raises :class:`ModelFileError` if the file is not a skops file at all."""
    path = Path(path)
    schema = _read_schema(path)
    root = f"{schema.get('__module__', '')}.{schema.get('__class__', '')}"
    refused = sorted(set(_nodes(schema)) - ALLOWED_NODES)
    if root not in MODEL_TYPES:
        refused.insert(0, (str(schema.get("__loader__")), root))
    return refused


def load_model(path: str | PathLike[str]) -> Any:
    """Load a model written by :func:`save_model`.

    Every node of the file is checked against :data:`ALLOWED_NODES` before anything is
    built; a file holding any other type, or any function, method or reduce-constructor,
    is refused with :class:`ModelFileError` and nothing in it runs.
    """
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist. Fix: check the path.")
    refused = untrusted_nodes(path)
    if refused:
        shown = ", ".join(f"{t} ({kind})" for kind, t in refused[:5])
        raise ModelFileError(
            f"{path} holds {len(refused)} type(s) a model written by escalation-model never "
            f"holds: {shown}. Nothing in it was run. Fix: load only model files written by "
            "`escalation-model run` (or save_model) from a source you trust."
        )
    _check_boosters(path, _read_schema(path))
    trusted = sorted({t for _, t in ALLOWED_NODES})
    try:
        model = sio.load(path, trusted=trusted)
        _smoke_test(model)
    except Exception as exc:  # a damaged file that passed the checks
        raise ModelFileError(
            f"{path} could not be read as a model ({type(exc).__name__}). Fix: write it again "
            "with `escalation-model run`."
        ) from None
    return model


def _smoke_test(model: Any) -> None:
    """The loaded model answers a made-up input with probabilities, or it is refused."""
    import numpy as np

    from ._example import input_example

    if type(model).__module__ + "." + type(model).__qualname__ not in MODEL_TYPES:
        raise TypeError("not a model of this library")
    p = np.asarray(model.predict_proba(input_example(model)), dtype=float)
    if p.ndim != 2 or p.shape[1] != 2 or not np.all((p >= 0) & (p <= 1)):
        raise ValueError("its probabilities are not probabilities")

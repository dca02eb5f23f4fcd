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


def untrusted_nodes(path: str | PathLike[str]) -> list[tuple[str, str]]:
    """The (node kind, type) pairs of a skops file that are not on :data:`ALLOWED_NODES`,
    read from its schema without building anything.

    Raises :class:`ModelFileError` if the file is not a skops file at all."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            schema = json.loads(zf.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ModelFileError(
            f"{path} is not a model file written by escalation-model ({type(exc).__name__}). "
            "Fix: pass the model.skops that `escalation-model run` wrote."
        ) from None
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
    trusted = sorted({t for _, t in ALLOWED_NODES})
    try:
        return sio.load(path, trusted=trusted)
    except Exception as exc:  # a damaged file that passed the type check
        raise ModelFileError(
            f"{path} could not be read as a model ({type(exc).__name__}). Fix: write it again "
            "with `escalation-model run`."
        ) from None

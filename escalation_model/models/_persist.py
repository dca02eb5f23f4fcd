"""Safe persistence of fitted models with skops (no pickle)."""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

__all__ = ["load_model", "save_model", "TRUSTED_PREFIXES"]

#: Types from these packages are trusted when loading; anything else is refused.
TRUSTED_PREFIXES = (
    "escalation_model.",
    "sklearn.",
    "lightgbm.",
    "numpy.",
    "scipy.",
    "builtins.",
    "collections.OrderedDict",
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


def load_model(path: str | PathLike[str]) -> Any:
    """Load a model written by :func:`save_model`, trusting only the types of this library
    and its stack; a file holding any other type is refused."""
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist. Fix: check the path.")
    untrusted = sio.get_untrusted_types(file=path)
    refused = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
    if refused:
        raise ValueError(
            f"{path} holds types this library does not trust: {refused}. Fix: load only "
            "models written by escalation-model."
        )
    return sio.load(path, trusted=untrusted)

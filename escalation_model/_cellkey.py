"""The cell key method, as the ONS used it for Census 2021: protection that survives
differencing.

Each family has a fixed random **record key** (0-255), derived from its identifier with a
keyed hash. A published cell's **cell key** is the sum of its members' record keys,
modulo 256, and the cell's figure is moved by a small amount looked up from the cell key
(the perturbation table) before it is rounded. So the same families give the same noise
in every table and every run (nothing averages away by asking again), and a cell that
gains or loses one family gets an unrelated perturbation: two publications one family
apart differ by that family's contribution *plus* a fresh draw of noise, and rounding on
top leaves nothing of a single family's score or outcome to read off.

The hash key is the library's own unless a council sets ``ESCALATION_MODEL_CELL_KEY``
(any text): with it, keys cannot be recomputed even by someone holding the family
identifiers, which the outputs never contain.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["PERTURBATION", "cell_key", "perturbation", "record_keys"]

KEY_RANGE = 256
_DEFAULT_SECRET = "escalation_model record keys v1"

#: The perturbation table: cell key -> value added before rounding. Of 256 cell keys, 128
#: add nothing, 51 add -1 and 51 add +1, 13 add -2 and 13 add +2 (mean 0, variance 0.6).
PERTURBATION = np.repeat([-2, -1, 0, 1, 2], [13, 51, 128, 51, 13])


def _hash_key(secret: str | None = None) -> str:
    text = secret if secret is not None else os.environ.get("ESCALATION_MODEL_CELL_KEY")
    digest = hashlib.sha256((text or _DEFAULT_SECRET).encode("utf-8")).hexdigest()
    return digest[:16]  # the 16 characters pandas' SipHash takes


def record_keys(
    ids: Sequence[object] | pd.Series | np.ndarray, secret: str | None = None
) -> np.ndarray:
    """Each family's record key, 0 to 255, from its identifier (the same identifier gives
    the same key in every run).

    >>> k = record_keys(["F1", "F2", "F1"])
    >>> int(k[0]) == int(k[2]), bool(((k >= 0) & (k < 256)).all())
    (True, True)
    """
    values = pd.Series(ids).astype(str).to_numpy(dtype=object)
    hashed = pd.util.hash_array(values, hash_key=_hash_key(secret), categorize=False)
    return (hashed % KEY_RANGE).astype(np.int64)


def cell_key(keys: np.ndarray, members: np.ndarray | None = None) -> int:
    """The cell key of the families ``members`` (indices or a mask; all if None).

    >>> cell_key(np.array([200, 100, 7]))
    51
    """
    k = keys if members is None else keys[members]
    return int(np.asarray(k, dtype=np.int64).sum() % KEY_RANGE)


def perturbation(cell_keys: int | np.ndarray) -> np.ndarray:
    """What each cell's figure is moved by, from its cell key.

    >>> perturbation(np.array([0, 13, 128, 255])).tolist()
    [-2, -1, 0, 2]
    """
    return PERTURBATION[np.asarray(cell_keys, dtype=np.int64) % KEY_RANGE]

"""Disclosure control of tables: the one function every published table passes through,
and the checker that proves a table is publishable. The rules themselves, and the rule
for a single count or share, are in :mod:`escalation_model._publish`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._errors import EscalationModelError
from .._limits import DISCLOSURE_MIN_CELL
from .._publish import DisclosureRules, publish_count, publish_share

__all__ = [
    "DisclosureError",
    "publish_count",
    "publish_share",
    "DisclosureRules",
    "apply_disclosure_control",
    "assert_publishable",
    "FORBIDDEN_COLUMNS",
]

#: Columns that would identify families or carry individual scores.
FORBIDDEN_COLUMNS = frozenset(
    {"family_id", "score", "probability", "true_probability", "proba", "risk_score"}
)


class DisclosureError(EscalationModelError):
    """A table that must not be published as it stands."""


def _secondary(raw: np.ndarray, suppressed: np.ndarray, blocks: list[np.ndarray]) -> np.ndarray:
    """Suppress one more cell in any block holding exactly one suppressed non-zero cell, so
    the suppressed value cannot be recovered by subtraction from the block's total."""
    suppressed = suppressed.copy()
    changed = True
    while changed:
        changed = False
        for idx in blocks:
            sup = suppressed[idx]
            if sup.sum() == 1 and len(idx) > 1:
                candidates = idx[~sup & (raw[idx] > 0)]
                if candidates.size == 0:
                    candidates = idx[~sup]
                if candidates.size:
                    pick = candidates[np.argmin(raw[candidates])]
                    suppressed[pick] = True
                    changed = True
    return suppressed


def apply_disclosure_control(
    table: pd.DataFrame,
    *,
    count_columns: Sequence[str],
    size_column: str,
    derived_columns: Sequence[str] = (),
    group_columns: Sequence[str] = (),
    rules: DisclosureRules | None = None,
    expected_columns: Sequence[str] = (),
    perturb: np.ndarray | None = None,
    parents: np.ndarray | None = None,
) -> pd.DataFrame:
    """Suppress small cells, protect them from recovery, and round counts.

    1. Every figure of a row whose ``size_column`` (families described) is under
       ``rules.min_cell`` is suppressed (set to missing).
    2. Any other count from 1 to ``min_cell - 1`` is suppressed, with the row's derived
       figures (a rate would reveal it).
    3. Secondary suppression: within the table (and within each level of every other
       group column, for multi-way tables), where exactly one cell of a count column is
       suppressed, the next smallest is suppressed too, so the total does not give it away.
       With ``parents`` (each row's parent area: a ward's authority), the blocks are the
       parents, so the second cell is taken from the same authority, whose total would
       otherwise give the hidden ward back.
    4. Remaining counts are rounded to the nearest ``rules.round_to``, after adding the
       row's cell-key ``perturb`` (:mod:`escalation_model._cellkey`; a zero stays zero).
    5. ``expected_columns`` (sums of the model's probabilities: a family's score would
       show as the difference of two publications) are protected as counts are: moved by
       the row's perturbation and rounded, and suppressed with the row.

    The result carries ``attrs["count_columns"]`` and ``attrs["disclosure_control"]`` so
    that :func:`assert_publishable` can check it.

    Examples
    --------
    >>> t = pd.DataFrame({"area": ["a", "b", "c"], "families": [123, 7, 60],
    ...                   "share": [0.5, 0.1, 0.2]})
    >>> out = apply_disclosure_control(t, count_columns=["families"], size_column="families",
    ...                                derived_columns=["share"])
    >>> out["families"].tolist()
    [125.0, nan, nan]
    """
    rules = rules or DisclosureRules()
    out = table.copy().reset_index(drop=True)
    n = len(out)
    size = out[size_column].to_numpy(dtype=float)
    small_row = size < rules.min_cell
    blocks: list[np.ndarray] = [np.arange(n)]
    if parents is not None:
        labels = pd.Series(np.asarray(parents)).astype("string").fillna("")
        blocks = [np.asarray(i) for i in labels.groupby(labels, sort=False).indices.values()]
    keys = [c for c in group_columns if c in out.columns]
    if len(keys) > 1:
        for k in keys:
            others = [c for c in keys if c != k]
            for idx in out.groupby(others, sort=False, observed=True).indices.values():
                blocks.append(np.asarray(idx))
    row_hidden = small_row.copy()
    moved = np.zeros(n) if perturb is None else np.asarray(perturb, dtype=float)
    for col in count_columns:
        raw = out[col].to_numpy(dtype=float)
        sup = small_row | ((raw > 0) & (raw < rules.min_cell))
        sup = _secondary(np.nan_to_num(raw), sup, blocks)
        row_hidden |= sup & (raw < rules.min_cell)
        noisy = np.where(raw > 0, np.maximum(raw + moved, 0.0), raw)
        out[col] = np.where(sup, np.nan, rules.round(noisy))
    for col in expected_columns:
        raw = np.maximum(out[col].to_numpy(dtype=float) + moved, 0.0)
        # an interval's ends are rounded outwards, so it still holds its rounded estimate
        unit = rules.round_to
        if col.endswith("_lower"):
            published = np.floor(raw / unit) * unit
        elif col.endswith("_upper"):
            published = np.ceil(raw / unit) * unit
        else:
            published = rules.round(raw)
        out[col] = np.where(row_hidden, np.nan, published)
    for col in derived_columns:
        out[col] = np.where(row_hidden, np.nan, out[col].to_numpy(dtype=float))
    out.attrs["count_columns"] = list(count_columns)
    out.attrs["disclosure_control"] = rules.describe()
    out.attrs["min_cell"] = rules.min_cell
    return out


def assert_publishable(table: pd.DataFrame, *, min_cell: int | None = None) -> None:
    """Raise :class:`DisclosureError` if ``table`` holds a family identifier, an individual
    score column, or a count from 1 to ``min_cell - 1``.

    Count columns are those named in ``table.attrs["count_columns"]``; a table without that
    record has not been through :func:`apply_disclosure_control` and is refused.
    """
    bad = sorted(set(map(str, table.columns)) & FORBIDDEN_COLUMNS)
    if bad:
        raise DisclosureError(f"columns {bad} identify families or hold individual scores")
    if "count_columns" not in table.attrs:
        raise DisclosureError(
            "the table has not passed through apply_disclosure_control (no count_columns record)"
        )
    limit = min_cell if min_cell is not None else table.attrs.get("min_cell", DISCLOSURE_MIN_CELL)
    for col in table.attrs["count_columns"]:
        v = table[col].to_numpy(dtype=float)
        small = (v > 0) & (v < limit)
        if small.any():
            raise DisclosureError(f"column '{col}' has {int(small.sum())} cell(s) under {limit}")

"""How models transfer to an authority they have not seen (leave one authority out)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..schema import ColumnRoles
from ._comparison import evaluate_models
from ._splits import Split, leave_one_authority_out

__all__ = ["transfer_by_authority"]


def transfer_by_authority(
    frame: pd.DataFrame,
    roles: ColumnRoles | None,
    models: Mapping[str, Any],
    *,
    within: Split | None = None,
    metrics: tuple[str, ...] = ("roc_auc", "recall_at_capacity"),
    max_train: int | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """Fit on all authorities but one, evaluate on that one, for each authority.

    ``within`` (usually the temporal split) is kept as well: each fit learns from the other
    authorities' training period and is tested on the left-out authority's test period
    (see :func:`leave_one_authority_out`). ``max_train`` caps the training families of each
    fit with a seeded random sample (``kwargs["random_state"]``), so that the check costs
    the same at any scale.

    Returns a tidy table ``authority, n_train, n_test, model, metric, estimate, lower,
    upper`` (intervals by the same bootstrap as :class:`ModelComparison`; ``kwargs`` go to
    it).
    """
    roles = roles or ColumnRoles()
    rng = np.random.default_rng(kwargs.get("random_state", 0))
    rows = []
    for split in leave_one_authority_out(frame, roles, within=within):
        if max_train is not None and len(split.train) > max_train:
            split = replace(
                split, train=np.sort(rng.choice(split.train, size=max_train, replace=False))
            )
        comparison, _ = evaluate_models(frame, roles, split, models, metrics=metrics, **kwargs)
        t = comparison.table.assign(
            authority=split.details["authority"], n_train=len(split.train), n_test=len(split.test)
        )
        rows.append(t)
    out = pd.concat(rows, ignore_index=True)
    return out[["authority", "n_train", "n_test", "model", "metric", "estimate", "lower", "upper"]]

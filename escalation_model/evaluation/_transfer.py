"""How models transfer to an authority they have not seen (leave one authority out)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._publish import DisclosureRules
from .._threads import in_threads
from ..schema import ColumnRoles
from ._comparison import evaluate_models
from ._splits import Split, factorised_families, leave_one_authority_out

__all__ = ["transfer_by_authority"]


def transfer_by_authority(
    frame: pd.DataFrame,
    roles: ColumnRoles | None,
    models: Mapping[str, Any],
    *,
    within: Split | None = None,
    authorities: tuple[str, ...] | None = None,
    metrics: tuple[str, ...] = ("roc_auc", "recall_at_capacity"),
    max_train: int | None = None,
    n_jobs: int | None = None,
    rules: DisclosureRules | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """Fit on all authorities but one, evaluate on that one, for each authority.

    ``within`` (usually the temporal split) is kept as well: each fit learns from the other
    authorities' training period and is tested on the left-out authority's test period
    (see :func:`leave_one_authority_out`); ``authorities`` limits the check to those held
    out (by default every authority with test families). ``max_train`` caps the training
    families of each fit with a seeded random sample (``kwargs["random_state"]``), so
    that the check costs the same at any scale. The authorities are checked ``n_jobs`` at
    a time (default: one per core), each model fitting on one thread, so the numbers do
    not depend on ``n_jobs``.

    Returns a tidy table ``authority, n_train, n_test, model, metric, estimate, lower,
    upper`` (intervals by the same bootstrap as :class:`ModelComparison`; ``kwargs`` go to
    it). With ``rules``, the figures are as published
    (:meth:`ModelComparison.published`).
    """
    roles = roles or ColumnRoles()
    rng = np.random.default_rng(kwargs.get("random_state", 0))
    codes = factorised_families(frame, roles)  # the straddle check's, once for every split
    splits = []
    for split in leave_one_authority_out(frame, roles, within=within, codes=codes):
        if authorities is not None and split.details["authority"] not in authorities:
            continue
        if max_train is not None and len(split.train) > max_train:
            split = replace(
                split, train=np.sort(rng.choice(split.train, size=max_train, replace=False))
            )
        splits.append(split)
    # The fits are independent: each model learns on one thread, and the authorities are
    # taken by as many threads as there are cores (LightGBM releases the GIL while it
    # fits). One thread per fit keeps the numbers the same on any machine.
    models = {name: _one_thread(model) for name, model in models.items()}

    def one(split: Split) -> pd.DataFrame:
        # one thread each: the authorities already take the cores
        comparison, _ = evaluate_models(
            frame, roles, split, models, metrics=metrics, family_codes=codes, n_jobs=1, **kwargs
        )
        table = comparison.table if rules is None else comparison.published(rules)[0]
        return table.assign(
            authority=split.details["authority"], n_train=len(split.train), n_test=len(split.test)
        )

    rows = in_threads([partial(one, split) for split in splits], n_jobs)
    out = pd.concat(rows, ignore_index=True)
    return out[["authority", "n_train", "n_test", "model", "metric", "estimate", "lower", "upper"]]


def _one_thread(model: Any) -> Any:
    """A clone that fits on one thread, wrapped estimators included (a calibrated
    LightGBM's ``estimator__n_jobs``)."""
    keys = [k for k in model.get_params(deep=True) if k == "n_jobs" or k.endswith("__n_jobs")]
    if keys:
        return clone(model).set_params(**dict.fromkeys(keys, 1))
    return model

"""The characteristics a study audits, taken from a frame in roles."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._text import as_text
from ..schema import NOT_RECORDED, ColumnRoles
from ._audit import FairnessAudit

__all__ = ["audit_model", "sensitive_features_from"]


def sensitive_features_from(frame: pd.DataFrame, roles: ColumnRoles | None = None) -> pd.DataFrame:
    """Protected characteristics, the area deprivation quintile (1 = most deprived) and the
    lone-parent household flag (the ``lone_parent`` column of the roles), where the data
    has them."""
    roles = roles or ColumnRoles()
    out = {c: as_text(frame[c]).fillna(NOT_RECORDED) for c in roles.protected if c in frame.columns}
    if roles.deprivation and roles.deprivation in frame.columns:
        decile = frame[roles.deprivation].to_numpy(dtype=float)
        out["deprivation_quintile"] = pd.Series(
            np.ceil(decile / 2).astype(int), index=frame.index
        ).astype("string")
    if roles.lone_parent and roles.lone_parent in frame.columns:
        out[roles.lone_parent] = as_text(frame[roles.lone_parent]).fillna(NOT_RECORDED)
    return pd.DataFrame(out, index=frame.index)


def audit_model(
    model: Any, frame: pd.DataFrame, roles: ColumnRoles | None = None, **kwargs: Any
) -> FairnessAudit:
    """Audit a fitted model on families ``frame`` (typically the test families).

    ``kwargs`` go to :class:`FairnessAudit` (``capacity``, ``intersections``, ...).
    """
    roles = roles or ColumnRoles()
    if not roles.outcome:
        raise ValueError("the audit needs the 'outcome' role")
    proba = model.predict_proba(frame)[:, 1]
    score = model.decision_function(frame) if hasattr(model, "decision_function") else proba
    return FairnessAudit(
        frame[roles.outcome].to_numpy(),
        proba,
        sensitive_features_from(frame, roles),
        y_score=score,
        **kwargs,
    )

"""From a family frame in roles to a numeric feature matrix.

Indicators keep "not known" as NaN (LightGBM routes it; the logistic model imputes 0 and
adds a "not known" flag). Protected characteristics are features only on request; their
categories are learned at fit time and one-hot encoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..schema import ColumnRoles, Problem, SchemaError, leakage_problems

__all__ = ["FeatureSpec", "make_feature_spec", "feature_matrix", "uses_roles"]


@dataclass(frozen=True)
class FeatureSpec:
    """Which columns become which features, learned at fit time.

    Attributes
    ----------
    columns : list of str
        Source columns in the frame, in order.
    names : list of str
        Output feature names (one-hot columns are ``column=level``).
    labels : list of str
        Plain-English labels of ``names``.
    categories : dict
        Levels of each one-hot encoded column.
    monotone : list of int
        +1 where more of the feature can never lower risk (indicators, household factors),
        -1 for the deprivation decile (1 = most deprived), 0 otherwise.
    """

    columns: list[str]
    names: list[str]
    labels: list[str]
    categories: dict[str, list[str]] = field(default_factory=dict)
    monotone: list[int] = field(default_factory=list)


def uses_roles(X: object, roles: ColumnRoles | None) -> bool:
    """Whether ``X`` is read through roles: every DataFrame is (a frame whose columns do
    not match the roles is refused with a SchemaError naming them, never read as a plain
    array whose every column, the outcome included, would be a feature). Plain arrays
    are for scikit-learn's own estimator checks."""
    return isinstance(X, pd.DataFrame)


def make_feature_spec(
    X: pd.DataFrame,
    roles: ColumnRoles,
    *,
    include_protected: bool = False,
    y: np.ndarray | None = None,
) -> FeatureSpec:
    """Learn the feature layout from a training frame, refusing leakage.

    Raises
    ------
    SchemaError
        If a feature column is missing, an identifier or outcome is mapped as a feature, or
        a feature reproduces the outcome.
    """
    columns = roles.features(include_protected=include_protected)
    problems: list[Problem] = []
    missing = [c for c in columns if c not in X.columns]
    for col in missing:
        problems.append(
            Problem(
                col,
                "a feature column named by the roles is not in the data",
                "add the column or change the roles",
            )
        )
    for col, role_list in roles.duplicated_assignments().items():
        if col in columns:
            problems.append(
                Problem(
                    col,
                    f"leakage or ambiguity: the column is mapped to several roles ({role_list})",
                    "map each column to one role; identifiers and outcomes are never features",
                )
            )
    if problems:
        raise SchemaError(problems)
    numeric = [c for c in columns if c not in roles.protected]
    problems = leakage_problems(X, y, numeric)
    if problems:
        raise SchemaError(problems)

    names: list[str] = []
    labels: list[str] = []
    monotone: list[int] = []
    categories: dict[str, list[str]] = {}
    increasing = set(roles.think_family) | set(roles.secondary) | set(roles.household)
    for col in columns:
        s = X[col]
        if col in roles.protected and not pd.api.types.is_numeric_dtype(s):
            levels = sorted(str(v) for v in pd.unique(s.dropna()))
            categories[col] = levels
            for lv in levels:
                names.append(f"{col}={lv}")
                labels.append(f"{roles.label(col)}: {lv}")
                monotone.append(0)
            continue
        names.append(col)
        labels.append(roles.label(col))
        if col in increasing:
            monotone.append(1)
        elif col == roles.deprivation:
            monotone.append(-1)
        else:
            monotone.append(0)
    return FeatureSpec(
        columns=columns, names=names, labels=labels, categories=categories, monotone=monotone
    )


def feature_matrix(X: pd.DataFrame, spec: FeatureSpec) -> np.ndarray:
    """The float64 matrix of ``spec``'s features; "not known" stays NaN."""
    missing = [c for c in spec.columns if c not in X.columns]
    if missing:
        raise SchemaError(
            [
                Problem(c, "a feature column used in fitting is not in the data", "add it")
                for c in missing
            ]
        )
    blocks: list[np.ndarray] = []
    for col in spec.columns:
        s = X[col]
        if col in spec.categories:
            values = s.astype("string").to_numpy(dtype=object, na_value=None)
            block = np.stack([(values == lv).astype(float) for lv in spec.categories[col]], axis=1)
            blocks.append(block)
            continue
        if not pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            raise SchemaError(
                [Problem(col, "a feature must be numeric", "recode it to numbers (0/1)")]
            )
        blocks.append(s.to_numpy(dtype=float, na_value=np.nan)[:, None])
    if not blocks:
        return np.empty((len(X), 0))
    return np.hstack(blocks)

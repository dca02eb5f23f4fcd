"""Validation of a family-level frame against the data contract.

Every check runs before any work starts, every problem is collected, and one
:class:`SchemaError` lists them all. The caller's frame is never modified.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._errors import EscalationModelError
from .._limits import MIN_AUDIT_GROUP_SIZE
from ._registry import ESCALATED_LEVELS, OUTCOME_LEVELS
from ._roles import ColumnRoles

__all__ = [
    "Problem",
    "SchemaError",
    "SchemaWarning",
    "ValidationReport",
    "leakage_problems",
    "validate",
]

_FEATURE_ROLES = ("think_family", "secondary", "household", "deprivation", "area_factors")
_NEVER_FEATURES = ("family_id", "outcome", "outcome_level")
_N_EXAMPLES = 5
#: Agreement with the outcome above which a feature is treated as outcome-derived.
_LEAK_AGREEMENT = 0.99


@dataclass(frozen=True)
class Problem:
    """One broken rule: which column, which rule, example values and the fix."""

    column: str
    rule: str
    fix: str
    role: str | None = None
    examples: tuple[Any, ...] = ()
    n_rows: int | None = None

    def __str__(self) -> str:
        where = f"column '{self.column}'"
        if self.role:
            where += f" (role '{self.role}')"
        text = f"{where}: {self.rule}"
        if self.n_rows is not None:
            text += f" in {self.n_rows:,} row(s)"
        if self.examples:
            shown = ", ".join(repr(_plain(v)) for v in self.examples)
            text += f"; for example {shown}"
        return f"{text}. Fix: {self.fix}"


class SchemaError(EscalationModelError):
    """The data breaks the contract. ``problems`` lists every broken rule."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = [f"{len(problems)} problem(s) found in the data; nothing was changed:"]
        lines += [f"  {i}. {p}" for i, p in enumerate(problems, 1)]
        super().__init__("\n".join(lines))


class SchemaWarning(UserWarning):
    """Something an analysis should know about but that does not stop the work."""


@dataclass(frozen=True)
class ValidationReport:
    """What validation found in data that passed.

    Attributes
    ----------
    n_rows : int
        Number of family rows.
    missing_share : dict
        Share of "not known" values per indicator column that has any.
    warnings : list of Problem
        Issues that do not stop the work (for example groups too small to audit).
    """

    n_rows: int
    missing_share: dict[str, float] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return str(value.date())
    return value


def _examples(values: pd.Series) -> tuple[Any, ...]:
    uniq = pd.unique(values.dropna()) if values.notna().any() else pd.unique(values)
    return tuple(_plain(v) for v in list(uniq)[:_N_EXAMPLES])


def _binary_problem(series: pd.Series, column: str, role: str) -> Problem | None:
    """0/1/missing check that never raises from inside pandas."""
    s = series
    if pd.api.types.is_bool_dtype(s):
        return None
    if not pd.api.types.is_numeric_dtype(s):
        bad = s[s.notna()]
        return Problem(
            column,
            f"values must be 0, 1 or missing, but the column holds text ({s.dtype})",
            "recode the column to 1 (present) and 0 (absent), leaving unknown values empty",
            role,
            _examples(bad),
            int(bad.shape[0]),
        )
    bad_mask = s.notna() & ~s.isin([0, 1])
    n_bad = int(bad_mask.sum())
    if n_bad:
        return Problem(
            column,
            "values must be 0, 1 or missing",
            "recode the column to 1 (present) and 0 (absent), leaving unknown values empty",
            role,
            _examples(s[bad_mask]),
            n_bad,
        )
    return None


def leakage_problems(
    frame: pd.DataFrame, y: np.ndarray | None, features: list[str]
) -> list[Problem]:
    """Features that reproduce the outcome, or that look like identifiers.

    Parameters
    ----------
    frame : pandas.DataFrame
    y : array of 0/1, optional
        The outcome, aligned with ``frame``; without it only identifier-like columns are
        found.
    features : list of str
        The feature columns to check (all present in ``frame``).
    """
    problems: list[Problem] = []
    n = frame.shape[0]
    for col in features:
        if not pd.api.types.is_numeric_dtype(frame[col]):
            continue
        x = frame[col].to_numpy(dtype=float, na_value=np.nan)
        if y is not None:
            known = ~np.isnan(x)
            if known.sum() >= 20 and np.unique(x[known]).size == 2:
                agree = float(np.mean(x[known] == y[known]))
                if max(agree, 1 - agree) >= _LEAK_AGREEMENT:
                    problems.append(
                        Problem(
                            col,
                            f"leakage: the feature matches the outcome in "
                            f"{max(agree, 1 - agree):.1%} of rows, so it is probably derived "
                            "from it",
                            f"remove '{col}' from the features; only information recorded at "
                            "the profile date may be used",
                        )
                    )
        if n >= 50 and frame[col].nunique(dropna=True) == n:
            problems.append(
                Problem(
                    col,
                    "leakage: every row has a different value, so the column looks like an "
                    "identifier",
                    f"remove '{col}' from the features; identifiers are never features",
                )
            )
    return problems


def validate(
    frame: pd.DataFrame,
    roles: ColumnRoles | None = None,
    *,
    require_outcome: bool = True,
    min_group_size: int = MIN_AUDIT_GROUP_SIZE,
    today: pd.Timestamp | str | None = None,
) -> ValidationReport:
    """Check a family-level frame against the data contract, before any work starts.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per family at a profiling date. It is read, never modified.
    roles : ColumnRoles, optional
        The column mapping; defaults to the synthetic population's names.
    require_outcome : bool, default=True
        Whether the outcome must be present (training and evaluation) or may be absent
        (scoring new profiles).
    min_group_size : int
        Protected groups smaller than this raise a :class:`SchemaWarning`.
    today : date-like, optional
        Profile dates after this are rejected as future dates; defaults to today.

    Returns
    -------
    ValidationReport

    Raises
    ------
    SchemaError
        Listing every problem, each naming the column, the rule and the fix.

    Examples
    --------
    >>> from escalation_model.datasets import make_synthetic_population
    >>> pop = make_synthetic_population(2_000, random_state=0)
    >>> validate(pop.frame, pop.roles).n_rows
    2000
    """
    roles = roles if roles is not None else ColumnRoles()
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(
            [
                Problem(
                    "(whole input)",
                    f"expected a pandas DataFrame, got {type(frame).__name__}",
                    "load the data with pandas (for example pandas.read_csv) and pass the frame",
                )
            ]
        )
    problems: list[Problem] = []
    notes: list[Problem] = []

    if frame.shape[0] == 0:
        problems.append(
            Problem("(whole frame)", "the frame has no rows", "pass a frame with family rows")
        )

    dup_cols = frame.columns[frame.columns.duplicated()].unique()
    for col in dup_cols:
        problems.append(
            Problem(
                str(col),
                "the column name appears more than once in the data",
                "rename or drop the repeated columns so every name is unique",
            )
        )

    for col, role_list in roles.duplicated_assignments().items():
        never = [r for r in role_list if r in _NEVER_FEATURES]
        feats = [r for r in role_list if r in _FEATURE_ROLES or r == "protected"]
        if never and feats:
            problems.append(
                Problem(
                    col,
                    f"leakage: the {never[0].replace('_', ' ')} column is also mapped as a "
                    f"feature (roles {role_list})",
                    f"remove '{col}' from the '{feats[0]}' role; identifiers and outcomes are "
                    "never features",
                )
            )
        else:
            problems.append(
                Problem(
                    col,
                    f"mapped to more than one role ({role_list})",
                    "map each column to exactly one role",
                )
            )

    present = set(frame.columns)
    for role, col in roles.assignments():
        if col not in present:
            problems.append(
                Problem(
                    col,
                    f"the column named for role '{role}' is not in the data",
                    f"rename your column to '{col}' or map role '{role}' to the column that "
                    "holds it (ColumnRoles or the [roles] table of your TOML file)",
                    role,
                )
            )
    if require_outcome and not roles.outcome:
        problems.append(
            Problem(
                "(no outcome)",
                "the 'outcome' role is empty but this analysis needs an outcome",
                "map the 'outcome' role to the binary escalation column",
                "outcome",
            )
        )

    if frame.shape[0] == 0 or len(dup_cols):
        raise SchemaError(problems)

    def has(col: str | None) -> bool:
        return bool(col) and col in present

    # --- indicators and household factors: 0/1/missing
    for role in ("think_family", "secondary", "household"):
        for col in getattr(roles, role):
            if has(col):
                prob = _binary_problem(frame[col], col, role)
                if prob:
                    problems.append(prob)

    # --- area factors: numeric; deprivation decile 1..10
    if has(roles.deprivation):
        col = str(roles.deprivation)
        s = frame[col]
        if not pd.api.types.is_numeric_dtype(s):
            problems.append(
                Problem(
                    col,
                    "deprivation decile must be a number from 1 (most deprived) to 10",
                    "convert the column to whole numbers 1-10",
                    "deprivation",
                    _examples(s),
                )
            )
        else:
            bad = s.notna() & ~s.isin(range(1, 11))
            if bad.any() or s.isna().any():
                problems.append(
                    Problem(
                        col,
                        "deprivation decile must be a whole number from 1 (most deprived) to 10 "
                        "and is never missing",
                        "recode to deciles 1-10 (1 = most deprived); fill missing areas from the "
                        "area lookup",
                        "deprivation",
                        _examples(s[bad]) if bad.any() else ("missing",),
                        int(bad.sum() + s.isna().sum()),
                    )
                )
    for col in roles.area_factors:
        if has(col) and not pd.api.types.is_numeric_dtype(frame[col]):
            problems.append(
                Problem(
                    col,
                    "area factors must be numeric",
                    "convert the column to numbers (for example 1 = rural, 0 = urban)",
                    "area_factors",
                    _examples(frame[col]),
                )
            )

    # --- identifiers
    if has(roles.family_id):
        col = str(roles.family_id)
        ids = frame[col]
        n_missing = int(ids.isna().sum())
        if n_missing:
            problems.append(
                Problem(
                    col,
                    "family identifiers are missing",
                    "give every row its pseudonymous family identifier",
                    "family_id",
                    n_rows=n_missing,
                )
            )
        keys = [col] + ([str(roles.profile_date)] if has(roles.profile_date) else [])
        dup = frame.duplicated(subset=keys, keep=False) & ids.notna()
        if dup.any():
            problems.append(
                Problem(
                    col,
                    "the same family appears more than once at the same profile date",
                    "keep one row per family and profile date (remove or merge the duplicates)",
                    "family_id",
                    _examples(ids[dup]),
                    int(dup.sum()),
                )
            )

    # --- profile date
    if has(roles.profile_date):
        col = str(roles.profile_date)
        raw = frame[col]
        if pd.api.types.is_datetime64_any_dtype(raw):
            parsed = raw
        else:
            parsed = pd.to_datetime(raw, errors="coerce", format="mixed")
        unparsed = raw.notna() & parsed.isna()
        if unparsed.any():
            problems.append(
                Problem(
                    col,
                    "profile dates that cannot be read as dates",
                    "write dates as YYYY-MM-DD",
                    "profile_date",
                    _examples(raw[unparsed]),
                    int(unparsed.sum()),
                )
            )
        if raw.isna().any():
            problems.append(
                Problem(
                    col,
                    "profile dates are missing",
                    "give every row the date its indicators were recorded",
                    "profile_date",
                    n_rows=int(raw.isna().sum()),
                )
            )
        limit = pd.Timestamp(today) if today is not None else pd.Timestamp.now().normalize()
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_localize(None)
        future = parsed > limit
        if future.any():
            problems.append(
                Problem(
                    col,
                    f"profile dates in the future (after {limit.date()})",
                    "correct the dates; a profile can only describe the past",
                    "profile_date",
                    _examples(parsed[future]),
                    int(future.sum()),
                )
            )

    # --- outcome
    outcome_ok = False
    if has(roles.outcome):
        col = str(roles.outcome)
        y = frame[col]
        n_missing = int(y.isna().sum())
        if n_missing:
            problems.append(
                Problem(
                    col,
                    "the outcome is missing",
                    "drop rows whose outcome is not yet known (for example profiles less than "
                    "12 months old) or score them without an outcome",
                    "outcome",
                    n_rows=n_missing,
                )
            )
        prob = _binary_problem(y, col, "outcome")
        if prob:
            problems.append(
                Problem(
                    col,
                    "the outcome must be binary: 1 = escalated, 0 = not",
                    "recode the outcome to 1/0 (for example 1 for child in need, child "
                    "protection or looked after within 12 months)",
                    "outcome",
                    prob.examples,
                    prob.n_rows,
                )
            )
        elif require_outcome and y.dropna().nunique() < 2:
            problems.append(
                Problem(
                    col,
                    "the outcome has only one class, so no model can be trained or evaluated",
                    "check the extract: it needs both escalated (1) and not escalated (0) families",
                    "outcome",
                    _examples(y),
                )
            )
        else:
            outcome_ok = n_missing == 0

    if has(roles.outcome_level):
        col = str(roles.outcome_level)
        lev = frame[col].astype("string")
        bad = lev.notna() & ~lev.isin(OUTCOME_LEVELS)
        if bad.any():
            problems.append(
                Problem(
                    col,
                    f"unknown outcome levels (allowed: {', '.join(OUTCOME_LEVELS)})",
                    "recode the levels to the names listed",
                    "outcome_level",
                    _examples(lev[bad]),
                    int(bad.sum()),
                )
            )
        elif outcome_ok:
            implied = lev.isin(ESCALATED_LEVELS).to_numpy()
            y_arr = frame[str(roles.outcome)].to_numpy(dtype=float)
            clash = implied != (y_arr == 1)
            if clash.any():
                problems.append(
                    Problem(
                        col,
                        "the level reached disagrees with the binary outcome (statutory levels "
                        "must have outcome 1, other levels 0)",
                        "derive one from the other so that they agree",
                        "outcome_level",
                        _examples(lev[clash]),
                        int(clash.sum()),
                    )
                )

    # --- leakage: a feature that reproduces the outcome, or an identifier-like feature
    y_known = frame[str(roles.outcome)].to_numpy(dtype=float) if outcome_ok else None
    present_features = [c for c in roles.features(include_protected=False) if has(c)]
    problems.extend(leakage_problems(frame, y_known, present_features))

    # --- protected groups: warnings only
    for col in roles.protected:
        if not has(col):
            continue
        counts = frame[col].value_counts(dropna=True)
        small = counts[counts < min_group_size]
        if len(small):
            notes.append(
                Problem(
                    col,
                    f"group(s) smaller than {min_group_size} families cannot be audited "
                    "reliably and will be reported as too small to assess",
                    "merge small groups into broader categories if that is meaningful, or "
                    "accept that they are reported as too small",
                    "protected",
                    tuple(str(v) for v in small.index[:_N_EXAMPLES]),
                )
            )

    if problems:
        raise SchemaError(problems)
    for note in notes:
        warnings.warn(str(note), SchemaWarning, stacklevel=2)

    missing = {}
    for col in roles.indicators():
        if has(col):
            share = float(frame[col].isna().mean())
            if share > 0:
                missing[col] = share
    return ValidationReport(n_rows=frame.shape[0], missing_share=missing, warnings=notes)

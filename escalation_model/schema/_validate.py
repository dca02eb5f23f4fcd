"""Validation of a family-level frame against the data contract.

Every check runs before any work starts, every problem is collected, and one
:class:`SchemaError` lists them all. The caller's frame is never modified.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._limits import MIN_AUDIT_GROUP_SIZE
from .._text import as_text
from ._dates import parse_dates
from ._notes import NOTES
from ._problems import N_EXAMPLES, Problem, SchemaError, SchemaWarning, examples
from ._registry import ESCALATED_LEVELS, OUTCOME_LEVELS
from ._roles import ColumnRoles

__all__ = [
    "Problem",
    "SchemaError",
    "SchemaWarning",
    "CHECKS",
    "ValidationReport",
    "leakage_problems",
    "validate",
]

_FEATURE_ROLES = ("think_family", "secondary", "household", "deprivation", "area_factors")
_NEVER_FEATURES = ("family_id", "outcome", "outcome_level", "early_help", "early_help_outcome")
#: Agreement with the outcome above which a feature is treated as outcome-derived.
_LEAK_AGREEMENT = 0.99


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
            examples(bad),
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
            examples(s[bad_mask]),
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
        distinct = frame[col].nunique(dropna=True)  # one hash pass, for both checks
        if y is not None and distinct == 2:
            x = frame[col].to_numpy(dtype=float, na_value=np.nan)
            known = ~np.isnan(x)
            if known.sum() >= 20:
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
        if n >= 50 and distinct == n:
            problems.append(
                Problem(
                    col,
                    "leakage: every row has a different value, so the column looks like an "
                    "identifier",
                    f"remove '{col}' from the features; identifiers are never features",
                )
            )
    return problems


def _has(frame: pd.DataFrame, col: str | None) -> bool:
    return bool(col) and col in frame.columns


def _rows(mask: pd.Series | np.ndarray) -> tuple[str, ...]:
    """Row numbers as a spreadsheet shows them (header on row 1), for examples that must
    not quote the values themselves (family identifiers)."""
    pos = np.flatnonzero(np.asarray(mask))[:N_EXAMPLES]
    return tuple(f"row {p + 2}" for p in pos)


# ---------------------------------------------------------------- the checks
# Each check takes (frame, roles) and returns the problems it finds; ``validate`` runs
# every one and raises one SchemaError listing them all. A check never raises.


def check_roles_map_to_columns(frame: pd.DataFrame, roles: ColumnRoles) -> list[Problem]:
    """Every column a role names is in the data, once, in one role."""
    problems = []
    for col, role_list in roles.duplicated_assignments().items():
        never = [r for r in role_list if r in _NEVER_FEATURES]
        feats = [r for r in role_list if r in _FEATURE_ROLES or r == "protected"]
        if never and feats:
            rule = (
                f"leakage: the {never[0].replace('_', ' ')} column is also mapped as a "
                f"feature (roles {role_list})"
            )
            fix = f"remove '{col}' from the '{feats[0]}' role; identifiers and outcomes are "
            problems.append(Problem(col, rule, fix + "never features"))
        else:
            problems.append(
                Problem(
                    col,
                    f"mapped to more than one role ({role_list})",
                    "map each column to exactly one role",
                )
            )
    for role, col in roles.assignments():
        if col not in frame.columns:
            problems.append(
                Problem(
                    col,
                    f"the column named for role '{role}' is not in the data",
                    f"rename your column to '{col}' or map role '{role}' to the column that "
                    "holds it (ColumnRoles or the [roles] table of your TOML file)"
                    + (
                        "; a model is trained and tested on known outcomes, so to score "
                        "families whose outcome is not yet known use escalation-model score "
                        "--model with a model a run wrote"
                        if role == "outcome"
                        else ""
                    ),
                    role,
                )
            )
    if not roles.indicators():
        problems.append(
            Problem(
                "think_family, secondary",
                "the roles name no Think Family or secondary indicator, and the study is of "
                "them (the 5+ rule, the profile table and the model all start from them)",
                "map at least one indicator column to think_family or secondary in the "
                "[roles] table",
                "think_family",
            )
        )
    return problems


def check_binary_columns(frame: pd.DataFrame, roles: ColumnRoles) -> list[Problem]:
    """Indicators, household factors and early-help receipt hold 0, 1 or missing."""
    pairs = [(r, c) for r in ("think_family", "secondary", "household") for c in getattr(roles, r)]
    pairs += [
        (r, getattr(roles, r)) for r in ("early_help", "early_help_outcome") if getattr(roles, r)
    ]
    found = (_binary_problem(frame[col], col, role) for role, col in pairs if _has(frame, col))
    return [p for p in found if p]


def check_deprivation(frame: pd.DataFrame, roles: ColumnRoles) -> list[Problem]:
    """The deprivation decile is a whole number from 1 to 10, never missing."""
    if not _has(frame, roles.deprivation):
        return []
    col = str(roles.deprivation)
    s = frame[col]
    if not pd.api.types.is_numeric_dtype(s):
        return [
            Problem(
                col,
                "deprivation decile must be a number from 1 (most deprived) to 10",
                "convert the column to whole numbers 1-10",
                "deprivation",
                examples(s),
            )
        ]
    bad = s.notna() & ~s.isin(range(1, 11))
    if not (bad.any() or s.isna().any()):
        return []
    return [
        Problem(
            col,
            "deprivation decile must be a whole number from 1 (most deprived) to 10 and is "
            "never missing",
            "recode to deciles 1-10 (1 = most deprived); fill missing areas from the area lookup",
            "deprivation",
            examples(s[bad]) if bad.any() else ("missing",),
            int(bad.sum() + s.isna().sum()),
        )
    ]


def check_area_factors(frame: pd.DataFrame, roles: ColumnRoles) -> list[Problem]:
    """Area factors are finite numbers (missing is allowed)."""
    problems = []
    for col in roles.area_factors:
        if not _has(frame, col):
            continue
        s = frame[col]
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            problems.append(
                Problem(
                    col,
                    "area factors must be numeric",
                    "convert the column to numbers (for example 1 = rural, 0 = urban)",
                    "area_factors",
                    examples(s),
                )
            )
            continue
        x = s.to_numpy(dtype=float, na_value=np.nan)
        infinite = np.isinf(x)
        if infinite.any():
            problems.append(
                Problem(
                    col,
                    "area factors must be finite (the column holds infinite values)",
                    "replace infinite values (often a division by zero upstream) with the "
                    "right figure, or leave them empty",
                    "area_factors",
                    examples(s[infinite]),
                    int(infinite.sum()),
                )
            )
    return problems


def check_family_ids(frame: pd.DataFrame, roles: ColumnRoles) -> list[Problem]:
    """Every row has a family identifier, once per profile date. Examples are row
    numbers: an identifier never appears in a message."""
    if not _has(frame, roles.family_id):
        return []
    col = str(roles.family_id)
    ids = frame[col]
    problems = []
    if ids.isna().any():
        problems.append(
            Problem(
                col,
                "family identifiers are missing",
                "give every row its pseudonymous family identifier",
                "family_id",
                _rows(ids.isna()),
                int(ids.isna().sum()),
            )
        )
    if ids.is_unique:  # one hash of the identifiers: no pair can repeat
        return problems
    keys = [col] + ([str(roles.profile_date)] if _has(frame, roles.profile_date) else [])
    dup = frame.duplicated(subset=keys, keep=False) & ids.notna()
    if dup.any():
        problems.append(
            Problem(
                col,
                "the same family appears more than once at the same profile date",
                "keep one row per family and profile date (remove or merge the duplicates)",
                "family_id",
                _rows(dup),
                int(dup.sum()),
            )
        )
    return problems


def check_profile_dates(
    frame: pd.DataFrame, roles: ColumnRoles, today: pd.Timestamp | None = None
) -> list[Problem]:
    """Profile dates are present, readable for certain, plausible and not in the future."""
    if not _has(frame, roles.profile_date):
        return []
    col = str(roles.profile_date)
    raw = frame[col]
    parsed, problems = parse_dates(raw, col, date_format=roles.date_format)
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
    limit = today if today is not None else pd.Timestamp.now().normalize()
    future = parsed > limit
    if future.any():
        problems.append(
            Problem(
                col,
                f"profile dates in the future (after {limit.date()})",
                "correct the dates; a profile can only describe the past",
                "profile_date",
                examples(parsed[future]),
                int(future.sum()),
            )
        )
    return problems


def _outcome_usable(frame: pd.DataFrame, roles: ColumnRoles) -> bool:
    """Whether the outcome is present, complete and binary (so other checks can use it)."""
    if not _has(frame, roles.outcome):
        return False
    y = frame[str(roles.outcome)]
    return not y.isna().any() and _binary_problem(y, str(roles.outcome), "outcome") is None


def check_outcome(
    frame: pd.DataFrame, roles: ColumnRoles, require_outcome: bool = True
) -> list[Problem]:
    """The outcome is binary and complete; for training it has both classes."""
    if require_outcome and not roles.outcome:
        return [
            Problem(
                "(no outcome)",
                "the 'outcome' role is empty but this analysis needs an outcome",
                "map the 'outcome' role to the binary escalation column",
                "outcome",
            )
        ]
    if not _has(frame, roles.outcome):
        return []
    col = str(roles.outcome)
    y = frame[col]
    problems = []
    if y.isna().any():
        problems.append(
            Problem(
                col,
                "the outcome is missing",
                "drop rows whose outcome is not yet known (for example profiles less than "
                "12 months old) or score them without an outcome",
                "outcome",
                n_rows=int(y.isna().sum()),
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
                examples(y),
            )
        )
    return problems


def check_outcome_level(frame: pd.DataFrame, roles: ColumnRoles) -> list[Problem]:
    """Outcome levels are known names and agree with the binary outcome."""
    if not _has(frame, roles.outcome_level):
        return []
    col = str(roles.outcome_level)
    lev = as_text(frame[col])
    bad = lev.notna() & ~lev.isin(OUTCOME_LEVELS)
    if bad.any():
        return [
            Problem(
                col,
                f"unknown outcome levels (allowed: {', '.join(OUTCOME_LEVELS)})",
                "recode the levels to the names listed",
                "outcome_level",
                examples(lev[bad]),
                int(bad.sum()),
            )
        ]
    if not _outcome_usable(frame, roles):
        return []
    implied = lev.isin(ESCALATED_LEVELS).to_numpy(dtype=bool, na_value=False)
    clash = implied != (frame[str(roles.outcome)].to_numpy(dtype=float) == 1)
    if not clash.any():
        return []
    return [
        Problem(
            col,
            "the level reached disagrees with the binary outcome (statutory levels must have "
            "outcome 1, other levels 0)",
            "derive one from the other so that they agree",
            "outcome_level",
            examples(lev[clash]),
            int(clash.sum()),
        )
    ]


def check_leakage(frame: pd.DataFrame, roles: ColumnRoles) -> list[Problem]:
    """No feature reproduces the outcome or looks like an identifier."""
    y = frame[str(roles.outcome)].to_numpy(dtype=float) if _outcome_usable(frame, roles) else None
    present = [c for c in roles.features(include_protected=False) if _has(frame, c)]
    return leakage_problems(frame, y, present)


def check_codes(frame: pd.DataFrame, roles: ColumnRoles) -> list[Problem]:
    """Area codes and protected groups that differ only by case or spaces (``LA03``,
    ``LA03 ``, ``la03``) would be counted as different groups."""
    problems = []
    for role in ("area", "protected"):
        for col in getattr(roles, role):
            if not _has(frame, col) or pd.api.types.is_numeric_dtype(frame[col]):
                continue
            values = pd.Series(frame[col].dropna().unique()).astype(str)
            folded = values.str.strip().str.casefold()
            clash = folded.duplicated(keep=False)
            if clash.any():
                problems.append(
                    Problem(
                        col,
                        f"{int(folded[clash].nunique())} code(s) are written in more than one "
                        "way (differing only by capitals or spaces), so they would count as "
                        "different groups",
                        "write each code one way (for example trim spaces and use capitals)",
                        role,
                        tuple(values[clash].map(repr).head(N_EXAMPLES)),
                    )
                )
    return problems


#: The checks ``validate`` runs, in order; each is documented by its docstring.
CHECKS: tuple[Callable[..., list[Problem]], ...] = (
    check_roles_map_to_columns,
    check_binary_columns,
    check_deprivation,
    check_area_factors,
    check_family_ids,
    check_profile_dates,
    check_outcome,
    check_outcome_level,
    check_leakage,
    check_codes,
)


def _notes(frame: pd.DataFrame, roles: ColumnRoles, min_group_size: int) -> list[Problem]:
    """What does not stop the work: every note of :data:`~._notes.NOTES`."""
    return [note for check in NOTES for note in check(frame, roles, min_group_size)]


def _whole_input(frame: Any) -> list[Problem]:
    if not isinstance(frame, pd.DataFrame):
        return [
            Problem(
                "(whole input)",
                f"expected a pandas DataFrame, got {type(frame).__name__}",
                "load the data with pandas (for example pandas.read_csv) and pass the frame",
            )
        ]
    problems = []
    if frame.shape[0] == 0:
        problems.append(
            Problem("(whole frame)", "the frame has no rows", "pass a frame with family rows")
        )
    for col in frame.columns[frame.columns.duplicated()].unique():
        problems.append(
            Problem(
                str(col),
                "the column name appears more than once in the data",
                "rename or drop the repeated columns so every name is unique",
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

    Runs every check in :data:`CHECKS` and collects what they find.

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
        Listing every problem, each naming the column, the rule and the fix. No message
        quotes a family identifier (row numbers are given instead).

    Examples
    --------
    >>> from escalation_model.datasets import make_synthetic_population
    >>> pop = make_synthetic_population(20_000, random_state=0)
    >>> validate(pop.frame, pop.roles).n_rows
    20000
    """
    roles = roles if roles is not None else ColumnRoles()
    problems = _whole_input(frame)
    if problems:
        raise SchemaError(problems)
    limit = pd.Timestamp(today) if today is not None else None
    for check in CHECKS:
        if check is check_outcome:
            problems += check(frame, roles, require_outcome)
        elif check is check_profile_dates:
            problems += check(frame, roles, limit)
        else:
            problems += check(frame, roles)
    if problems:
        raise SchemaError(problems)
    notes = _notes(frame, roles, min_group_size)
    for note in notes:
        warnings.warn(str(note), SchemaWarning, stacklevel=2)
    missing = {
        col: float(frame[col].isna().mean())
        for col in roles.indicators()
        if _has(frame, col) and frame[col].isna().any()
    }
    return ValidationReport(n_rows=frame.shape[0], missing_share=missing, warnings=notes)

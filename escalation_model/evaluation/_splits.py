"""Honest splits: whole families on one side, later periods held out, unseen authorities."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._errors import EscalationModelError
from .._limits import OUTCOME_HORIZON_DAYS
from .._text import as_text
from ..schema import ColumnRoles, parse_profile_dates

__all__ = ["Split", "SplitError", "check_split", "leave_one_authority_out", "temporal_split"]


class SplitError(EscalationModelError):
    """A train/test split that would leak information from the test set into training."""


@dataclass(frozen=True, eq=False)
class Split:
    """Row positions of a train/test split, with a description for reports.

    Attributes
    ----------
    name : str
    train, test : numpy.ndarray
        Integer positions (``iloc``) of the training and test rows.
    description : str
        Plain-English account of the split.
    details : dict
        Dates, counts and the families moved to keep them on one side.
    """

    name: str
    train: np.ndarray
    test: np.ndarray
    description: str
    details: dict[str, object] = field(default_factory=dict)


def _dates(frame: pd.DataFrame, roles: ColumnRoles) -> pd.Series:
    if not roles.profile_date or roles.profile_date not in frame.columns:
        raise SplitError(
            "a temporal split needs the 'profile_date' role. Fix: map it to the column "
            "holding the date each family's indicators were recorded."
        )
    return parse_profile_dates(frame, roles)


def _marked(n: int, rows: np.ndarray) -> np.ndarray:
    """A boolean mask of length ``n``, true at positions ``rows``."""
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    return mask


def factorised_families(frame: pd.DataFrame, roles: ColumnRoles) -> np.ndarray | None:
    """An integer code per row for the family column, for :func:`check_split` (missing
    identifiers get -1, never matched); None without the column."""
    if roles.family_id and roles.family_id in frame.columns:
        return np.asarray(pd.factorize(frame[roles.family_id])[0])
    return None


def check_split(
    frame: pd.DataFrame,
    roles: ColumnRoles | None,
    split: Split,
    *,
    horizon_days: int | None = OUTCOME_HORIZON_DAYS,
    family_codes: np.ndarray | None = None,
) -> None:
    """Refuse a split in which a family straddles train and test, rows overlap, or (with
    ``horizon_days``) a training outcome window reaches into the test period.

    ``family_codes`` (integer codes of the family column, as from ``pandas.factorize``)
    saves recomputing them when one frame is split many times.

    Raises
    ------
    SplitError
    """
    roles = roles or ColumnRoles()
    train, test = np.asarray(split.train), np.asarray(split.test)
    if len(train) == 0 or len(test) == 0:
        raise SplitError(
            f"split '{split.name}': the training or test set is empty. Fix: check the "
            "profile dates span more than the outcome horizon, or set [split] test_start."
        )
    # linear-time checks by marking positions (sorting 1M ids per split took seconds)
    n_overlap = int(np.count_nonzero(_marked(len(frame), train)[test]))
    if n_overlap:
        raise SplitError(
            f"split '{split.name}': {n_overlap} row(s) are in both the training and test "
            "sets. Fix: give each row to one side."
        )
    codes = factorised_families(frame, roles) if family_codes is None else family_codes
    if codes is not None and roles.family_id and roles.family_id in frame.columns:
        family_in_train = np.zeros(int(codes.max(initial=-1)) + 2, dtype=bool)
        family_in_train[codes[train]] = True
        family_in_train[-1] = False  # the slot of missing ids (code -1)
        straddling = test[family_in_train[codes[test]]]
        if straddling.size:
            # the rows' positions, never the identifiers (which stay in memory)
            n_families = pd.unique(codes[straddling]).size
            raise SplitError(
                f"split '{split.name}': {n_families} family(ies) straddle training and test "
                f"(column '{roles.family_id}'; for example the test profiles at positions "
                f"{straddling[:3].tolist()} of the frame, counting from 0). Fix: keep all "
                "of a family's profiles on one side (temporal_split does this)."
            )
    if horizon_days is not None and roles.profile_date and roles.profile_date in frame.columns:
        dates = _dates(frame, roles)
        last_outcome = dates.iloc[train].max() + pd.Timedelta(days=horizon_days)
        first_test = dates.iloc[test].min()
        if split.name.startswith("temporal") and last_outcome > first_test:
            raise SplitError(
                f"split '{split.name}': training outcomes run to {last_outcome.date()}, past "
                f"the first test profile on {first_test.date()}, so training labels reach "
                f"into the test period. Fix: leave a gap of {horizon_days} days."
            )


def temporal_split(
    frame: pd.DataFrame,
    roles: ColumnRoles | None = None,
    *,
    test_start: str | pd.Timestamp | None = None,
    horizon_days: int = OUTCOME_HORIZON_DAYS,
) -> Split:
    """Train on earlier profiles, test on later ones, with a gap of the outcome horizon.

    Test rows are profiled on or after ``test_start``; training rows at least
    ``horizon_days`` before it, so that no training outcome window reaches into the test
    period. Families with a profile in the test period have all their profiles removed from
    training, so no family straddles the split.

    Parameters
    ----------
    frame : pandas.DataFrame
    roles : ColumnRoles, optional
    test_start : date-like, optional
        Defaults to the start of the last full year of profiles (the latest ``horizon``).
    horizon_days : int, default=365

    Examples
    --------
    >>> from escalation_model.datasets import make_synthetic_population
    >>> pop = make_synthetic_population(5_000, random_state=0)
    >>> s = temporal_split(pop.frame)
    >>> s.details["test_start"], s.details["train_end"]
    ('2015-01-01', '2013-12-31')
    """
    roles = roles or ColumnRoles()
    dates = _dates(frame, roles)
    if test_start is None:
        last = dates.max()
        start = pd.Timestamp(year=last.year, month=1, day=1)
        if (last - start).days < horizon_days // 2:
            start = pd.Timestamp(year=last.year - 1, month=1, day=1)
    else:
        start = pd.Timestamp(test_start)
    train_end = start - pd.Timedelta(days=horizon_days)
    d = dates.to_numpy()
    test_mask = d >= np.datetime64(start)
    train_mask = d < np.datetime64(train_end)
    moved = 0
    if roles.family_id and roles.family_id in frame.columns:
        ids = frame[roles.family_id].to_numpy()
        # hashed (pandas), not np.isin: with text ids, as a council's are, np.isin compares
        # every pair (7 s at 60,000 families, hours at millions)
        in_test = pd.Series(ids).isin(pd.unique(ids[test_mask])).to_numpy()
        moved = int((train_mask & in_test).sum())
        train_mask &= ~in_test
    split = Split(
        name="temporal",
        train=np.flatnonzero(train_mask),
        test=np.flatnonzero(test_mask),
        description=(
            f"trained on profiles before {train_end.date()}, tested on profiles from "
            f"{start.date()}; a gap of {horizon_days} days keeps training outcomes out of "
            "the test period, and families profiled in the test period are left out of "
            "training"
        ),
        details={
            "test_start": str(start.date()),
            "train_end": str((train_end - pd.Timedelta(days=1)).date()),
            "horizon_days": horizon_days,
            "n_train": int(train_mask.sum()),
            "n_test": int(test_mask.sum()),
            "train_profiles_removed_for_test_families": moved,
        },
    )
    check_split(frame, roles, split, horizon_days=horizon_days)
    return split


def leave_one_authority_out(
    frame: pd.DataFrame,
    roles: ColumnRoles | None = None,
    *,
    within: Split | None = None,
    codes: np.ndarray | None = None,
) -> list[Split]:
    """One split per authority: train on the others, test on it.

    The authority column is the coarsest ``area`` role. Families are whole within an
    authority, so none straddles a split.

    Parameters
    ----------
    frame : pandas.DataFrame
    roles : ColumnRoles, optional
    within : Split, optional
        A split to respect as well, usually the :func:`temporal_split`: each authority's
        split then trains on the *other* authorities' training rows and tests on *its own*
        test rows, so the check asks how the model does on a later period in an authority
        it has never seen. Without it, every row of the other authorities trains and every
        row of the authority tests, whatever their dates. An authority with no families
        in the test period has nothing to test and is left out.
    codes : array, optional
        The family column's codes (:func:`factorised_families`), if already computed.
    """
    roles = roles or ColumnRoles()
    if not roles.area:
        raise SplitError(
            "leave-one-authority-out needs the 'area' role. Fix: map it, finest first, "
            "ending with the local authority column."
        )
    # each authority's rows by integer code (comparing millions of strings took seconds)
    in_authority, names = pd.factorize(as_text(frame[roles.area[-1]]))
    everyone = np.ones(len(frame), dtype=bool)
    may_train = everyone if within is None else _marked(len(frame), within.train)
    may_test = everyone if within is None else _marked(len(frame), within.test)
    codes_of_families = factorised_families(frame, roles) if codes is None else codes
    described = "" if within is None else f" ({within.name} split kept)"
    splits = []
    for k in np.argsort(np.asarray(names, dtype=object), kind="stable"):
        authority = names[k]
        here = in_authority == k
        train, test = np.flatnonzero(may_train & ~here), np.flatnonzero(may_test & here)
        if len(test) == 0:
            continue  # an authority with no test-period families cannot be checked
        split = Split(
            name=f"authority:{authority}",
            train=train,
            test=test,
            description=f"trained on the other authorities, tested on {authority}{described}",
            details={
                "authority": str(authority),
                "n_train": int(len(train)),
                "n_test": int(len(test)),
            },
        )
        check_split(frame, roles, split, horizon_days=None, family_codes=codes_of_families)
        splits.append(split)
    return splits

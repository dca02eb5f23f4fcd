"""The plan of a study: checked and decided before any model is fitted.

:func:`plan_study` validates the data, reads the profile dates once, makes the temporal
split and decides which analyses can run on this data and which are skipped, and why.
Data that cannot support the study at all (too few families or escalations on a side of
the split) is refused here with a :class:`SchemaError`, before any work. The command
line prints the plan first; the summary and the card carry its notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._limits import (
    MAX_TRANSFER_AREAS,
    MIN_SPLIT_ESCALATIONS,
    MIN_SPLIT_FAMILIES,
    MITIGATION_SAMPLE,
)
from .._publish import DisclosureRules, publish_count
from .._selection import capacity_problem
from .._text import as_text
from ..config import RunConfig
from ..evaluation import Split, temporal_split
from ..fairness import sensitive_features_from
from ..schema import (
    NOT_RECORDED,
    ColumnRoles,
    Problem,
    SchemaError,
    ValidationReport,
    area_keys,
    parse_profile_dates,
    validate,
)
from ._impact import impact_plan
from ._result import StudyData
from ._rollout import ROLLOUT, RolloutPlan, rollout_plan

#: The analysis the early-help role enables, as the plan and the card name it.
IMPACT = "the estimated effect of early help"

__all__ = ["StudyPlan", "plan_study"]


@dataclass(frozen=True, eq=False)
class StudyPlan:
    """What a study will do on its data, decided before any fitting.

    Attributes
    ----------
    frame : pandas.DataFrame
        The families as analysed: profile dates read once, missing area and protected
        values counted in the group "not recorded". The caller's frame is untouched.
    validation : ValidationReport
    split : Split
        The temporal split.
    transfer_authorities : tuple of str
        Authorities the leave-one-authority-out check holds out (empty: skipped).
    mitigation : bool
        Whether the ThresholdOptimizer comparison runs.
    mitigation_characteristic : str or None
        The column it is compared on (the configuration's, or the first protected
        characteristic).
    mitigation_rows : numpy.ndarray
        The seeded sample of training families its thresholds are fitted on.
    skipped : list of (analysis, reason)
    read_notes : list of str
        What reading the file noticed (for example its separator).
    """

    frame: pd.DataFrame
    roles: ColumnRoles
    validation: ValidationReport
    split: Split
    transfer_authorities: tuple[str, ...] = ()
    mitigation: bool = False
    mitigation_characteristic: str | None = None
    mitigation_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    skipped: list[tuple[str, str]] = field(default_factory=list)
    read_notes: list[str] = field(default_factory=list)
    #: the areas and their start dates, where the roll-out estimate runs
    rollout: RolloutPlan | None = None

    @property
    def impact(self) -> bool:
        """Whether the effect of early help is estimated."""
        return not any(what == IMPACT for what, _ in self.skipped)

    @property
    def notes(self) -> list[str]:
        """One sentence per skipped analysis."""
        return [f"{what} skipped: {why}" for what, why in self.skipped]

    def describe(self) -> list[str]:
        """The plan in lines for the command line."""
        n_train, n_test = (_published(len(self.split.train)), _published(len(self.split.test)))
        lines = [
            f"plan: {len(self.frame):,} families; {self.split.description} "
            f"({n_train} training, {n_test} test families, rounded as the card prints them)",
        ]
        lines += [f"note: {n}" for n in self.read_notes]
        lines += [f"warning: {w}" for w in self.validation.warnings]
        lines += [f"skipped: {what} ({why})" for what, why in self.skipped]
        return lines


def analysed_frame(frame: pd.DataFrame, roles: ColumnRoles) -> pd.DataFrame:
    """Dates read once; missing areas and protected values in the group 'not recorded';
    area codes that repeat across their parent keyed by it (two authorities' ward W001
    are two wards)."""
    changes: dict[str, pd.Series] = {}
    if roles.profile_date and roles.profile_date in frame.columns:
        dates = parse_profile_dates(frame, roles)
        if dates is not frame[roles.profile_date]:
            changes[roles.profile_date] = dates
    for col in (*roles.area, *roles.protected):
        if col in frame.columns and frame[col].isna().any():
            changes[col] = as_text(frame[col]).fillna(NOT_RECORDED)
    keyed = area_keys(frame, roles, frame.assign(**changes) if changes else frame)
    changes.update(keyed)
    return frame.assign(**changes) if changes else frame


def _split_problems(frame: pd.DataFrame, roles: ColumnRoles, split: Split) -> list[Problem]:
    y = frame[str(roles.outcome)].to_numpy(dtype=float)
    problems = []
    for side, rows in (("training", split.train), ("test", split.test)):
        n, events = len(rows), int(y[rows].sum())
        if n < MIN_SPLIT_FAMILIES or events < MIN_SPLIT_ESCALATIONS:
            problems.append(
                Problem(
                    str(roles.profile_date),
                    f"the {side} period ({split.details.get('test_start', '')} split) has "
                    f"{n:,} families and {events:,} escalations; a study needs at least "
                    f"{MIN_SPLIT_FAMILIES} families and {MIN_SPLIT_ESCALATIONS} escalations "
                    "on each side",
                    "give more years of profiles, or set [split] test_start so that both "
                    "periods hold enough families",
                    "profile_date",
                )
            )
    return problems


def _transfer_plan(
    frame: pd.DataFrame, roles: ColumnRoles, split: Split, config: RunConfig
) -> tuple[tuple[str, ...], list[tuple[str, str]]]:
    what = "leave-one-authority-out check"
    if not config.split.leave_one_authority_out:
        return (), [(what, "switched off in the configuration")]
    if not roles.area:
        return (), [(what, "the data has no 'area' role")]
    # the authorities by integer code: comparing millions of strings took seconds
    in_area, names = pd.factorize(as_text(frame[roles.area[-1]]), use_na_sentinel=False)
    names = np.asarray(names, dtype=object)
    code_of = {name: k for k, name in enumerate(names)}
    y = frame[str(roles.outcome)].to_numpy(dtype=float)
    authorities = sorted(names[np.unique(in_area[split.test])])
    if np.unique(in_area[split.train]).size < 2 or len(authorities) < 2:
        return (), [(what, "it needs at least two authorities and the data has one")]
    if len(authorities) > MAX_TRANSFER_AREAS:
        col = roles.area[-1]
        return (), [
            (
                what,
                f"the coarsest area column '{col}' has {len(authorities)} areas; the check "
                f"holds out one authority at a time and is meant for a few (at most "
                f"{MAX_TRANSFER_AREAS}): name the authority column in the area role",
            )
        ]
    # the metrics exist once a held-out authority has both outcomes; its interval then
    # says how little a handful of escalations can tell
    y_test, codes_test = y[split.test], in_area[split.test]
    fit = tuple(a for a in authorities if len(np.unique(y_test[codes_test == code_of[a]])) == 2)
    skipped = []
    if len(fit) < len(authorities):
        skipped.append(
            (
                f"transfer to {len(authorities) - len(fit)} authority(ies)",
                "no escalation, or no family without one, in its test period",
            )
        )
    return fit, skipped


def mitigation_rows(split: Split, random_state: int) -> np.ndarray:
    """The training families ThresholdOptimizer is fitted on: a seeded sample of
    :data:`MITIGATION_SAMPLE` (it learns a handful of thresholds, so the cost stays flat
    at any scale)."""
    rows = split.train
    if len(rows) > MITIGATION_SAMPLE:
        rng = np.random.default_rng(random_state)
        rows = np.sort(rng.choice(rows, size=MITIGATION_SAMPLE, replace=False))
    return rows


def _mitigation_plan(
    frame: pd.DataFrame, roles: ColumnRoles, rows: np.ndarray, col: str | None
) -> tuple[bool, list[tuple[str, str]]]:
    what = "mitigation comparison (ThresholdOptimizer)"
    if col is None:
        return False, [(what, "no characteristic to compare it on (no 'protected' role)")]
    if col not in frame.columns:
        return False, [(what, f"the data has no column '{col}'")]
    y = frame[str(roles.outcome)].to_numpy(dtype=float)[rows]
    groups = as_text(frame[col].iloc[rows]).to_numpy()
    for g in pd.unique(groups):  # fairlearn needs both outcomes in every group
        if len(np.unique(y[groups == g])) < 2:
            reason = (
                f"a group of '{col}' has no escalation, or no family without one, among the "
                "training families its thresholds would be fitted on"
            )
            return False, [(what, reason)]
    return True, []


#: The settings each analysis reads: recorded as not run when the plan skips it.
_SETTINGS_OF: dict[str, tuple[str, ...]] = {
    "leave-one-authority-out check": (
        "split.leave_one_authority_out",
        "split.transfer_max_train",
        "split.transfer_n_bootstrap",
    ),
    "fairness audit": (
        "fairness.intersections",
        "fairness.min_group_size",
        "fairness.prioritised",
        "fairness.mitigation_characteristic",
    ),
    "mitigation comparison (ThresholdOptimizer)": ("fairness.mitigation_characteristic",),
}


def settings_in_run(plan: StudyPlan, config: RunConfig) -> dict[str, str]:
    """What became of each setting whose analysis did not run, or whose value the run
    chose: ``{"split.leave_one_authority_out": "not run: the data has no 'area' role"}``."""
    out: dict[str, str] = {}
    for what, why in plan.skipped:
        for key in _SETTINGS_OF.get(what, ()):
            out.setdefault(key, f"not run: {why}")
    if not plan.roles.area and "area" in config.population.groupings:
        out["population.groupings"] = "'area' not run: the data has no 'area' role"
    present = set(plan.frame.columns)
    missing = [i for i in config.fairness.intersections if not set(i) <= present]
    if missing and "fairness.intersections" not in out:
        out["fairness.intersections"] = (
            "not audited: "
            + "; ".join(" x ".join(i) for i in missing)
            + " (the data lacks a column)"
        )
    if (
        plan.mitigation
        and plan.mitigation_characteristic
        and config.fairness.mitigation_characteristic != plan.mitigation_characteristic
    ):
        out["fairness.mitigation_characteristic"] = (
            f"used: {plan.mitigation_characteristic} (the first protected characteristic)"
        )
    return out


def _published(n: int) -> str:
    """A count as every output prints it (rounded; a small one withheld)."""
    value = publish_count(n)
    return f"fewer than {DisclosureRules().min_cell}" if value is None else f"{value:,.0f}"


def plan_study(config: RunConfig, data: StudyData) -> StudyPlan:
    """Validate the data and decide what the study will do, before any fitting.

    Raises
    ------
    SchemaError
        If the data breaks the contract, or cannot support a study (too few families or
        escalations on either side of the temporal split).
    """
    roles = data.roles
    report = validate(data.frame, roles)
    frame = analysed_frame(data.frame, roles)
    split = temporal_split(
        frame, roles, test_start=config.split.test_start, horizon_days=config.split.horizon_days
    )
    problems = _split_problems(frame, roles, split)
    if problem := capacity_problem(config.evaluation.capacity, len(split.test)):
        problems.append(
            Problem(
                "[evaluation] capacity",
                f"capacity = {config.evaluation.capacity}: {problem} (the test families)",
                "set a share below 1 or a number of places no larger than the test families",
            )
        )
    rollout, why_not, found = rollout_plan(config, frame, roles)
    problems += found
    if problems:
        raise SchemaError(problems)
    skipped: list[tuple[str, str]] = []
    if not roles.area:
        skipped.append(
            (
                "tables by area, funnel plots and the demand forecast by area",
                "the data has no 'area' role",
            )
        )
    if not roles.protected:
        what = "the audit of protected characteristics"
        skipped.append((what, "the data has no 'protected' role"))
    if sensitive_features_from(frame.head(0), roles).shape[1] == 0:
        what = "fairness audit"
        skipped.append((what, "the data has no protected, deprivation or lone-parent column"))
    if not roles.deprivation:
        what = "the area-based targeting rule (most deprived areas first)"
        skipped.append((what, "the data has no 'deprivation' role"))
    authorities, more = _transfer_plan(frame, roles, split, config)
    skipped += more
    characteristic = config.fairness.mitigation_characteristic or (
        roles.protected[0] if roles.protected else None
    )
    rows = mitigation_rows(split, config.evaluation.random_state)
    mitigation, more = _mitigation_plan(frame, roles, rows, characteristic)
    skipped += more
    if not roles.lone_parent:
        what = "tables by family type and the audit of lone-parent households"
        skipped.append((what, "the roles name no lone_parent household column"))
    if (why := impact_plan(frame, roles)) is not None:
        skipped.append((IMPACT, why))
    if why_not is not None:
        skipped.append((ROLLOUT, why_not))
    return StudyPlan(
        frame=frame,
        roles=roles,
        validation=report,
        split=split,
        transfer_authorities=authorities,
        mitigation=mitigation,
        mitigation_characteristic=characteristic if mitigation else None,
        mitigation_rows=rows,
        skipped=skipped,
        read_notes=list(data.frame.attrs.get("read_notes", [])),
        rollout=rollout,
    )

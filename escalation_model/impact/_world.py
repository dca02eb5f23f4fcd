"""A synthetic world that knows the effect of early help: recipients chosen on observed
risk (and, optionally, on a factor no record shows), escalations among them thinned by a
planted relative reduction, and the true effect on the treated kept beside the data.

The default synthetic population is left as it is: the world is made from one, so every
other analysis keeps its figures."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit, logit

from ..datasets import SyntheticPopulation
from ..population import count_indicators

__all__ = ["EarlyHelpWorld", "RolloutWorld", "plant_early_help", "plant_rollout"]

#: The column the world adds: 1 for a family that received early help.
TREATMENT = "early_help"


@dataclass(frozen=True)
class EarlyHelpWorld:
    """Families with early-help receipt (``early_help``) and outcomes after it, and the
    truth: the average effect on the treated as a difference in escalation risk
    (``true_att``, negative when help prevents escalations), as a relative reduction of
    the recipients' own risk without help (``true_reduction``), and by Think Family band
    (``true_by_band``: the same two figures for each band's recipients)."""

    frame: pd.DataFrame
    true_att: float
    true_reduction: float
    recipients: int
    risk_without_help: float
    true_by_band: pd.DataFrame
    #: every family's true risk without help and the reduction help would bring it (in
    #: memory only: what targeting by expected benefit is checked against)
    true_risk: np.ndarray
    true_effect: np.ndarray


#: Think Family bands, as the population tables write them.
BANDS = ("0", "1-2", "3-4", "5+")


def _bands(frame: pd.DataFrame, pop: SyntheticPopulation) -> np.ndarray:
    n = count_indicators(frame, pop.roles.think_family).to_numpy()
    return np.array(BANDS, dtype=object)[np.digitize(n, [1, 3, 5])]


def _selection_score(frame: pd.DataFrame, pop: SyntheticPopulation) -> np.ndarray:
    """Observed risk as a council would see it: the number of Think Family indicators
    recorded, and living in the most deprived fifth of areas (both in the records)."""
    roles = pop.roles
    n = count_indicators(frame, roles.think_family).to_numpy(dtype=float)
    deprived = (frame[roles.deprivation].to_numpy(dtype=float) <= 2).astype(float)
    return 0.55 * n + 0.4 * deprived


def plant_early_help(
    pop: SyntheticPopulation,
    *,
    recipients: int = 3000,
    reduction: float | dict[str, float] = 0.3,
    unobserved: float = 0.0,
    random_state: int = 0,
) -> EarlyHelpWorld:
    """Give ``recipients`` families (in expectation) early help, chosen on observed risk,
    and prevent ``reduction`` of the escalations each would have had.

    Each call draws receipt and outcomes afresh from the population's exact risks (the
    oracle), so replicates of one population differ as repeated years would.

    Parameters
    ----------
    pop : SyntheticPopulation
    recipients : int
        Expected number of recipients.
    reduction : float or dict
        The true relative reduction of a recipient's escalation risk (0.3: 30% fewer),
        or one per Think Family band (``{"0": 0.1, "1-2": 0.2, "3-4": 0.3, "5+": 0.4}``).
    unobserved : float
        Strength of a confounder no record shows: a standard normal factor raising both
        the chance of receiving help and the risk of escalation (log-odds per unit). Zero:
        selection on observed risk only.
    random_state : int

    Examples
    --------
    >>> from escalation_model.datasets import make_synthetic_population
    >>> world = plant_early_help(make_synthetic_population(20_000, random_state=1),
    ...                          recipients=400, random_state=1)
    >>> 300 < world.recipients < 500, round(world.true_reduction, 2)
    (True, 0.3)
    """
    rng = np.random.default_rng([random_state, 7])
    frame = pop.frame.copy()
    p = pop.oracle.to_numpy(dtype=float)
    u = rng.standard_normal(len(frame))
    if unobserved:
        p = expit(logit(np.clip(p, 1e-9, 1 - 1e-9)) + unobserved * u)
    band = _bands(frame, pop)
    r = (
        np.array([reduction[b] for b in band], dtype=float)
        if isinstance(reduction, dict)
        else np.full(len(frame), float(reduction))
    )
    score = _selection_score(frame, pop) + unobserved * u
    alpha = brentq(lambda a: expit(a + score).sum() - recipients, -40.0, 20.0)
    treated = rng.random(len(frame)) < expit(alpha + score)
    y0 = rng.random(len(frame)) < p
    kept = rng.random(len(frame)) >= r  # each escalation averted with probability r
    frame[pop.roles.outcome] = np.where(treated, y0 & kept, y0).astype(np.int8)
    if pop.roles.outcome_level and pop.roles.outcome_level in frame.columns:
        frame = frame.drop(columns=pop.roles.outcome_level)  # not redrawn: not kept
    frame[TREATMENT] = treated.astype(np.int8)
    risk = float(p[treated].mean())
    att = -float((r * p)[treated].mean())
    by_band = pd.DataFrame(
        [
            {
                "band": b,
                "recipients": int((treated & (band == b)).sum()),
                "true_att": -float((r * p)[treated & (band == b)].mean()),
                "true_reduction": float(
                    (r * p)[treated & (band == b)].sum() / p[treated & (band == b)].sum()
                ),
            }
            for b in BANDS
            if (treated & (band == b)).any()
        ]
    )
    return EarlyHelpWorld(
        frame=frame,
        true_att=att,
        true_reduction=-att / risk,
        recipients=int(treated.sum()),
        risk_without_help=risk,
        true_by_band=by_band,
        true_risk=p,
        true_effect=r,
    )


#: The column of a family's period in a roll-out world: the quarter of its profile date.
QUARTER = "quarter"


@dataclass(frozen=True)
class RolloutWorld:
    """Families whose ward started early help in a given quarter (``started``: ward ->
    first quarter; wards not in it never started), with outcomes redrawn so that early
    help prevents ``reduction`` of escalations in a started ward, and the truth: each
    family's change in escalation risk (``true_effect``, 0 before the start or where it
    never started), which :func:`true_staggered_att` aggregates as the estimator does."""

    frame: pd.DataFrame
    started: dict[str, pd.Period]
    true_effect: np.ndarray
    reduction: float
    pre_trend: float


def plant_rollout(
    pop: SyntheticPopulation,
    *,
    reduction: float = 0.3,
    starts: tuple[str, ...] = ("2012Q3", "2013Q3", "2014Q3"),
    never_share: float = 0.25,
    pre_trend: float = 0.0,
    random_state: int = 0,
) -> RolloutWorld:
    """Start early help ward by ward: each ward draws one of ``starts`` (quarters) or,
    with probability ``never_share``, none; escalations of families profiled in a ward
    on or after its start are thinned by ``reduction``.

    ``pre_trend`` breaks parallel trends: the risk in wards that will start rises by that
    share per quarter relative to the others (before and after the start), which the
    event study's pre-start coefficients should show.

    >>> from escalation_model.datasets import make_synthetic_population
    >>> w = plant_rollout(make_synthetic_population(20_000, random_state=1), random_state=1)
    >>> len(w.started) > 0, bool((w.true_effect <= 0).all())
    (True, True)
    """
    rng = np.random.default_rng([random_state, 11])
    roles = pop.roles
    frame = pop.frame.copy()
    quarter = pd.to_datetime(frame[roles.profile_date]).dt.to_period("Q")
    wards = np.sort(frame["ward_code"].astype(str).unique())
    choice = rng.choice(len(starts) + 1, size=len(wards), p=_start_shares(len(starts), never_share))
    started = {w: pd.Period(starts[c - 1], "Q") for w, c in zip(wards, choice, strict=True) if c}
    start = frame["ward_code"].astype(str).map(started)
    later = start.notna().to_numpy()
    steps = np.zeros(len(frame))
    steps[later] = (quarter[later] - start[later]).map(lambda d: d.n).to_numpy(dtype=float)
    p = pop.oracle.to_numpy(dtype=float) * np.where(later, np.exp(pre_trend * steps), 1.0)
    p = np.clip(p, 0.0, 1.0)
    treated = later & (steps >= 0)
    effect = np.where(treated, -reduction * p, 0.0)
    frame[roles.outcome] = (rng.random(len(frame)) < p + effect).astype(np.int8)
    if roles.outcome_level and roles.outcome_level in frame.columns:
        frame = frame.drop(columns=roles.outcome_level)  # not redrawn: not kept
    frame[QUARTER] = quarter
    return RolloutWorld(frame, started, effect, reduction, pre_trend)


def _start_shares(n_starts: int, never_share: float) -> np.ndarray:
    """Never first, then each start equally likely."""
    return np.r_[never_share, np.full(n_starts, (1 - never_share) / n_starts)]

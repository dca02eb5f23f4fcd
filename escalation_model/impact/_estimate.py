"""The effect of early help on the families who received it (the average effect on the
treated, ATT), by a doubly robust, cross-fitted estimator (augmented inverse-probability
weighting, the double machine learning ATT of Chernozhukov et al. 2018), with propensity
score matching beside it (the national Troubled Families evaluation's method), the
diagnostics that decide whether a number is shown (overlap, covariate balance before and
after weighting) and a sensitivity analysis for unmeasured confounding (the E-value).

Nuisance models are the library's own learners, with protected characteristics as
covariates (they may confound receipt and escalation; nothing here ranks families)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.model_selection import StratifiedKFold

from ..models import LightGBMRiskClassifier, LogisticRiskClassifier
from ..schema import ColumnRoles

__all__ = [
    "ImpactEstimate",
    "balance",
    "e_value",
    "estimate_att",
    "match_att",
    "naive_difference",
]

#: Propensities kept: a recipient whose chance of receiving help is above this has no
#: comparable non-recipient, and is set aside (the count is reported).
MAX_PROPENSITY = 0.99
#: The standardised mean difference under which a covariate counts as balanced.
BALANCED_SMD = 0.1


@dataclass(frozen=True)
class Sensitivity:
    """How strong an unmeasured confounder would have to be to explain the estimate
    away (VanderWeele and Ding's E-value, for the estimate and for the interval's end
    nearest no effect), set against the strongest measured covariate: the bias a
    confounder as strongly tied to receipt and to escalation as it would cause."""

    e_value: float
    e_value_interval: float
    strongest_covariate: str
    strongest_bias: float

    @property
    def explained_away(self) -> bool:
        """Whether a confounder as strong as the strongest measured one could move the
        interval to include no effect (an interval that already does: True)."""
        return bool(self.e_value_interval <= 1.0 or self.strongest_bias >= _rr(self))

    def sentence(self) -> str:
        if self.e_value_interval <= 1.0:
            return "The interval already includes no effect."
        verdict = "could" if self.explained_away else "could not"
        return (
            f"An unmeasured factor tied to both receiving help and escalating by a risk ratio "
            f"of {self.e_value_interval:.2f} each could move the interval to include no "
            f"effect; one as strongly tied as '{self.strongest_covariate}' (bias up to "
            f"{self.strongest_bias:.2f}) {verdict}."
        )


def _rr(s: Sensitivity) -> float:
    """The risk ratio whose E-value is the interval's (E = RR + sqrt(RR (RR - 1)))."""
    e = s.e_value_interval
    return e**2 / (2 * e - 1)


@dataclass(frozen=True)
class ImpactEstimate:
    """One estimate of the effect on the treated, kept in memory (counts unrounded: the
    publication layer rounds what it prints).

    ``att`` is a difference in escalation risk (negative: fewer escalations);
    ``reduction`` the relative reduction of the recipients' risk without help
    (``-att / risk_without_help``), each with its 95% interval. ``groups`` (where asked
    for) has the same by group, with intervals that hold for all groups together."""

    method: str
    att: float
    lower: float
    upper: float
    risk_with_help: float
    risk_without_help: float
    reduction: float
    reduction_lower: float
    reduction_upper: float
    treated: int
    set_aside: int
    balance: pd.DataFrame
    sensitivity: Sensitivity
    groups: pd.DataFrame | None = None

    @property
    def balanced(self) -> bool:
        """Every covariate's standardised difference under 0.1 after adjustment."""
        return bool((self.balance["smd_after"].abs() < BALANCED_SMD).all())


def e_value(risk_ratio: float) -> float:
    """VanderWeele and Ding's E-value: how strongly an unmeasured confounder would have to
    be associated with both receipt and escalation (risk ratio scale) to explain the
    estimate away. 1 for no effect.

    >>> round(e_value(0.7), 2), e_value(1.0)
    (2.21, 1.0)
    """
    if not risk_ratio > 0 or not math.isfinite(risk_ratio):
        return float("nan")
    rr = 1 / risk_ratio if risk_ratio < 1 else risk_ratio
    return float(rr + math.sqrt(rr * (rr - 1)))


def _learner(kind: str, roles: ColumnRoles, random_state: int) -> Any:
    if kind == "logistic":
        return LogisticRiskClassifier(roles=roles, include_protected=True)
    if kind == "lightgbm":
        return LightGBMRiskClassifier(
            roles=roles, include_protected=True, random_state=random_state, n_estimators=200
        )
    raise ValueError(f"learner {kind!r}: use 'logistic' or 'lightgbm'")


def _nuisances(
    frame: pd.DataFrame,
    roles: ColumnRoles,
    t: np.ndarray,
    y: np.ndarray,
    learner: str,
    folds: int,
    random_state: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Cross-fitted propensity e(X) and risk without help m0(X) (fitted on the
    non-recipients of the other folds) for every family."""
    e, m0 = np.zeros(len(frame)), np.zeros(len(frame))
    split = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    for train, held in split.split(frame, t):
        ps = _learner(learner, roles, random_state).fit(frame.iloc[train], t[train])
        e[held] = ps.predict_proba(frame.iloc[held])[:, 1]
        controls = train[t[train] == 0]
        out = _learner(learner, roles, random_state).fit(frame.iloc[controls], y[controls])
        m0[held] = out.predict_proba(frame.iloc[held])[:, 1]
    return e, m0


def _covariates(frame: pd.DataFrame, roles: ColumnRoles) -> pd.DataFrame:
    cols = [c for c in roles.features(include_protected=True) if c in frame.columns]
    x = frame[cols].apply(pd.to_numeric, errors="coerce")
    return x.loc[:, x.notna().any()]


def balance(
    frame: pd.DataFrame, roles: ColumnRoles, treated: np.ndarray, weights: np.ndarray
) -> pd.DataFrame:
    """Standardised mean differences of each numeric covariate between recipients and
    non-recipients, before and after weighting the non-recipients by ``weights``
    (pooled standard deviation of the unweighted groups, the usual convention).

    >>> f = pd.DataFrame({"a": [1.0, 0.0, 1.0, 0.0]})
    >>> balance(f, ColumnRoles(think_family=("a",), secondary=(), household=(),
    ...         deprivation=None, area_factors=(), protected=()), np.array([1, 1, 0, 0]),
    ...         np.ones(4)).round(3).to_dict("records")
    [{'covariate': 'a', 'smd_before': 0.0, 'smd_after': 0.0}]
    """
    x = _covariates(frame, roles)
    t = treated.astype(bool)
    rows = []
    for c in x.columns:
        v = x[c].to_numpy(dtype=float)
        ok = ~np.isnan(v)
        a, b = v[t & ok], v[~t & ok]
        w = weights[~t & ok]
        if len(a) < 2 or len(b) < 2 or w.sum() <= 0:
            continue
        sd = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2) or 1.0
        rows.append(
            {
                "covariate": c,
                "smd_before": (a.mean() - b.mean()) / sd,
                "smd_after": (a.mean() - np.average(b, weights=w)) / sd,
            }
        )
    return pd.DataFrame(rows, columns=["covariate", "smd_before", "smd_after"])


def _relative(att: float, lo: float, hi: float, y_treated: float) -> tuple[float, ...]:
    """The relative reduction and its interval (the risk without help, ``y_treated -
    att``, treated as known), and the risk without help."""
    without = y_treated - att
    if without <= 0:
        return float("nan"), float("nan"), float("nan"), without
    return -att / without, -hi / without, -lo / without, without


def _bias_factor(a: float, b: float) -> float:
    """The largest bias two risk ratios can cause together (Ding and VanderWeele 2016).

    >>> round(_bias_factor(2.0, 3.0), 2)
    1.5
    """
    return a * b / (a + b - 1)


def _strongest(
    frame: pd.DataFrame, roles: ColumnRoles, t: np.ndarray, y: np.ndarray
) -> tuple[str, float]:
    """The measured 0/1 covariate that would bias most if it were unmeasured: its risk
    ratios with receipt and (among non-recipients) with escalation, combined."""
    x = _covariates(frame, roles)
    best, strongest = "", 1.0
    for c in x.columns:
        v = x[c].to_numpy(dtype=float)
        ok = ~np.isnan(v)
        if not set(np.unique(v[ok])) <= {0.0, 1.0}:
            continue
        on, treated = v == 1, t == 1
        rates = [on[treated & ok].mean(), on[~treated & ok].mean()]
        risks = [y[~treated & ok & on].mean(), y[~treated & ok & ~on].mean()]
        if min(rates) <= 0 or min(risks) <= 0 or np.isnan(risks).any():
            continue
        rr_t, rr_y = rates[0] / rates[1], risks[0] / risks[1]
        bias = _bias_factor(max(rr_t, 1 / rr_t), max(rr_y, 1 / rr_y))
        if bias > strongest:
            best, strongest = c, float(bias)
    return best, strongest


def _estimate(
    method: str,
    effect: tuple[float, float, float],
    y1: float,
    counts: tuple[int, int],
    table: pd.DataFrame,
    strongest: tuple[str, float],
) -> ImpactEstimate:
    att, lo, hi = effect
    reduction, r_lo, r_hi, without = _relative(att, lo, hi, y1)
    rr = y1 / without if without > 0 else float("nan")
    near = 0.0 if lo <= 0 <= hi else min(abs(lo), abs(hi))
    rr_near = (without - near) / without if att < 0 else (without + near) / without
    return ImpactEstimate(
        method=method,
        att=att,
        lower=lo,
        upper=hi,
        risk_with_help=y1,
        risk_without_help=without,
        reduction=reduction,
        reduction_lower=r_lo,
        reduction_upper=r_hi,
        treated=counts[0],
        set_aside=counts[1],
        balance=table,
        sensitivity=Sensitivity(
            e_value(rr), e_value(rr_near) if near else 1.0, strongest[0], strongest[1]
        ),
    )


#: Fewer escalations than this among recipients: the normal interval is widened.
FEW_EVENTS = 10


def _few_events_interval(
    att: float, se: float, y_treated: np.ndarray, z: float
) -> tuple[float, float]:
    """The interval ``att +/- z se``; where the recipients had fewer than
    :data:`FEW_EVENTS` escalations, widened by the Wilson interval of their own rate
    (whose normal approximation fails there: with no escalation among them the influence
    function puts no uncertainty on it at all). Conservative, never narrower.

    >>> lo, hi = _few_events_interval(-0.0076, 0.001, np.zeros(366), 2.5)
    >>> round(lo, 4), round(hi, 4)
    (-0.0101, 0.0117)
    """
    if y_treated.sum() >= FEW_EVENTS or len(y_treated) == 0:
        return att - z * se, att + z * se
    rate = float(y_treated.mean())
    wilson = stats.binomtest(int(y_treated.sum()), len(y_treated)).proportion_ci(
        confidence_level=2 * stats.norm.cdf(z) - 1, method="wilson"
    )
    low, high = float(wilson.low), float(wilson.high)
    return att - z * se - max(rate - low, 0.0), att + z * se + (high - rate)


def _by_group(
    groups: np.ndarray, t: np.ndarray, y: np.ndarray, m0: np.ndarray, odds: np.ndarray
) -> pd.DataFrame:
    """The doubly robust effect on each group's recipients, with intervals holding for
    all groups together (Bonferroni over the groups with recipients)."""
    names = [g for g in pd.unique(groups) if (t[groups == g] == 1).sum() >= 2]
    z = stats.norm.ppf(1 - 0.025 / max(len(names), 1))
    rows = []
    for g in names:
        i = groups == g
        tg, yg, mg, og = t[i], y[i], m0[i], odds[i]
        n1 = tg.sum()
        score = tg * (yg - mg) - (1 - tg) * og * (yg - mg)
        att = float(score.sum() / n1)
        psi = (score - tg * att) * len(tg) / n1
        se = float(np.sqrt(np.mean(psi**2) / len(tg)))
        lo, hi = _few_events_interval(att, se, yg[tg == 1], z)
        without = float(yg[tg == 1].mean() - att)
        # the standard error the interval implies (widened where escalations were few),
        # without the correction for the number of groups: what pooling groups needs
        rows.append(
            {
                "group": g,
                "recipients": int(n1),
                "att": att,
                "lower": lo,
                "upper": hi,
                "reduction": -att / without if without > 0 else np.nan,
                "reduction_lower": -hi / without if without > 0 else np.nan,
                "reduction_upper": -lo / without if without > 0 else np.nan,
                "reduction_se": (hi - lo) / (2 * z) / without if without > 0 else np.nan,
            }
        )
    return pd.DataFrame(rows)


def estimate_att(
    frame: pd.DataFrame,
    roles: ColumnRoles,
    treatment: str = "early_help",
    *,
    by: str | None = None,
    learner: str = "logistic",
    folds: int = 2,
    random_state: int = 0,
) -> ImpactEstimate:
    """The doubly robust, cross-fitted estimate of the average effect of early help on
    the families who received it (and, with ``by``, on each group's recipients: a column
    of ``frame`` or a segment such as ``n_think_family_band``).

    ``theta = sum_i [T_i (Y_i - m0_i) - (1 - T_i) e_i / (1 - e_i) (Y_i - m0_i)] / sum T``,
    its standard error from the influence function. Consistent when either the
    propensity ``e`` or the risk without help ``m0`` is right. Recipients with a
    propensity above :data:`MAX_PROPENSITY` are set aside (no comparable non-recipient).
    """
    t = frame[treatment].to_numpy(dtype=int)
    y = frame[roles.outcome].to_numpy(dtype=float)
    e, m0 = _nuisances(frame, roles, t, y, learner, folds, random_state)
    keep = ~((t == 1) & (e > MAX_PROPENSITY))
    e = np.clip(e, 1e-6, MAX_PROPENSITY)
    t_k, y_k, m_k = t[keep], y[keep], m0[keep]
    odds = (e / (1 - e))[keep]
    p = t_k.mean()
    psi = (t_k * (y_k - m_k) - (1 - t_k) * odds * (y_k - m_k)) / p
    att = float(psi.mean())
    se = float(np.sqrt(np.mean((psi - t_k * att / p) ** 2) / len(psi)))
    lo, hi = _few_events_interval(att, se, y_k[t_k == 1], float(stats.norm.ppf(0.975)))
    weights = np.where(t_k == 1, 1.0, odds)
    estimate = _estimate(
        "doubly robust (AIPW, cross-fitted)",
        (att, lo, hi),
        float(y_k[t_k == 1].mean()),
        (int(t_k.sum()), int((~keep).sum())),
        balance(frame[keep], roles, t_k, weights),
        _strongest(frame, roles, t, y),
    )
    if by is None:
        return estimate
    from ..population import add_segments

    groups = add_segments(frame, roles)[by].astype(str).to_numpy()[keep]
    return dataclasses.replace(estimate, groups=_by_group(groups, t_k, y_k, m_k, odds))


def match_att(
    frame: pd.DataFrame,
    roles: ColumnRoles,
    treatment: str = "early_help",
    *,
    caliper: float = 0.2,
    random_state: int = 0,
) -> ImpactEstimate:
    """Propensity score matching, as the national evaluation did: each recipient with its
    nearest non-recipient on the logit of the propensity (with replacement, within
    ``caliper`` standard deviations; recipients without one are set aside). The
    interval treats the propensity as known (Abadie and Imbens show it is then
    conservative for the ATT)."""
    t = frame[treatment].to_numpy(dtype=int)
    y = frame[roles.outcome].to_numpy(dtype=float)
    model = _learner("logistic", roles, random_state).fit(frame, t)
    e = np.clip(model.predict_proba(frame)[:, 1], 1e-9, 1 - 1e-9)
    score = np.log(e / (1 - e))
    treated, controls = np.flatnonzero(t == 1), np.flatnonzero(t == 0)
    order = controls[np.argsort(score[controls], kind="stable")]
    s_sorted = score[order]
    pos = np.clip(np.searchsorted(s_sorted, score[treated]), 1, len(order) - 1)
    left, right = order[pos - 1], order[pos]
    nearest = np.where(
        np.abs(score[left] - score[treated]) <= np.abs(score[right] - score[treated]), left, right
    )
    within = np.abs(score[nearest] - score[treated]) <= caliper * score.std()
    pairs_t, pairs_c = treated[within], nearest[within]
    diff = y[pairs_t] - y[pairs_c]
    att = float(diff.mean())
    # matched controls used more than once carry their weight in the variance
    uses = np.bincount(pairs_c, minlength=len(frame))[pairs_c]
    se = float(
        np.sqrt(
            np.var(y[pairs_t], ddof=1) / len(diff)
            + np.mean(uses) * np.var(y[pairs_c], ddof=1) / len(diff)
        )
    )
    weights = np.bincount(pairs_c, minlength=len(frame)).astype(float)
    weights[t == 1] = 1.0
    sub = np.zeros(len(frame), dtype=bool)
    sub[pairs_t] = True
    sub[np.unique(pairs_c)] = True
    table = balance(frame[sub], roles, t[sub], weights[sub])
    lo, hi = _few_events_interval(att, se, y[pairs_t], float(stats.norm.ppf(0.975)))
    return _estimate(
        "propensity score matching (1:1, caliper 0.2 SD)",
        (att, lo, hi),
        float(y[pairs_t].mean()),
        (int(len(pairs_t)), int((~within).sum())),
        table,
        _strongest(frame, roles, t, y),
    )


def naive_difference(
    frame: pd.DataFrame, roles: ColumnRoles, treatment: str = "early_help"
) -> float:
    """Recipients' escalation rate minus everyone else's: what a before-and-after or a
    recipients-versus-others table shows, biased by who is chosen for help."""
    t = frame[treatment].to_numpy(dtype=bool)
    y = frame[roles.outcome].to_numpy(dtype=float)
    return float(y[t].mean() - y[~t].mean())

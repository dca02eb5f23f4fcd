"""Targeting strategies for an early-help service of fixed capacity, and what-if scenarios."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._cellkey import cell_key, perturbation
from .._limits import FIVE_OR_MORE, MOST_DEPRIVED_DECILE
from .._selection import capacity_weights, resolve_capacity
from .._text import as_text
from ..schema import ColumnRoles
from ._aggregate import (
    _observed_from_published,
    add_segments,
    family_keys,
    observed_interval,
    protected_total,
    round_protected,
)
from ._disclosure import DisclosureRules, apply_disclosure_control, publish_count
from ._effect import BENEFIT, ESTIMATED, EstimatedEffect, benefit_score
from ._poisson_binomial import poisson_binomial_interval
from ._profile import count_indicators

__all__ = [
    "EXPECTED_REACH_MEANING",
    "Scenario",
    "compare_strategies",
    "strategy_scores",
    "scenario_table",
]

#: What the expected count and its interval are, in one line, wherever they are printed.
EXPECTED_REACH_MEANING = (
    "Expected escalations reached: the sum of the model's probabilities over the families "
    "each strategy offers help; its interval is the range of the count if those "
    "probabilities are right (Poisson-binomial), so it leaves out the model's own error, "
    "which the observed count on the test year shows."
)

STRATEGY_LABELS = {
    "area": "most deprived wards first",
    "five_plus": f"{FIVE_OR_MORE}+ Think Family indicators first",
    "model": "model's ranking",
    BENEFIT: "expected benefit (risk x band's estimated effect)",
    "oracle": "true risk (oracle, synthetic data only)",
}


def strategy_scores(
    frame: pd.DataFrame,
    roles: ColumnRoles,
    model_proba: np.ndarray,
    oracle: np.ndarray | None = None,
    estimated: EstimatedEffect | None = None,
) -> dict[str, np.ndarray]:
    """The ranking each strategy uses: higher is offered early help first.

    Area-based: most deprived decile first; within it, no preference (ties are broken at
    random, as a service with no other information would). 5+ rule: number of Think Family
    indicators. Model: calibrated probability. Expected benefit (only where an effect
    ``estimated`` from this data differs by Think Family band): probability times the
    band's reduction (:func:`benefit_score`). Oracle: true probability.
    """
    scores: dict[str, np.ndarray] = {}
    if roles.deprivation and roles.deprivation in frame.columns:
        scores["area"] = 11.0 - frame[roles.deprivation].to_numpy(dtype=float)
    if roles.think_family:
        scores["five_plus"] = count_indicators(frame, roles.think_family).to_numpy(dtype=float)
    scores["model"] = np.asarray(model_proba, dtype=float)
    if estimated is not None and estimated.by_band and roles.think_family:
        scores[BENEFIT] = benefit_score(scores["model"], estimated.reductions(_bands(frame, roles)))
    if oracle is not None:
        scores["oracle"] = np.asarray(oracle, dtype=float)
    return scores


def _bands(frame: pd.DataFrame, roles: ColumnRoles) -> np.ndarray:
    return add_segments(frame, roles)["n_think_family_band"].astype(str).to_numpy()


def compare_strategies(
    frame: pd.DataFrame,
    roles: ColumnRoles | None,
    model_proba: np.ndarray,
    *,
    capacity: float | int,
    oracle: np.ndarray | None = None,
    confidence: float = 0.95,
    random_state: int = 0,
    rules: DisclosureRules | None = None,
    estimated: EstimatedEffect | None = None,
) -> pd.DataFrame:
    """Which targeting rule reaches the most future escalations for the service's capacity.

    For each strategy: families offered help, the expected escalations among them (sum of
    the model's calibrated probabilities, with a Poisson-binomial interval), the observed
    escalations among them where outcomes are known (exact Poisson interval), the share of
    all escalations reached, and the share of reached need outside the most deprived fifth
    of areas.

    Parameters
    ----------
    frame : pandas.DataFrame
    roles : ColumnRoles, optional
    model_proba : array
        The model's calibrated probabilities (also the basis of "expected" for every
        strategy, so that strategies are compared on one yardstick).
    capacity : float or int
        Places: a share of families (< 1) or a number.
    oracle : array, optional
        True probabilities (synthetic data); adds the oracle strategy.
    estimated : EstimatedEffect, optional
        Where its effects differ by band, adds targeting by expected benefit.
    """
    roles = roles or ColumnRoles()
    p = np.asarray(model_proba, dtype=float)
    k = int(round(resolve_capacity(capacity, len(frame))))
    y = (
        frame[roles.outcome].to_numpy(dtype=float)
        if roles.outcome and roles.outcome in frame.columns
        else None
    )
    deprived = (
        frame[roles.deprivation].to_numpy(dtype=float) <= MOST_DEPRIVED_DECILE
        if roles.deprivation and roles.deprivation in frame.columns
        else None
    )
    rows, moved = [], []
    keys = family_keys(frame, roles)
    for name, score in strategy_scores(frame, roles, p, oracle, estimated).items():
        # ties at the boundary share the places equally: the expectation over every
        # random choice among them, as the metrics table's reach at capacity is
        w = capacity_weights(score, k)
        moved.append(int(perturbation(cell_key(keys, w > 0))))
        pw = p * w
        lo, hi = poisson_binomial_interval(pw[w > 0], confidence)
        row: dict[str, object] = {
            "strategy": name,
            "description": STRATEGY_LABELS[name],
            "families_offered": float(w.sum()),
            "expected_reached": float(pw.sum()),
            "expected_lower": lo,
            "expected_upper": hi,
            "expected_share_of_all": float(pw.sum() / p.sum()),
        }
        if y is not None:
            obs = float(np.nansum(y * w))
            olo, ohi = observed_interval(obs, confidence)
            row.update(
                observed_reached=obs,
                observed_lower=olo,
                observed_upper=ohi,
                observed_share_of_all=obs / np.nansum(y) if np.nansum(y) > 0 else np.nan,
            )
        if deprived is not None:
            offered_outside = float((w * ~deprived).sum())
            row["_offered_outside"] = offered_outside
            row["offered_outside_most_deprived"] = offered_outside / float(w.sum())
            row["expected_reached_outside_most_deprived"] = float((pw * ~deprived).sum() / pw.sum())
        rows.append(row)
    table = pd.DataFrame(rows)
    counts = ["families_offered"] + (["observed_reached"] if y is not None else [])
    out = apply_disclosure_control(
        table,
        count_columns=counts,
        size_column="families_offered",
        rules=rules,
        expected_columns=["expected_reached", "expected_lower", "expected_upper"],
        perturb=np.array(moved),
    )
    # every strategy fills the same k places (ties share them): one published number, the
    # one the summary and the card give, not a cell-key perturbation per set of families
    # (which printed 495 beside 500 for the same places)
    out["families_offered"] = out["families_offered"].where(
        out["families_offered"].isna(), publish_count(k, rules)
    )
    total_expected = protected_total(float(p.sum()), keys, rules)
    out["expected_share_of_all"] = out["expected_reached"] / total_expected
    if "expected_reached_outside_most_deprived" in out.columns:  # a share of sums: 2 decimals
        out["expected_reached_outside_most_deprived"] = out[
            "expected_reached_outside_most_deprived"
        ].round(2)
    if y is not None:
        _observed_from_published(out, confidence, count="observed_reached", ratio=None)
        # shares from published counts: share x total gives back only rounded counts
        total = publish_count(float(np.nansum(y)), rules)
        published = out["observed_reached"].to_numpy(dtype=float)
        out["observed_share_of_all"] = published / total if total else np.nan
    if deprived is not None:
        offered = out["families_offered"].to_numpy(dtype=float)
        outside = [publish_count(v, rules) for v in table["_offered_outside"]]
        outside_arr = np.array([np.nan if v is None else v for v in outside])
        with np.errstate(invalid="ignore", divide="ignore"):
            out["offered_outside_most_deprived"] = np.where(
                offered > 0, outside_arr / offered, np.nan
            )
    out = out.drop(columns=["_offered_outside"], errors="ignore")
    out.attrs["capacity"] = k
    out.attrs["expected_interval"] = EXPECTED_REACH_MEANING
    if deprived is not None:
        # shares of protected figures (each perturbed and rounded, as published), to two
        # decimals: an exact share of two counts gives both counts back (79/122)
        out.attrs["share_of_all_expected_need_outside_most_deprived"] = _share(
            protected_total(float(p[~deprived].sum()), keys[~deprived], rules),
            protected_total(float(p.sum()), keys, rules),
        )
        if y is not None and np.nansum(y) > 0:
            out.attrs["share_of_all_observed_escalations_outside_most_deprived"] = _share(
                protected_total(float(np.nansum(y[~deprived])), keys[~deprived], rules),
                protected_total(float(np.nansum(y)), keys, rules),
            )
    return out


def _share(part: float, whole: float) -> float | None:
    """A share of two protected figures, to two decimals (None if the whole is 0)."""
    return round(part / whole, 2) if whole > 0 else None


@dataclass(frozen=True)
class Scenario:
    """Assumptions of a what-if scenario. Nothing here is estimated from data: every value
    is the analyst's assumption and is printed beside every result.

    Parameters
    ----------
    risk_reduction : mapping of str to float
        Relative reduction in escalation among families offered early help, for example
        ``{"low": 0.1, "central": 0.2, "high": 0.3}``.
    unit_costs : mapping of str to float, optional
        Cost per averted outcome, supplied by the analyst, for example
        ``{"escalation": 12000, "looked_after": 60000}``. No cost is invented: without
        costs, the table has none.
    looked_after_share : float, optional
        Share of escalations that end in a looked-after placement; by default taken from the
        outcome levels of the families offered help, where known.
    estimated : EstimatedEffect, optional
        The effect estimated from this data, where an evaluation ran: its rows (labelled
        ``"estimated"``) stand beside the assumed ones, their range combining the effect's
        interval with the expected count's.
    """

    risk_reduction: Mapping[str, float] = field(
        default_factory=lambda: {"low": 0.1, "central": 0.2, "high": 0.3}
    )
    unit_costs: Mapping[str, float] = field(default_factory=dict)
    looked_after_share: float | None = None
    estimated: EstimatedEffect | None = None

    def __post_init__(self) -> None:
        for name, value in self.risk_reduction.items():
            if not 0 <= value <= 1:
                raise ValueError(
                    f"risk_reduction['{name}'] = {value}: a relative reduction lies in [0, 1]"
                )
        unknown = set(self.unit_costs) - {"escalation", "looked_after"}
        if unknown:
            raise ValueError(
                f"unit_costs: unknown outcome(s) {sorted(unknown)}; use 'escalation' and/or "
                "'looked_after'"
            )


def _scenario_row(
    strategy: str,
    label: str,
    effect: EstimatedEffect,
    k: int,
    counts: tuple[float, float, float],
    la_share: float | None,
    scenario: Scenario,
) -> dict[str, object]:
    """One strategy under one effect: escalations (placements, costs) averted, with the
    range from the expected count's range and the effect's interval (none for an
    assumed effect)."""
    expected, lo, hi = counts
    rrr = effect.reduction
    low, high = effect.averted_range(lo, hi)
    row: dict[str, object] = {
        "strategy": strategy,
        "assumption": label,
        "risk_reduction": rrr,
        "families_offered": k,
        "expected_escalations_among_offered": expected,
        "escalations_averted": rrr * expected,
        "escalations_averted_lower": low,
        "escalations_averted_upper": high,
        "looked_after_share_assumed": la_share,
    }
    if la_share is not None:
        row["placements_averted"] = rrr * expected * la_share
    if "escalation" in scenario.unit_costs:
        c = scenario.unit_costs["escalation"]
        row["cost_per_escalation_assumed"] = c
        row["escalation_cost_averted"] = rrr * expected * c
        row["escalation_cost_averted_lower"] = low * c
        row["escalation_cost_averted_upper"] = high * c
    if "looked_after" in scenario.unit_costs and la_share is not None:
        c = scenario.unit_costs["looked_after"]
        row["cost_per_placement_assumed"] = c
        row["placement_cost_averted"] = rrr * expected * la_share * c
    return row


def scenario_table(
    frame: pd.DataFrame,
    roles: ColumnRoles | None,
    model_proba: np.ndarray,
    scenario: Scenario,
    *,
    capacity: float | int,
    oracle: np.ndarray | None = None,
    confidence: float = 0.95,
    random_state: int = 0,
    rules: DisclosureRules | None = None,
) -> pd.DataFrame:
    """Escalations (and placements, and costs where supplied) each strategy might avert.

    Averted escalations = assumed relative reduction x expected escalations among the
    families offered help; the interval carries the Poisson-binomial uncertainty of the
    expected count. Each row states its assumptions; where ``scenario.estimated`` is
    given, rows labelled "estimated" use the effect estimated from the data, their
    interval also carrying the effect's; where that effect differs by Think Family band,
    each strategy's row uses the bands' effects over the families it offers help (and
    targeting by expected benefit is added).
    """
    roles = roles or ColumnRoles()
    p = np.asarray(model_proba, dtype=float)
    k = int(round(resolve_capacity(capacity, len(frame))))
    levels = (
        as_text(frame[roles.outcome_level]).to_numpy()
        if roles.outcome_level and roles.outcome_level in frame.columns
        else None
    )
    rows = []
    keys = family_keys(frame, roles)
    rules_ = rules or DisclosureRules()
    estimated = scenario.estimated
    reductions = (
        estimated.reductions(_bands(frame, roles))
        if estimated is not None and estimated.by_band and roles.think_family
        else None
    )
    for name, score in strategy_scores(frame, roles, p, oracle, estimated).items():
        w = capacity_weights(score, k)
        shift = int(perturbation(cell_key(keys, w > 0)))
        exact_lo, exact_hi = poisson_binomial_interval((p * w)[w > 0], confidence)
        # the expected count and its range protected as counts are, before anything
        # is derived from them
        expected = round_protected(float((p * w).sum()) + shift, rules_)
        lo = round_protected(exact_lo + shift, rules_, "down")
        hi = round_protected(exact_hi + shift, rules_, "up")
        la_share = scenario.looked_after_share
        if la_share is None and levels is not None:
            # a share of published counts, each at least the threshold, to 2 decimals
            escalated = w * np.isin(levels, ["child_in_need", "child_protection", "looked_after"])
            la = publish_count(float((w * (levels == "looked_after")).sum()), rules)
            esc = publish_count(float(escalated.sum()), rules)
            la_share = round(la / esc, 2) if la and esc else None
        effects = {
            label: EstimatedEffect(rrr, rrr, rrr) for label, rrr in scenario.risk_reduction.items()
        }
        if estimated is not None:
            # with effects by band, each strategy's own mix of bands
            effects[ESTIMATED] = (
                estimated
                if reductions is None
                # a share of sums, to 2 decimals as shares are published
                else estimated.for_families(
                    round(float((p * w * reductions).sum() / (p * w).sum()), 2)
                )
            )
        for label, effect in effects.items():
            rows.append(
                _scenario_row(name, label, effect, k, (expected, lo, hi), la_share, scenario)
            )
    table = pd.DataFrame(rows)
    return apply_disclosure_control(
        table, count_columns=["families_offered"], size_column="families_offered", rules=rules
    )

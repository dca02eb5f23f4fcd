"""The study's estimate of the effect of early help, where the roles name an early-help
column: the doubly robust effect on the recipients among the test period's families
(each family's latest profile there), matching beside it, by Think Family band, and the
checks that decide whether it is shown. What leaves is published: counts rounded,
groups with fewer recipients than the disclosure threshold withheld."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from .._publish import DisclosureRules, publish_count
from ..population import EstimatedEffect, for_planning

__all__ = ["estimate_impact", "estimated_effect", "impact_plan"]


def impact_plan(frame: pd.DataFrame, roles: Any) -> str | None:
    """Why the effect of early help cannot be estimated here (None: it can)."""
    if not roles.early_help:
        return (
            "the roles name no early_help column ([roles] early_help), so every 'averted' "
            "figure uses an assumed effect"
        )
    outcome = roles.early_help_outcome or roles.outcome
    if not outcome or outcome not in frame.columns:
        return "the data has no outcome"
    return None


def _families(frame: pd.DataFrame, roles: Any, rows: np.ndarray) -> pd.DataFrame:
    """The test period's families, each once (its latest profile), with a known receipt
    and a known outcome (the aligned one, ``early_help_outcome``, where the roles name
    it: windows without one are left out)."""
    test = frame.iloc[rows]
    if roles.family_id and roles.family_id in test.columns and roles.profile_date:
        test = test.sort_values(roles.profile_date, kind="stable")
        test = test.drop_duplicates(roles.family_id, keep="last")
    known = test[roles.early_help].notna() & test[roles.outcome].notna()
    return test[known].reset_index(drop=True)


def _evaluated_roles(roles: Any) -> Any:
    """The roles the estimators read: the aligned outcome where there is one."""
    if roles.early_help_outcome:
        return replace(roles, outcome=roles.early_help_outcome)
    return roles


def estimate_impact(
    frame: pd.DataFrame, roles: Any, rows: np.ndarray, rules: DisclosureRules, seed: int
) -> tuple[dict[str, Any] | None, list[str]]:
    """The published impact section (or None) and notes on what was not shown."""
    from ..impact import estimate_att, match_att, naive_difference

    roles = _evaluated_roles(roles)
    families = _families(frame, roles, rows)
    families[roles.outcome] = families[roles.outcome].astype(int)
    treated = int(families[roles.early_help].sum())
    if treated < rules.min_cell or len(families) - treated < rules.min_cell:
        return None, [
            "the effect of early help was not estimated: fewer than "
            f"{rules.min_cell} recipients or non-recipients among the test period's families"
        ]
    by = "n_think_family_band" if roles.think_family else None
    dr = estimate_att(families, roles, roles.early_help, by=by, random_state=seed)
    psm = match_att(families, roles, roles.early_help, random_state=seed)
    s = dr.sensitivity
    section = {
        "families": publish_count(len(families), rules),
        "recipients": publish_count(dr.treated, rules),
        "set_aside": publish_count(dr.set_aside, rules) if dr.set_aside else 0,
        "estimate": _effect(dr),
        "matching": _effect(psm),
        "naive_difference": naive_difference(families, roles, roles.early_help),
        "balanced": dr.balanced,
        "largest_smd_before": float(dr.balance["smd_before"].abs().max()),
        "largest_smd_after": float(dr.balance["smd_after"].abs().max()),
        "e_value": s.e_value,
        "e_value_interval": s.e_value_interval,
        "strongest_covariate": s.strongest_covariate,
        "strongest_bias": s.strongest_bias,
        "explained_away": s.explained_away,
        "sensitivity": s.sentence(),
        "by_group": _groups(dr.groups, rules),
        "targeting": _targeting(dr.groups),
    }
    return section, []


def _targeting(groups: pd.DataFrame | None) -> dict[str, Any] | None:
    """Whether the bands' effects differ (Cochran's test) and, where they do, the
    shrunk reduction by band that targeting by expected benefit uses."""
    from ..impact import targeting_effects

    if groups is None or groups.empty:
        return None
    t = targeting_effects(groups)
    p = t.heterogeneity_p
    return {
        "heterogeneity_p": None if not np.isfinite(p) else float(p),
        "differ": t.differ,
        "by_band": {g: float(v) for g, v in t.by_group.items()} if t.differ else {},
    }


def estimated_effect(section: dict[str, Any] | None) -> EstimatedEffect | None:
    """The effect the planning tables use beside the assumed ones
    (``population.for_planning``: balanced, and clearly fewer escalations), or None; with
    the bands' effects where they differ (targeting by expected benefit uses them).

    >>> e = {"reduction": 0.3, "reduction_lower": 0.1, "reduction_upper": 1.2}
    >>> estimated_effect({"balanced": True, "estimate": e})
    EstimatedEffect(reduction=0.3, lower=0.1, upper=1.0, by_band=())
    >>> estimated_effect({"balanced": False, "estimate": e}) is None
    True
    >>> t = {"by_band": {"0": 0.4, "5+": 0.05}}
    >>> estimated_effect({"balanced": True, "estimate": e, "targeting": t}).by_band
    (('0', 0.4), ('5+', 0.05))
    """
    if not section:
        return None
    e = section["estimate"]
    ends = (e.get("reduction"), e.get("reduction_lower"), e.get("reduction_upper"))
    effect = for_planning(bool(section.get("balanced")), *ends)[0]
    by_band = (section.get("targeting") or {}).get("by_band") or {}
    if effect is None or not by_band:
        return effect
    return replace(effect, by_band=tuple((str(b), float(r)) for b, r in by_band.items()))


def _effect(e: Any) -> dict[str, float]:
    return {
        "att": e.att,
        "lower": e.lower,
        "upper": e.upper,
        "reduction": e.reduction,
        "reduction_lower": e.reduction_lower,
        "reduction_upper": e.reduction_upper,
        "risk_with_help": e.risk_with_help,
        "risk_without_help": e.risk_without_help,
    }


def _groups(groups: pd.DataFrame | None, rules: DisclosureRules) -> list[dict[str, Any]]:
    """Each group's effect, in the groups' order (the bands "0" < "1-2" < "3-4" < "5+"); a
    group with fewer recipients than the threshold withheld."""
    if groups is None:
        return []
    out = []
    for r in sorted(groups.to_dict(orient="records"), key=lambda r: str(r["group"])):
        n = publish_count(int(r["recipients"]), rules)
        if n is None or n == 0:
            continue
        out.append({**r, "recipients": n})
    return out

"""Targeting by expected benefit: a family's risk without help times the reduction
estimated for its group, where the groups' effects differ detectably; otherwise the one
effect for all, which offers help to the same families as targeting by risk alone.

A gate rather than always using the group estimates: with one true effect for all, noisy
group estimates reorder families at random and avert fewer escalations than risk alone
(measured in ``evaluation/bench_targeting.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..schema import ColumnRoles
from ._estimate import MAX_PROPENSITY, _by_group, _nuisances

__all__ = [
    "HETEROGENEITY_ALPHA",
    "TargetingEffects",
    "compare_targeting",
    "shrink",
    "targeting_effects",
]

#: The groups' effects count as different where Cochran's test of one common effect
#: rejects it at this level.
HETEROGENEITY_ALPHA = 0.05


@dataclass(frozen=True)
class TargetingEffects:
    """The relative reduction targeting assumes for each group's families.

    ``by_group``: each group's estimate pulled toward the common effect (:func:`shrink`)
    where the groups differ, else the common effect for every group; ``common``: the
    precision-weighted mean; ``heterogeneity_p``: Cochran's test that one effect holds for
    all groups (NaN with fewer than two usable groups); ``differ``: whether it rejected
    that at :data:`HETEROGENEITY_ALPHA`."""

    by_group: Mapping[str, float]
    common: float
    heterogeneity_p: float
    differ: bool

    def reduction(self, groups: np.ndarray) -> np.ndarray:
        """Each family's reduction (a group without an estimate: the common effect),
        in [0, 1]: help is not offered for a harm, nor counted as more than prevention."""
        r = pd.Series(np.asarray(groups, dtype=object)).map(dict(self.by_group))
        return np.clip(r.fillna(self.common).to_numpy(dtype=float), 0.0, 1.0)


def _usable(groups: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r = groups["reduction"].to_numpy(dtype=float)
    if "reduction_se" in groups.columns:
        se = groups["reduction_se"].to_numpy(dtype=float)
    else:
        se = (groups["reduction_upper"] - groups["reduction_lower"]).to_numpy(dtype=float) / (
            2 * 1.96
        )
    ok = np.isfinite(r) & np.isfinite(se) & (se > 0)
    return r, se, ok


def shrink(groups: pd.DataFrame) -> pd.Series:
    """Each group's estimated reduction pulled toward their precision-weighted mean by
    as much as its own noise exceeds the spread between groups (empirical Bayes, with
    DerSimonian and Laird's between-group variance): a small group's noisy estimate does
    not decide whom to offer help.

    >>> g = pd.DataFrame({"reduction": [0.9, 0.3], "reduction_lower": [-0.9, 0.25],
    ...                   "reduction_upper": [2.7, 0.35]}, index=["small", "large"])
    >>> shrink(g).round(2).tolist()
    [0.3, 0.3]
    """
    r, se, ok = _usable(groups)
    if ok.sum() < 2:
        return pd.Series(np.where(ok, r, np.nan), index=groups.index)
    w = 1 / se[ok] ** 2
    mean = float(np.sum(w * r[ok]) / w.sum())
    q = float(np.sum(w * (r[ok] - mean) ** 2))
    tau2 = max(0.0, (q - (ok.sum() - 1)) / (w.sum() - np.sum(w**2) / w.sum()))
    pulled = mean + tau2 / (tau2 + se**2) * (r - mean)
    return pd.Series(np.where(ok, pulled, mean), index=groups.index)


def targeting_effects(groups: pd.DataFrame, alpha: float = HETEROGENEITY_ALPHA) -> TargetingEffects:
    """The reductions targeting by expected benefit uses, from the groups' estimates
    (``ImpactEstimate.groups``: ``group``, ``reduction`` and ``reduction_se`` or an
    interval): shrunk group effects where Cochran's test says they differ, else one.

    >>> g = pd.DataFrame({"group": ["0", "5+"], "reduction": [0.4, 0.0],
    ...                   "reduction_se": [0.05, 0.05]})
    >>> t = targeting_effects(g)
    >>> t.differ, round(t.common, 2), {k: round(v, 2) for k, v in t.by_group.items()}
    (True, 0.2, {'0': 0.39, '5+': 0.01})
    >>> same = targeting_effects(g.assign(reduction=[0.3, 0.25]))
    >>> same.differ, {k: round(v, 3) for k, v in same.by_group.items()}
    (False, {'0': 0.275, '5+': 0.275})
    """
    table = groups.set_index(groups["group"].astype(str))
    r, se, ok = _usable(table)
    if ok.sum() == 0:
        return TargetingEffects({}, float("nan"), float("nan"), False)
    w = 1 / se[ok] ** 2
    common = float(np.sum(w * r[ok]) / w.sum())
    if ok.sum() < 2:
        return TargetingEffects({}, common, float("nan"), False)
    q = float(np.sum(w * (r[ok] - common) ** 2))
    p = float(stats.chi2.sf(q, int(ok.sum()) - 1))
    names = [str(g) for g in table.index[ok]]
    if p >= alpha:
        return TargetingEffects(dict.fromkeys(names, common), common, p, False)
    pulled = shrink(table)
    return TargetingEffects({g: float(pulled[g]) for g in names}, common, p, True)


def compare_targeting(
    frame: pd.DataFrame,
    roles: ColumnRoles,
    places: int,
    treatment: str = "early_help",
    *,
    by: str = "n_think_family_band",
    learner: str = "logistic",
    random_state: int = 0,
) -> pd.DataFrame:
    """Targeting ``places`` by risk alone against targeting by expected benefit (risk
    without help times the reduction :func:`targeting_effects` gives the family's group),
    each with the escalations it would avert under those effects. The families chosen are
    kept in memory only (``attrs["chosen"]``: boolean masks, for a synthetic world's truth
    to be checked against); ``attrs["effects"]`` is the :class:`TargetingEffects`."""
    from ..population import add_segments, benefit_score

    t = frame[treatment].to_numpy(dtype=int)
    y = frame[roles.outcome].to_numpy(dtype=float)
    e, m0 = _nuisances(frame, roles, t, y, learner, 2, random_state)
    e = np.clip(e, 1e-6, MAX_PROPENSITY)
    groups = add_segments(frame, roles)[by].astype(str).to_numpy()
    effects = targeting_effects(_by_group(groups, t, y, m0, e / (1 - e)))
    reduction = effects.reduction(groups)
    benefit = m0 * reduction
    orders = {
        "risk alone": np.argsort(-m0, kind="stable"),
        "expected benefit": np.argsort(-benefit_score(m0, reduction), kind="stable"),
    }
    chosen, rows = {}, []
    for name, order in orders.items():
        pick = np.zeros(len(frame), dtype=bool)
        pick[order[:places]] = True
        chosen[name] = pick
        rows.append({"targeting": name, "places": places, "averted": float(benefit[pick].sum())})
    out = pd.DataFrame(rows)
    out.attrs["chosen"] = chosen
    out.attrs["effects"] = effects
    return out

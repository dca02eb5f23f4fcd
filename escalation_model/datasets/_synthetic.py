"""The synthetic population: a documented structural model with an exact oracle.

Structure (all parameters are named in :class:`SyntheticParameters` and their fitted values
are data in ``synthetic_parameters.toml``):

1. **Geography.** ``n_authorities`` authorities, each with wards. A ward's deprivation score
   is ``z = authority effect + ward effect`` (higher = more deprived; both effects are
   stratified normal draws, so the spread is stable across seeds); wards are ranked on
   ``z`` into deciles (1 = most deprived, as the Welsh Index of Multiple Deprivation ranks
   small areas nationally). More deprived wards hold more families (``size_slope``); rural
   wards are less deprived on average.
2. **Latent vulnerability.** Each family belongs to one of four latent classes
   (0 = no additional needs, 1 = some, 2 = multiple, 3 = complex needs), drawn from a
   cumulative logit in the ward's deprivation score. The class is never observed.
3. **Overlapping indicators.** Think Family indicators, secondary indicators, household
   factors (after Bebbington and Miles) and child disability are conditionally independent
   given the class and the ward: ``logit P = base + loading * class + deprivation * z``.
   Because they share the class, they overlap. Indicators are recorded at the profile date
   and are "not known" (missing) at random with a small probability.
4. **Escalation** within 12 months of the profile date, on the log-odds scale: an
   intercept, an effect of the latent class (need that the record does not show), an effect
   of each *recorded* indicator (agencies respond to what is known), a hinge that adds risk
   for every vulnerability factor beyond the fourth (overlapping needs combine more than
   additively), a planted pairwise interaction (domestic abuse with substance misuse) and a
   three-way one (with maternal mental health), household factors, deprivation, ethnicity
   (mixed ethnicity raised, after Bebbington and Miles), disability, age band and an optional
   trend. The outcome is a Bernoulli draw: irreducible noise.
5. **Options for later analyses.** A referral bias (families of one group with the same need
   are escalated with higher odds: surveillance bias) and an early-help effect (from a start
   date, families with 5+ Think Family indicators have their escalation probability reduced
   by a known relative amount).
6. **Highest level reached**: child in need, child protection or looked after for escalated
   families (more severe with the class and deprivation); early help or none otherwise.

**The oracle is exact.** Escalation depends on the unobserved class only through
``esc_class * class``; every other term is a function of visible columns. The posterior of
the class given the visible columns follows from Bayes' rule over the four classes (items
are conditionally independent given the class and ward, and missingness is at random), so
``P(escalated | visible columns) = sum_k P(class = k | visible) * P(escalated | visible, k)``
is computed in closed form, not estimated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, ndtri

from .._errors import EscalationModelError
from .._limits import FIVE_OR_MORE
from ..schema import OUTCOME_LEVELS, ColumnRoles
from ._parameters import ItemParameters, SyntheticParameters, load_parameters

__all__ = ["SyntheticPopulation", "make_synthetic_population", "class_probabilities"]

#: Families generated per chunk. Fixed, so that the same seed gives the same data.
CHUNK_SIZE = 250_000
_START = np.datetime64("2011-01-01", "D")
_END = np.datetime64("2015-12-31", "D")


@dataclass(eq=False)
class SyntheticPopulation:
    """A synthetic population of families and its known truth.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per family in the default column roles.
    roles : ColumnRoles
        The roles of ``frame``'s columns.
    oracle : pandas.Series
        For every family, the exact probability of escalation given the columns a model can
        see (all columns except the identifier and the outcomes). The best any model could
        do. Kept out of ``frame``.
    oracle_looked_after : pandas.Series
        The same for the highest level reached being "looked after" (entry into care).
    wards : pandas.DataFrame
        The ward table: code, authority, deprivation score and decile, rurality, size.
    parameters : SyntheticParameters
        The structural parameters used.
    options : dict
        The options the population was generated with (seed, biases, effects).
    """

    frame: pd.DataFrame
    roles: ColumnRoles
    oracle: pd.Series
    wards: pd.DataFrame
    parameters: SyntheticParameters
    options: dict[str, Any] = field(default_factory=dict)
    oracle_looked_after: pd.Series | None = None

    def true_probability(self, frame: pd.DataFrame) -> pd.Series:
        """The exact probability of escalation for any families in this population's
        wards, given their visible columns: for counterfactuals such as "the same family
        without domestic abuse"."""
        p = true_probability(frame, self.wards, self.parameters, self.options)
        return pd.Series(p, index=frame.index, name="true_probability")

    def __repr__(self) -> str:
        n = len(self.frame)
        rate = float(self.frame[self.roles.outcome].mean()) if n else float("nan")
        return (
            f"SyntheticPopulation(n_families={n:,}, n_authorities="
            f"{self.options.get('n_authorities')}, n_wards={len(self.wards)}, "
            f"escalation_rate={rate:.2%}, seed={self.options.get('seed')})"
        )


# --------------------------------------------------------------------------- model pieces
def class_probabilities(z: np.ndarray, params: SyntheticParameters) -> np.ndarray:
    """``P(class = k | ward deprivation z)`` for each row, shape ``(n, n_classes)``."""
    z = np.asarray(z, dtype=float)
    at_least = [np.ones_like(z)]
    for t in params.class_thresholds:
        at_least.append(expit(t + params.class_deprivation * z))
    at_least.append(np.zeros_like(z))
    cum = np.stack(at_least, axis=1)
    return np.clip(cum[:, :-1] - cum[:, 1:], 1e-300, 1.0)


def item_probabilities(item: ItemParameters, z: np.ndarray, n_classes: int) -> np.ndarray:
    """``P(item = 1 | class k, z)``, shape ``(n, n_classes)``."""
    k = np.arange(n_classes)[None, :]
    return expit(item.base + item.loading * k + item.deprivation * np.asarray(z)[:, None])


def _all_items(params: SyntheticParameters) -> list[tuple[str, str, ItemParameters]]:
    items = [("think_family", n, p) for n, p in params.think_family.items()]
    items += [("secondary", n, p) for n, p in params.secondary.items()]
    items += [("household", n, p) for n, p in params.household.items()]
    items.append(("protected", "child_disability", params.disability))
    return items


def _normal_quantiles(n: int) -> np.ndarray:
    return np.asarray(ndtri((np.arange(n) + 0.5) / n))


def _make_wards(
    n_families: int, n_authorities: int, params: SyntheticParameters, rng: np.random.Generator
) -> pd.DataFrame:
    per_auth = max(5, int(round(n_families / (params.families_per_ward * n_authorities))))
    n_wards = per_auth * n_authorities
    authority = np.repeat(np.arange(n_authorities), per_auth)
    # stratified draws: the spread of deprivation is the same in every population, only
    # which authority and ward is where changes with the seed
    auth_effect = params.authority_sd * rng.permutation(_normal_quantiles(n_authorities))
    ward_effect = np.concatenate(
        [
            params.ward_sd * rng.permutation(_normal_quantiles(per_auth))
            for _ in range(n_authorities)
        ]
    )
    z = auth_effect[authority] + ward_effect
    size = np.exp(params.size_slope * z + rng.normal(0.0, params.size_sd, n_wards))
    rural = rng.random(n_wards) < expit(params.rural_intercept + params.rural_slope * z)
    # national ranking: decile 1 = most deprived tenth of wards
    order = np.argsort(-z, kind="stable")
    rank = np.empty(n_wards, dtype=np.int64)
    rank[order] = np.arange(n_wards)
    decile = (rank * 10 // n_wards + 1).astype(np.int8)
    eth_shift = rng.normal(0.0, params.ethnicity_authority_sd, n_authorities)
    codes = [f"LA{a + 1:02d}-W{w + 1:03d}" for a in range(n_authorities) for w in range(per_auth)]
    return pd.DataFrame(
        {
            "ward_code": codes,
            "authority": authority,
            "authority_code": [f"LA{a + 1:02d}" for a in authority],
            "deprivation_score": z,
            "deprivation_decile": decile,
            "rural": rural.astype(np.int8),
            "weight": size / size.sum(),
            "ethnicity_shift": eth_shift[authority],
        }
    )


def _escalation_base_logit(
    cols: dict[str, np.ndarray],
    z: np.ndarray,
    years: np.ndarray,
    params: SyntheticParameters,
    bias: np.ndarray,
) -> np.ndarray:
    """Log-odds of escalation from visible columns only (the class term is added apart)."""
    logit = np.full(z.shape[0], params.esc_intercept, dtype=float)
    n_vf = np.zeros(z.shape[0], dtype=float)
    for name in (*params.think_family, *params.secondary):
        x = np.nan_to_num(cols[name], nan=0.0)  # agencies respond to what is recorded
        n_vf += x
        logit += params.esc_items.get(name, 0.0) * x
    for name in params.household:
        logit += params.esc_items.get(name, 0.0) * cols[name]
    logit += params.esc_hinge * np.maximum(0.0, n_vf - params.esc_hinge_start)
    a, b = (np.nan_to_num(cols[c], nan=0.0) for c in params.esc_pair)
    logit += params.esc_pair_effect * a * b
    t1, t2, t3 = (np.nan_to_num(cols[c], nan=0.0) for c in params.esc_trio)
    logit += params.esc_trio_effect * t1 * t2 * t3
    logit += params.esc_deprivation * z
    eth = cols["_ethnicity_code"].astype(np.int64)
    eth_eff = np.array([params.esc_ethnicity.get(lv, 0.0) for lv in params.ethnicity_levels])
    logit += eth_eff[eth]
    logit += params.esc_disability * cols["child_disability"]
    age = cols["_age_code"].astype(np.int64)
    age_eff = np.array([params.esc_age.get(lv, 0.0) for lv in params.age_levels])
    logit += age_eff[age]
    logit += params.esc_trend_per_year * (years - 2013.0)
    logit += bias
    return logit


def _class_log_posterior(
    cols: dict[str, np.ndarray], z: np.ndarray, params: SyntheticParameters
) -> np.ndarray:
    """Log ``P(class = k | visible columns)`` up to a constant, shape ``(n, n_classes)``."""
    k = params.n_classes
    logp = np.log(class_probabilities(z, params))
    for _role, name, item in _all_items(params):
        p = item_probabilities(item, z, k)
        x = cols[name]
        known = ~np.isnan(x) if x.dtype.kind == "f" else np.ones(x.shape, bool)
        xk = np.where(known, x, 0.0)[:, None]
        contrib = xk * np.log(p) + (1.0 - xk) * np.log1p(-p)
        logp += np.where(known[:, None], contrib, 0.0)
    return logp


def _oracle(
    base_logit: np.ndarray,
    log_post: np.ndarray,
    params: SyntheticParameters,
    multiplier: np.ndarray,
) -> np.ndarray:
    post = np.exp(log_post - log_post.max(axis=1, keepdims=True))
    post /= post.sum(axis=1, keepdims=True)
    k = np.arange(params.n_classes)[None, :]
    p_k = expit(base_logit[:, None] + params.esc_class * k)
    return (post * p_k).sum(axis=1) * multiplier


def _oracle_looked_after(
    base_logit: np.ndarray,
    log_post: np.ndarray,
    z: np.ndarray,
    params: SyntheticParameters,
    multiplier: np.ndarray,
) -> np.ndarray:
    """The exact ``P(looked after within the horizon | visible columns)``: over the
    latent classes, P(class | visible) x P(escalate | class) x P(looked after | class,
    escalated, area deprivation), the last as the generator draws the highest level."""
    post = np.exp(log_post - log_post.max(axis=1, keepdims=True))
    post /= post.sum(axis=1, keepdims=True)
    k = np.arange(params.n_classes)[None, :]
    p_k = expit(base_logit[:, None] + params.esc_class * k) * multiplier[:, None]
    lac_k = expit(
        params.level_lac_intercept
        + params.level_lac_class * k
        + params.level_lac_deprivation * z[:, None]
    )
    return (post * p_k * lac_k).sum(axis=1)


def _visible_terms(
    cols: dict[str, np.ndarray],
    z: np.ndarray,
    dates: np.ndarray,
    years: np.ndarray,
    params: SyntheticParameters,
    opts: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray]:
    """The escalation log-odds without the class term, and the early-help multiplier."""
    bias = np.zeros(z.shape[0])
    if opts["referral_bias"] is not None:
        b = opts["referral_bias"]
        if b["column"] == "child_ethnicity":
            member = np.asarray(params.ethnicity_levels)[cols["_ethnicity_code"]] == b["group"]
        elif b["column"] == "child_sex":
            member = np.asarray(["Female", "Male"])[cols["_sex_code"]] == b["group"]
        elif b["column"] == "child_age_band":
            member = np.asarray(params.age_levels)[cols["_age_code"]] == b["group"]
        else:
            member = cols[b["column"]] == float(b["group"])
        bias = np.where(member, np.log(b["odds_ratio"]), 0.0)
    base_logit = _escalation_base_logit(cols, z, years, params, bias)
    n_tf = sum(np.nan_to_num(cols[c], nan=0.0) for c in params.think_family)
    multiplier = np.ones(z.shape[0])
    if opts["early_help_effect"] > 0:
        reached = (n_tf >= FIVE_OR_MORE) & (dates >= np.datetime64(opts["early_help_start"], "D"))
        multiplier = np.where(reached, 1.0 - opts["early_help_effect"], 1.0)
    return base_logit, multiplier


def true_probability(
    frame: pd.DataFrame,
    wards: pd.DataFrame,
    params: SyntheticParameters,
    options: dict[str, Any],
) -> np.ndarray:
    """The exact ``P(escalated | visible columns)`` for any rows in the default roles,
    including counterfactual ones (an indicator switched on or off)."""
    ward_index = pd.Index(wards["ward_code"]).get_indexer(frame["ward_code"].astype(str))
    if (ward_index < 0).any():
        raise ValueError("rows name wards that are not in this population's ward table")
    z = wards["deprivation_score"].to_numpy()[ward_index]
    cols: dict[str, np.ndarray] = {}
    for name in (*params.think_family, *params.secondary, *params.household, "child_disability"):
        cols[name] = frame[name].to_numpy(dtype=float, na_value=np.nan)
    cols["_ethnicity_code"] = pd.Index(params.ethnicity_levels).get_indexer(
        frame["child_ethnicity"].astype(str)
    )
    cols["_age_code"] = pd.Index(params.age_levels).get_indexer(frame["child_age_band"].astype(str))
    cols["_sex_code"] = (frame["child_sex"].astype(str) == "Male").to_numpy().astype(np.int8)
    dates = frame["profile_date"].to_numpy().astype("datetime64[D]")
    years = 2011.0 + (dates - _START).astype(float) / 365.25
    base_logit, multiplier = _visible_terms(cols, z, dates, years, params, options)
    return _oracle(base_logit, _class_log_posterior(cols, z, params), params, multiplier)


def _generate_chunk(
    n: int,
    rng: np.random.Generator,
    wards: pd.DataFrame,
    params: SyntheticParameters,
    opts: dict[str, Any],
) -> dict[str, np.ndarray]:
    k_classes = params.n_classes
    ward = rng.choice(len(wards), size=n, p=wards["weight"].to_numpy())
    z = wards["deprivation_score"].to_numpy()[ward]
    cls_p = class_probabilities(z, params)
    latent = (rng.random(n)[:, None] > np.cumsum(cls_p, axis=1)).sum(axis=1)
    latent = np.minimum(latent, k_classes - 1)
    rows = np.arange(n)

    cols: dict[str, np.ndarray] = {"_ward": ward, "_latent": latent}
    for role, name, item in _all_items(params):
        p = item_probabilities(item, z, k_classes)[rows, latent]
        x = (rng.random(n) < p).astype(float)
        if item.missing > 0 and role in ("think_family", "secondary"):
            rate = item.missing if opts["missing_rate"] is None else opts["missing_rate"]
            x[rng.random(n) < rate] = np.nan
        cols[name] = x

    # protected characteristics independent of the class given the authority
    base = np.log(np.asarray(params.ethnicity_probs))
    shift = wards["ethnicity_shift"].to_numpy()[ward]
    logits = base[None, :] + np.where(np.arange(len(base)) > 0, 1.0, 0.0)[None, :] * shift[:, None]
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    cols["_ethnicity_code"] = (rng.random(n)[:, None] > np.cumsum(probs, axis=1)).sum(axis=1)
    cols["_ethnicity_code"] = np.minimum(cols["_ethnicity_code"], len(base) - 1)
    cols["_sex_code"] = (rng.random(n) < 0.5).astype(np.int8)
    age_cum = np.cumsum(params.age_probs)
    cols["_age_code"] = np.minimum(
        (rng.random(n)[:, None] > age_cum[None, :]).sum(axis=1), len(age_cum) - 1
    )
    days = rng.integers(0, int((_END - _START).astype(int)) + 1, size=n)
    dates = _START + days.astype("timedelta64[D]")
    years = 2011.0 + days / 365.25
    cols["_date"] = dates

    base_logit, multiplier = _visible_terms(cols, z, dates, years, params, opts)
    p_true = expit(base_logit + params.esc_class * latent) * multiplier
    escalated = rng.random(n) < p_true
    log_post = _class_log_posterior(cols, z, params)
    cols["_oracle"] = _oracle(base_logit, log_post, params, multiplier)
    cols["_oracle_la"] = _oracle_looked_after(base_logit, log_post, z, params, multiplier)
    cols["_escalated"] = escalated.astype(np.int8)

    # highest level reached
    u = rng.random(n)
    p_lac = expit(
        params.level_lac_intercept
        + params.level_lac_class * latent
        + params.level_lac_deprivation * z
    )
    p_cp = expit(params.level_cp_intercept + params.level_cp_class * latent)
    p_eh = expit(params.level_early_help_intercept + params.level_early_help_class * latent)
    level = np.where(
        escalated,
        np.where(u < p_lac, 4, np.where(u < p_lac + (1 - p_lac) * p_cp, 3, 2)),
        np.where(u < p_eh, 1, 0),
    )
    cols["_level"] = level.astype(np.int8)
    return cols


def _int8_nullable(x: np.ndarray) -> pd.arrays.IntegerArray:
    mask = np.isnan(x)
    return pd.arrays.IntegerArray(np.where(mask, 0, x).astype(np.int8), mask)


def make_synthetic_population(
    n_families: int = 300_000,
    *,
    n_authorities: int = 8,
    random_state: int | None = None,
    referral_bias: dict[str, Any] | None = None,
    early_help_effect: float = 0.0,
    early_help_start: str = "2014-01-01",
    missing_rate: float | None = None,
    parameters: SyntheticParameters | None = None,
) -> SyntheticPopulation:
    """Generate the embedded synthetic population of families.

    Parameters
    ----------
    n_families : int, default=300_000
        Number of families with children across all authorities.
    n_authorities : int, default=8
        Number of local authorities (the founding paper's mapping covered 8).
    random_state : int, optional
        Seed. The same seed and options give identical data, bit for bit. ``None`` draws a
        fresh seed, recorded in ``options["seed"]``.
    referral_bias : dict, optional
        Plant a surveillance bias: ``{"column": "child_ethnicity", "group": "Black",
        "odds_ratio": 2.0}`` multiplies the odds of escalation of that group's families,
        at the same need. Off by default.
    early_help_effect : float, default=0.0
        Relative reduction in the probability of escalation for families with 5 or more
        Think Family indicators profiled on or after ``early_help_start``.
    early_help_start : str, default="2014-01-01"
        Date from which early help has its effect.
    missing_rate : float, optional
        Share of indicator values recorded as "not known"; defaults to the fitted rates
        (2% for Think Family, 5% for secondary indicators).
    parameters : SyntheticParameters, optional
        Structural parameters; defaults to the fitted values shipped with the package.

    Returns
    -------
    SyntheticPopulation

    Examples
    --------
    >>> pop = make_synthetic_population(5_000, random_state=1)
    >>> pop.frame.shape[0], round(float(pop.oracle.mean()), 3) > 0
    (5000, True)
    """
    if not isinstance(n_families, (int, np.integer)) or n_families < 1:
        raise EscalationModelError(
            f"n_families must be a positive whole number, got {n_families!r}"
        )
    if not isinstance(n_authorities, (int, np.integer)) or n_authorities < 1:
        raise EscalationModelError(
            f"n_authorities must be a positive whole number, got {n_authorities!r}"
        )
    if not 0.0 <= early_help_effect < 1.0:
        raise EscalationModelError(
            f"early_help_effect is a relative risk reduction in [0, 1), got {early_help_effect}"
        )
    if missing_rate is not None and not 0.0 <= missing_rate < 1.0:
        raise EscalationModelError(f"missing_rate must lie in [0, 1), got {missing_rate}")
    params = parameters if parameters is not None else load_parameters()
    if referral_bias is not None:
        need = {"column", "group", "odds_ratio"}
        if not need <= set(referral_bias):
            raise EscalationModelError(
                f"referral_bias needs the keys {sorted(need)}, got {sorted(referral_bias)}"
            )
        if referral_bias["odds_ratio"] <= 0:
            raise EscalationModelError("referral_bias odds_ratio must be positive")
    seed_seq = np.random.SeedSequence(random_state)
    opts: dict[str, Any] = {
        "seed": seed_seq.entropy,
        "n_families": int(n_families),
        "n_authorities": int(n_authorities),
        "referral_bias": referral_bias,
        "early_help_effect": float(early_help_effect),
        "early_help_start": str(early_help_start),
        "missing_rate": missing_rate,
    }
    ward_seq, chunk_root = seed_seq.spawn(2)
    wards = _make_wards(n_families, n_authorities, params, np.random.default_rng(ward_seq))

    n_chunks = -(-n_families // CHUNK_SIZE)
    chunk_seqs = chunk_root.spawn(n_chunks)
    names = [*params.think_family, *params.secondary, *params.household, "child_disability"]
    out: dict[str, np.ndarray] = {}
    for i, seq in enumerate(chunk_seqs):
        lo, hi = i * CHUNK_SIZE, min(n_families, (i + 1) * CHUNK_SIZE)
        cols = _generate_chunk(hi - lo, np.random.default_rng(seq), wards, params, opts)
        if not out:
            for key, arr in cols.items():
                out[key] = np.empty(n_families, dtype=arr.dtype)
        for key, arr in cols.items():
            out[key][lo:hi] = arr
        del cols

    ward = out.pop("_ward")
    wcodes = pd.Categorical(wards["ward_code"])
    acodes = pd.Categorical([f"LA{a + 1:02d}" for a in range(n_authorities)])
    data: dict[str, Any] = {
        "family_id": np.arange(1, n_families + 1, dtype=np.int64),
        "profile_date": out.pop("_date").astype("datetime64[s]"),
        "ward_code": pd.Categorical.from_codes(wcodes.codes[ward], wcodes.categories),
        "authority_code": pd.Categorical.from_codes(
            wards["authority"].to_numpy()[ward], acodes.categories
        ),
    }
    for name in names:
        arr = out.pop(name)
        if name in params.think_family or name in params.secondary:
            data[name] = _int8_nullable(arr)
        else:
            data[name] = arr.astype(np.int8)
    data["deprivation_decile"] = wards["deprivation_decile"].to_numpy()[ward]
    data["rural"] = wards["rural"].to_numpy()[ward]
    data["child_ethnicity"] = pd.Categorical.from_codes(
        out.pop("_ethnicity_code"), list(params.ethnicity_levels)
    )
    data["child_sex"] = pd.Categorical.from_codes(out.pop("_sex_code"), ["Female", "Male"])
    data["child_age_band"] = pd.Categorical.from_codes(
        out.pop("_age_code"), list(params.age_levels), ordered=True
    )
    data["escalated"] = out.pop("_escalated")
    data["outcome_level"] = pd.Categorical.from_codes(
        out.pop("_level"), list(OUTCOME_LEVELS), ordered=True
    )
    oracle = out.pop("_oracle")
    oracle_la = out.pop("_oracle_la")
    out.clear()
    order = [
        "family_id",
        "profile_date",
        "ward_code",
        "authority_code",
        *params.think_family,
        *params.secondary,
        *params.household,
        "deprivation_decile",
        "rural",
        "child_ethnicity",
        "child_disability",
        "child_sex",
        "child_age_band",
        "escalated",
        "outcome_level",
    ]
    frame = pd.DataFrame({k: data[k] for k in order})
    return SyntheticPopulation(
        frame=frame,
        roles=ColumnRoles(),
        oracle=pd.Series(oracle, index=frame.index, name="true_probability"),
        oracle_looked_after=pd.Series(
            oracle_la, index=frame.index, name="true_probability_looked_after"
        ),
        wards=wards.drop(columns=["weight"]).assign(share_of_families=wards["weight"]),
        parameters=params,
        options=opts,
    )

"""Do the published intervals and findings mean what they say? Measured by simulation.

One synthetic world (a very large population: its authorities' and wards' effects drawn
once) holds everything: a fixed model (LightGBM as the run fits it, and the 5+ rule) is
trained on 300,000 of its families (the run's temporal split); the truth of every metric
is its value on the others (2 million by default); and each fresh test population is a
simple random sample of those others, drawn independently of the rest (so a world gives
as many test populations as wanted; 200 disjoint blocks per world, the first design, left
the Monte-Carlo SE at 1.5%). For each:

* every interval of the model comparison (each metric of each model, and the paired
  differences to the 5+ rule) is checked for covering its truth;
* the expected escalations reached by the model's own top 5% (the sum of its
  probabilities) is compared with the observed count there. With one fixed model this
  measures that fit's error at the top; the selection bias the card must not carry is the
  average over fits, so ``reach`` refits the model on fresh populations in the run's own
  setting (trained on the earlier years, scored on the test year) and averages; on the
  same fits, the exact chance that monitoring flags a test-year quarter (unchanged, and
  after a real 10% fall) and that the funnel's 95% limits flag an unchanged ward;
* the fairness audit (with the intersection of ethnicity and deprivation) is run at two
  sizes, without and with a planted referral bias: the share of audits reporting any
  comparison "outside tolerance" whose truth lies inside the band (false findings), and
  the share finding the planted group's calibration outside (detection), and the coverage
  and false findings per comparison in groups with fewer than 20 escalations; and, from
  the same audits' p-values and weights, what two other adjustments would have found in
  place of weighted Holm's (Benjamini-Hochberg's false discovery rate, and a
  conditionalised Holm).

Coverage is given with its Monte-Carlo standard error. A script, not a unit test:

python evaluation/bench_coverage.py [--replicates 1000] [--audit-replicates 100]
    [--reach-fits 20] [--only-audits | --only-reach | --only-intervals --world-seed N]
python evaluation/bench_coverage.py --pool   # the intervals pooled over the worlds run
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
import pandas as pd
from _results import write_results
from scipy.stats import false_discovery_control

from escalation_model.datasets import make_synthetic_population
from escalation_model.evaluation import ORACLE, ModelComparison, temporal_split
from escalation_model.evaluation._comparison import _scores
from escalation_model.fairness import audit_model, holm
from escalation_model.models import level_rows, make_models
from escalation_model.population import calibration_uncertainty, poisson_binomial_pmf
from escalation_model.population._aggregate import count_dispersion, funnel_limits
from escalation_model.population._poisson_binomial import chance_outside, count_limits

BIAS = {"column": "child_ethnicity", "group": "Black", "odds_ratio": 3.0}
INTERSECTIONS = [("child_ethnicity", "deprivation_quintile")]
#: How the intervals' test populations are drawn; ``--pool`` pools only results of this.
DESIGN = "simple random samples of the world"


def _world(n: int, bias: dict[str, Any] | None, seed: int = 12) -> tuple[Any, Any, Any]:
    """A world of ``n`` families: (roles, the fitted models, the families not used to
    fit them, in random order)."""
    pop = make_synthetic_population(n, random_state=seed, referral_bias=bias)
    order = np.random.default_rng(seed).permutation(n)
    frame = pop.frame.iloc[order].reset_index(drop=True)
    oracle = pop.oracle.to_numpy()[order]
    fit_part = frame.iloc[:300_000]
    split = temporal_split(fit_part, pop.roles)
    train = fit_part.iloc[split.train]
    models = make_models(pop.roles)
    fitted = {
        name: models[name].fit(train, train["escalated"]) for name in ("five_plus_rule", "lightgbm")
    }
    rest = frame.iloc[300_000:].reset_index(drop=True).assign(_oracle=oracle[300_000:])
    return pop.roles, fitted, rest


def _long(comparison: Any) -> pd.DataFrame:
    t = comparison.table[["model", "metric", "estimate", "lower", "upper"]]
    d = comparison.differences.rename(columns={"difference": "estimate"})
    d = d.assign(model=d["model"] + " - " + d["reference"])[t.columns]
    return pd.concat([t, d], ignore_index=True).set_index(["model", "metric"])


def intervals(
    n_test: int, replicates: int, n_bootstrap: int, seed: int = 12, world: int = 2_000_000
) -> dict:
    """Coverage of every interval of the model comparison: ``replicates`` test populations
    of ``n_test`` families, each a simple random sample of the ``world`` families not used
    to fit, whose values are the truth. The models predict the world once; each sample's
    comparison is the run's (``ModelComparison`` on its predictions, as ``compare_models``
    builds it)."""
    _, fitted, rest = _world(300_000 + world, None, seed)
    y, oracle_p = rest["escalated"].to_numpy(), rest["_oracle"].to_numpy()
    predictions = {name: _scores(model, rest) for name, model in fitted.items()}
    every = {**predictions, ORACLE: (oracle_p, oracle_p)}
    truth = _long(ModelComparison(every, y, n_bootstrap=2))["estimate"]
    # not default_rng(seed): that stream already ordered the world (_world)
    rng = np.random.default_rng([seed, 1])
    covered, reach = [], []
    for r in range(replicates):
        at = np.sort(rng.choice(len(y), n_test, replace=False))
        sample = {name: (p[at], s[at]) for name, (p, s) in predictions.items()}
        c = _long(ModelComparison(sample, y[at], n_bootstrap=n_bootstrap))
        true = truth.reindex(c.index)
        finite = c["lower"].notna() & c["upper"].notna()
        covered.append(((c["lower"] <= true) & (true <= c["upper"])).where(finite).rename(r))
        p = sample["lightgbm"][0]
        top = np.argsort(-p, kind="stable")[: int(0.05 * len(p))]
        reach.append((p[top].sum(), y[at][top].sum(), oracle_p[at][top].sum()))
    cov = pd.concat(covered, axis=1).astype(float)
    share = cov.mean(axis=1)
    se = np.sqrt(share * (1 - share) / cov.notna().sum(axis=1))
    rows = [
        {"model": m, "metric": k, "coverage": round(float(s), 4), "mc_se": round(float(e), 4)}
        for (m, k), s, e in zip(share.index, share, se, strict=True)
        if not np.isnan(s)
    ]
    expected, observed, oracle = (np.array(x, dtype=float) for x in zip(*reach, strict=True))
    return {
        "design": DESIGN,
        "world_families": world,
        "test_families": n_test,
        "replicates": replicates,
        "truth": {
            f"{m} {k}": round(float(v), 4)
            for (m, k), v in truth.items()
            if k in ("roc_auc", "calibration_slope", "calibration_intercept") and " - " not in m
        },
        "coverage": rows,
        "reach": {
            "mean_expected_over_observed": round(float(np.mean(expected / observed)), 4),
            "mean_expected_over_oracle": round(float(np.mean(expected / oracle)), 4),
            "ratio_of_means_expected_over_observed": round(
                float(expected.mean() / observed.mean()), 4
            ),
        },
    }


def reach(fits: int, n_families: int) -> dict:
    """Expected against observed (and true) escalations in the model's own top 5% of the
    test year, each from a model fitted as the run fits it on a fresh population."""
    rows, flags, wards, factors = [], [], [], []
    for seed in range(fits):
        pop = make_synthetic_population(n_families, random_state=100 + seed)
        split = temporal_split(pop.frame, pop.roles)
        train, test = pop.frame.iloc[split.train], pop.frame.iloc[split.test]
        model = make_models(pop.roles)["lightgbm"].fit(train, train["escalated"])
        p = model.predict_proba(test)[:, 1]
        top = np.argsort(-p, kind="stable")[: int(0.05 * len(p))]
        y, truth = test["escalated"].to_numpy(), pop.oracle.to_numpy()[split.test]
        rows.append((p[top].sum(), y[top].sum(), truth[top].sum()))
        behind_level = train["escalated"].sum() * level_rows(model, len(train)) / len(train)
        se = calibration_uncertainty(p, y.sum(), behind_level)
        flags.extend({**q, "fit": seed} for q in _quarter_flags(test, pop.roles, p, truth, se))
        factors.append((np.log(truth.sum() / p.sum()), se, calibration_uncertainty(p)))
        wards.extend(_ward_flags(test, p, truth))
    expected, observed, oracle = (np.array(x, dtype=float) for x in zip(*rows, strict=True))
    f = pd.DataFrame(flags)

    def mean_ratio(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
        r = a / b
        return {
            "mean": round(float(r.mean()), 4),
            "mc_se": round(float(r.std(ddof=1) / np.sqrt(len(r))), 4),
            "min": round(float(r.min()), 4),
            "max": round(float(r.max()), 4),
        }

    return {
        "fits": fits,
        "families_per_population": n_families,
        "test_families_per_fit": len(p),
        "expected_over_observed": mean_ratio(expected, observed),
        "expected_over_true": mean_ratio(expected, oracle),
        "funnel": {
            "wards": len(wards),
            "mean_expected_per_ward": round(float(np.mean([w[0] for w in wards])), 1),
            "flagged_unchanged_95": round(float(np.mean([w[1] for w in wards])), 4),
            "flagged_unchanged_95_poisson_limits": round(float(np.mean([w[2] for w in wards])), 4),
        },
        "calibration": {
            # the log of each fit's true calibration factor on its test year, against the
            # uncertainty the run gives it (and the held-out count's noise alone)
            "mean_true_log_factor": round(float(np.mean([c[0] for c in factors])), 4),
            "rms_true_log_factor": round(float(np.sqrt(np.mean([c[0] ** 2 for c in factors]))), 4),
            "mean_estimated_se": round(float(np.mean([c[1] for c in factors])), 4),
            "mean_heldout_noise": round(float(np.mean([c[2] for c in factors])), 4),
        },
        "monitoring": {
            "quarters": len(f),
            "mean_expected_per_quarter": round(float(f["expected"].mean()), 1),
            **{
                k: round(float(f[k].mean()), 4)
                for k in f.columns
                if k.startswith(("flagged", "found"))
            },
            # quarters of one fit share its model: the Monte-Carlo SE from the fits' means
            "mc_se": {
                k: round(float(f.groupby("fit")[k].mean().std(ddof=1) / np.sqrt(fits)), 4)
                for k in f.columns
                if k.startswith(("flagged", "found"))
            },
        },
    }


def _ward_flags(test: pd.DataFrame, p: np.ndarray, truth: np.ndarray) -> list:
    """For each ward of the test year: its expected count, and the exact chance that the
    funnel's 95% limits flag it when nothing changed (the run's dispersion-scaled
    limits, and plain Poisson ones)."""
    phi = count_dispersion(p)
    codes = test["ward_code"].to_numpy()
    out = []
    for ward in np.unique(codes):
        at = codes == ward
        e = float(p[at].sum())
        pmf = poisson_binomial_pmf(truth[at])
        ratio = np.arange(pmf.size) / e
        row = [e]
        for d in (phi, 1.0):
            lo, hi = funnel_limits(np.array([e]), 0.95, d)
            row.append(float(pmf[(ratio < lo[0]) | (ratio > hi[0])].sum()))
        out.append(row)
    return out


def _quarter_flags(
    test: pd.DataFrame, roles: Any, p: np.ndarray, truth: np.ndarray, se: float
) -> list:
    """For each quarter of the test year: the exact chance that monitoring flags it when
    nothing changed (the count drawn from the true probabilities) and when escalations
    truly fell by 10%, with the limits the run uses (widened for the calibration
    uncertainty ``se``, estimated as the run estimates it) and with the model taken as
    right."""
    quarters = test[roles.profile_date].dt.to_period("Q").astype(str).to_numpy()
    out = []
    for q in np.unique(quarters):
        at = quarters == q
        row: dict[str, float] = {"expected": float(p[at].sum())}
        for label, s in (("", se), ("_model_taken_as_right", 0.0)):
            lo, hi = count_limits(p[at], 0.95, s)
            for what, t in (
                ("flagged_unchanged", truth[at]),
                ("found_10pct_fall", 0.9 * truth[at]),
            ):
                row[what + label] = chance_outside(poisson_binomial_pmf(t), lo, hi)
        out.append(row)
    return out


def _inside_band(audit: Any) -> pd.Series:
    d = audit.differences.set_index(["characteristic", "group", "metric"])
    bands = [audit.tolerances.band(m) for m in d.index.get_level_values("metric")]
    inside = [b is not None and b[0] <= v <= b[1] for v, b in zip(d["value"], bands, strict=True)]
    return pd.Series(inside, index=d.index)


def _by_comparison(audit: Any, truth: pd.Series, inside: pd.Series) -> pd.DataFrame:
    """Each tested comparison of one audit: whether its interval covers the truth, whether
    its truth lies inside the band and it was called outside, and whether its group had
    fewer than 20 escalations."""
    d = audit.differences.query("tested").set_index(["characteristic", "group", "metric"])
    g = audit.by_group.query("metric == 'observed_rate'").set_index(["characteristic", "group"])
    events = (g["estimate"] * g["n_families"]).reindex(d.index.droplevel("metric")).to_numpy()
    t = truth.reindex(d.index).to_numpy()
    return pd.DataFrame(
        {
            "small": events < 20,
            "covered": (d["lower"].to_numpy() <= t) & (t <= d["upper"].to_numpy()),
            "known": np.isfinite(t),
            "inside": inside.reindex(d.index).fillna(False).to_numpy(dtype=bool),
            "outside": (d["finding"] == "outside tolerance").to_numpy(),
        }
    )


def _small_and_large(rows: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, part in (("small_groups", rows[rows.small]), ("large_groups", rows[~rows.small])):
        known = part[part.known]
        out[name] = {
            "comparisons": len(part),
            "coverage": round(float(known.covered.mean()), 3) if len(known) else None,
            "false_findings_per_truly_inside_comparison": round(
                float((part.outside & part.inside).sum() / part.inside.sum()), 4
            )
            if part.inside.any()
            else None,
        }
    return out


#: Discarding threshold of the conditionalised Holm procedure (Ellis, Pecanka and Goeman,
#: "Gaining power in multiple testing of interval hypotheses via conditionalization").
_DISCARD_ABOVE = 0.5


def _other_adjustments(audit: Any, inside: pd.Series) -> dict[str, tuple[bool, bool]]:
    """What the same audit would have found with other adjustments in place of weighted
    Holm's, from its own p-values and weights: weighted Benjamini-Hochberg (false
    discovery rate), and Holm after discarding the comparisons with p above 0.5 and
    doubling the others' (conditionalised: valid under independence; the audit's
    comparisons are not independent). Each: (any false finding, the planted group found).
    """
    d = audit.differences.query("tested").set_index(["characteristic", "group", "metric"])
    p, w = d["p_value"].to_numpy(), d["level"].to_numpy() / d["level"].mean()
    bh = false_discovery_control(np.minimum(p / w, 1.0))
    kept = p <= _DISCARD_ABOVE
    conditional = np.ones(len(p))
    if kept.any():
        conditional[kept] = holm(p[kept] / _DISCARD_ABOVE, w[kept])
    bands = [audit.tolerances.band(m) for m in d.index.get_level_values("metric")]
    beyond = np.array(
        [r.lower > b[1] or r.upper < b[0] for r, b in zip(d.itertuples(), bands, strict=True)]
    )
    truly_inside = inside.reindex(d.index).fillna(False).to_numpy(dtype=bool)
    planted = ("child_ethnicity", "Black", "calibration_ratio")
    out = {}
    for name, adjusted in (("benjamini_hochberg", bh), ("conditionalised_holm", conditional)):
        found = (adjusted < 1 - audit.confidence) & beyond
        hit = bool(found[d.index.get_loc(planted)]) if planted in d.index else False
        out[name] = (bool((found & truly_inside).any()), hit)
    return out


def audits(sizes: list[int], replicates: int, n_bootstrap: int) -> list[dict]:
    out: list[dict[str, Any]] = [{"test_families": n, "replicates": replicates} for n in sizes]
    for label, bias in (("no bias", None), ("planted bias", BIAS)):
        roles, fitted, rest = _world(300_000 + max(sizes) * replicates, bias)
        model = fitted["lightgbm"]
        full = audit_model(model, rest, roles, intersections=INTERSECTIONS, n_bootstrap=20)
        inside = _inside_band(full)
        truth = full.differences.set_index(["characteristic", "group", "metric"])["value"]
        for entry, n in zip(out, sizes, strict=True):
            false_any, detected, rows, others = [], [], [], []
            for r in range(replicates):
                t = rest.iloc[r * n : (r + 1) * n]
                a = audit_model(
                    model, t, roles, intersections=INTERSECTIONS, n_bootstrap=n_bootstrap
                )
                f = a.findings().set_index(["characteristic", "group", "metric"])
                outside = f[f["finding"] == "outside tolerance"]
                truly_inside = inside.reindex(outside.index).fillna(False).to_numpy(dtype=bool)
                false_any.append(bool(truly_inside.any()))
                rows.append(_by_comparison(a, truth, inside))
                detected.append(("child_ethnicity", "Black", "calibration_ratio") in outside.index)
                others.append(_other_adjustments(a, inside))
            entry[label] = {
                "audits_with_any_false_finding": round(float(np.mean(false_any)), 3),
                "planted_group_found": round(float(np.mean(detected)), 3),
                **_small_and_large(pd.concat(rows, ignore_index=True)),
                "instead_of_holm": {
                    name: {
                        "audits_with_any_false_finding": round(
                            float(np.mean([o[name][0] for o in others])), 3
                        ),
                        "planted_group_found": round(
                            float(np.mean([o[name][1] for o in others])), 3
                        ),
                    }
                    for name in others[0]
                },
            }
    return out


def pooled() -> dict[str, Any]:
    """Each interval's coverage pooled over every world measured with today's design (the
    default world's ``bench_coverage.json`` and each ``bench_coverage_intervals_seedN.json``
    whose test populations were drawn as :data:`DESIGN` says), with its
    Monte-Carlo SE, and the sum of squared standardised departures from 95%: about the
    number of intervals if every one is a true 95% interval (the replicates of one world
    share their test populations across metrics, so this is a guide, not a test)."""
    from _results import RESULTS_DIR

    files = [RESULTS_DIR / "bench_coverage.json"]
    files += sorted(RESULTS_DIR.glob("bench_coverage_intervals_seed*.json"))
    hits: dict[tuple[str, str], list[float]] = {}
    worlds = []
    for f in files:
        part = json.loads(f.read_text()).get("intervals")
        if not part or part.get("design") != DESIGN:
            continue
        worlds.append({"file": f.name, "replicates": part["replicates"]})
        for r in part["coverage"]:
            hits.setdefault((r["model"], r["metric"]), []).append(
                r["coverage"] * part["replicates"]
            )
    n = sum(w["replicates"] for w in worlds)
    rows = [
        {"model": m, "metric": k, "coverage": round(sum(h) / n, 4)}
        for (m, k), h in hits.items()
        if len(h) == len(worlds)
    ]
    cov = np.array([r["coverage"] for r in rows])
    se = float(np.sqrt(0.95 * 0.05 / n))
    return {
        "worlds": worlds,
        "test_populations": n,
        "mc_se_at_95": round(se, 4),
        "mean_coverage": round(float(cov.mean()), 4),
        "within_93_97": int(((cov >= 0.93) & (cov <= 0.97)).sum()),
        "intervals": len(rows),
        "sum_squared_z": round(float((((cov - 0.95) / se) ** 2).sum()), 1),
        "coverage": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--test-families", type=int, default=20_000)
    parser.add_argument(
        "--world-families", type=int, default=2_000_000, help="the world the samples come from"
    )
    parser.add_argument("--n-bootstrap", type=int, default=1000)
    parser.add_argument("--audit-replicates", type=int, default=100)
    parser.add_argument("--audit-sizes", type=int, nargs="*", default=[12_000, 60_000])
    parser.add_argument("--reach-fits", type=int, default=20)
    parser.add_argument("--reach-families", type=int, default=300_000)
    parser.add_argument("--only-audits", action="store_true", help="skip the intervals")
    parser.add_argument("--only-reach", action="store_true", help="only the expected reach")
    parser.add_argument(
        "--only-intervals", action="store_true", help="only the intervals (no reach, no audits)"
    )
    parser.add_argument(
        "--pool", action="store_true", help="only pool the worlds' interval results"
    )
    parser.add_argument(
        "--world-seed", type=int, default=12, help="seed of the synthetic world for the intervals"
    )
    args = parser.parse_args()
    if args.pool:
        result = pooled()
        print({k: v for k, v in result.items() if k != "coverage"})
        print("wrote", write_results("bench_coverage_intervals_pooled", result))
        return
    start = time.perf_counter()
    result: dict[str, Any] = {}
    if not (args.only_audits or args.only_intervals):
        result["reach"] = reach(args.reach_fits, args.reach_families)
        print(result["reach"])
    if args.only_reach:
        print("wrote", write_results("bench_coverage_reach", result))
        return
    if not args.only_audits:
        result["intervals"] = intervals(
            args.test_families,
            args.replicates,
            args.n_bootstrap,
            args.world_seed,
            args.world_families,
        )
        print(result["intervals"]["truth"], result["intervals"]["reach"])
        for row in result["intervals"]["coverage"]:
            print(
                f"{row['model']:>30} {row['metric']:<24} {row['coverage']:.3f} "
                f"+- {row['mc_se']:.3f}"
            )
    if args.only_intervals:
        result["world_seed"] = args.world_seed
        print("wrote", write_results(f"bench_coverage_intervals_seed{args.world_seed}", result))
        return
    result["audits"] = audits(args.audit_sizes, args.audit_replicates, min(args.n_bootstrap, 400))
    for a in result["audits"]:
        print(a)
    result["seconds"] = round(time.perf_counter() - start, 1)
    name = "bench_coverage_audits" if args.only_audits else "bench_coverage"
    print("wrote", write_results(name, result))


if __name__ == "__main__":
    main()

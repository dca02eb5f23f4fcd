"""Attacks on the published outputs of whole runs, as a reader of the files would try them.

Each attack reads only what a run wrote (CSV tables and summary.json) and tries to get
back a count of 1-9 families or an unrounded count:

- a count column holding 1-9, or a count that is not a multiple of the rounding unit;
- a suppressed cell whose interval, ratio or share is still published;
- share (or rate) x published size: the true denominator is within half a rounding unit
  of the published one, so an exact share admits only one (numerator, denominator) pair
  near it, which gives both counts back unrounded.

The suite runs on 20,000 families (small cells abound) and on 300,000 (the default run),
and again with each rule switched off in turn, where it must find the leak.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from escalation_model._publish import COUNT_COLUMNS, DisclosureRules, write_csv
from escalation_model.config import EvaluationConfig, ExplainConfig, RunConfig, SplitConfig
from escalation_model.datasets import fingerprint, make_synthetic_population
from escalation_model.schema import SchemaWarning
from escalation_model.study import StudyData, run_study

RULES = DisclosureRules()


def _run(n_families: int, folder: Path, *, tables_only: bool = False) -> Path:
    pop = make_synthetic_population(n_families=n_families, random_state=11)
    # seven families whose ethnicity is not recorded: a count the validation notes give
    pop.frame.loc[pop.frame.index[:7], "child_ethnicity"] = None
    config = RunConfig(
        split=SplitConfig(leave_one_authority_out=False),
        evaluation=EvaluationConfig(n_bootstrap=20 if tables_only else 50),
        # the tables alone hold no explanation: no interactions to compute for them
        explain=ExplainConfig(sample_size=500, interaction_sample=0 if tables_only else 200),
    )
    data = StudyData(pop.frame, pop.roles, "attack", fingerprint(pop.frame), oracle=pop.oracle)
    with warnings.catch_warnings():  # the validation note on the seven is expected
        warnings.simplefilter("ignore", SchemaWarning)
        result = run_study(config, data)
    if not tables_only:
        result.write(folder)
        return folder
    # the typed summary refuses an unrounded count by itself (multiples of the rounding
    # unit): write the tables alone to see whether the attack catches them
    folder.mkdir(parents=True, exist_ok=True)
    tables = {**result.population, **result.fairness_tables(), "profile_table.csv": result.profile}
    for name, table in tables.items():
        write_csv(table, folder / name)
    return folder


# ---------------------------------------------------------------------------- attacks
def small_or_unrounded_counts(folder: Path) -> list[str]:
    """Counts of 1-9, or counts that are not multiples of the rounding unit."""
    found = []
    for path in sorted(folder.glob("*.csv")):
        table = pd.read_csv(path)
        for col in COUNT_COLUMNS & set(table.columns):
            v = pd.to_numeric(table[col], errors="coerce").dropna().to_numpy()
            bad = v[((v > 0) & (v < RULES.min_cell)) | (v % RULES.round_to != 0)]
            if bad.size:
                found.append(f"{path.name}:{col} holds {sorted(set(bad.tolist()))[:3]}")
    return found


def suppressed_but_derived(folder: Path) -> list[str]:
    """A blank count whose interval, ratio or share is still published."""
    derived = {
        "families": ["expected", "expected_lower", "expected_upper"],
        "observed": ["observed_lower", "observed_upper", "ratio"],
    }
    found = []
    for path in sorted(folder.glob("*.csv")):
        table = pd.read_csv(path)
        for count, cols in derived.items():
            if count not in table.columns:
                continue
            blank = table[count].isna()
            for col in set(cols) & set(table.columns):
                if table.loc[blank, col].notna().any():
                    found.append(f"{path.name}:{col} published beside a suppressed {count}")
    return found


def _decimals(text: str) -> int:
    text = text.lower()
    if "e" in text:
        mantissa, exp = text.split("e")
        return max(0, len(mantissa.split(".")[1]) if "." in mantissa else 0) - int(exp)
    return len(text.split(".")[1]) if "." in text else 0


def recovered(share_text: str, published_size: float) -> tuple[int, int] | None:
    """The (numerator, denominator) a reader recovers from a share printed as
    ``share_text`` and a denominator published rounded, if only one pair fits and it is
    not what was published (an unrounded count, or a count of 1-9)."""
    if published_size != published_size or published_size <= 0:
        return None
    share = float(share_text)
    tol = 0.5 * 10.0 ** (-_decimals(share_text)) + 1e-12
    half = RULES.round_to // 2
    fits = []
    for d in range(max(1, int(published_size) - half), int(published_size) + half + 1):
        k = round(share * d)
        if abs(k / d - share) <= tol:
            fits.append((k, d))
    if len(fits) != 1:
        return None
    k, d = fits[0]
    unrounded = k % RULES.round_to != 0 or d % RULES.round_to != 0
    return (k, d) if unrounded or 0 < k < RULES.min_cell else None


def _pairs(folder: Path) -> list[tuple[str, str, float]]:
    """(where, share as printed, published denominator) for every share of families."""
    path = folder / "summary.json"
    summary = json.loads(path.read_text()) if path.exists() else {}
    overview = summary.get("overview", {"families": 0})
    pairs = [
        (f"summary:{key}", repr(overview[key]), overview["families"])
        for key in ("escalation_rate", "share_five_plus")
        if overview.get(key) is not None
    ]
    pairs += [
        (f"summary:missing_share:{col}", repr(share), overview["families"])
        for col, share in summary.get("data", {}).get("missing_share", {}).items()
    ]
    models = summary.get("models") or {}
    pairs += [
        (
            f"summary:{model}:recall_at_capacity",
            repr(t["recall_at_capacity"]["estimate"]),
            models["test_escalations"],
        )
        for model, t in models.get("metrics", {}).items()
        if t.get("recall_at_capacity", {}).get("estimate") is not None
    ]
    read = {
        name: pd.read_csv(folder / f"{name}.csv", dtype=str)
        for name in ("profile_table", "fairness_by_group", "strategies")
        if (folder / f"{name}.csv").exists()
    }
    profile = read.get("profile_table", pd.DataFrame(columns=["indicator", "share_all"]))
    pairs += [
        (f"profile_table:{r['indicator']}", r["share_all"], overview["families"])
        for _, r in profile.iterrows()
        if isinstance(r["share_all"], str)
    ]
    fair = read.get("fairness_by_group", pd.DataFrame(columns=["metric", "estimate", "n_families"]))
    fair = fair[fair.metric.isin(["selection_rate", "observed_rate"]) & fair.estimate.notna()]
    pairs += [
        (
            f"fairness_by_group:{r['characteristic']}={r['group']}:{r['metric']}",
            r["estimate"],
            float(r["n_families"]) if isinstance(r["n_families"], str) else math.nan,
        )
        for _, r in fair.iterrows()
    ]
    strategies = read.get("strategies", pd.DataFrame())
    if "offered_outside_most_deprived" in strategies.columns:
        pairs += [
            (
                f"strategies:{r['strategy']}:offered_outside",
                r["offered_outside_most_deprived"],
                float(r["families_offered"]),
            )
            for _, r in strategies.iterrows()
            if isinstance(r["offered_outside_most_deprived"], str)
        ]
    return pairs


def shares_that_undo_rounding(folder: Path) -> list[str]:
    found = []
    for where, share, size in _pairs(folder):
        got = recovered(share, size)
        if got is not None:
            found.append(f"{where}: {got[0]} of {got[1]} families")
    return found


def differencing_across_tables(folder: Path) -> list[str]:
    """An authority's count (one table) minus its wards' published counts (another):
    each published count stands for a true count within half a rounding unit (zero is
    exact), so the blank wards' total is pinned only if that range is one value."""
    wards_path, auth_path = (folder / f"population_by_{g}_code.csv" for g in ("ward", "authority"))
    if not (wards_path.exists() and auth_path.exists()):
        return []
    wards = pd.read_csv(wards_path)
    auth = pd.read_csv(auth_path).set_index("authority_code")
    found = []
    for col in ("families", "observed"):
        if col not in wards.columns:
            continue
        for code, total in auth[col].dropna().items():
            rows = wards[wards.ward_code.str.startswith(f"{code}-")][col]
            hidden = int(rows.isna().sum())
            if hidden == 0:
                continue
            shown = rows.dropna().to_numpy()
            # the reader infers the rounding from the figures themselves
            values = np.append(shown, total)
            half = RULES.round_to // 2 if (values % RULES.round_to == 0).all() else 0
            if half * (1 + int((shown > 0).sum())) == 0:
                found.append(f"{code}:{col}: blank wards total {total - shown.sum():.0f}")
    return found


def counts_in_notes(folder: Path) -> list[str]:
    """Numbers of rows quoted in the summary's validation notes."""
    path = folder / "summary.json"
    if not path.exists():
        return []
    found = []
    for note in json.loads(path.read_text())["data"]["warnings"]:
        for number in re.findall(r"([0-9][0-9,]*) row", note):
            n = int(number.replace(",", ""))
            if 0 < n < RULES.min_cell or n % RULES.round_to:
                found.append(note)
    return found


def _rounding_unit(values: np.ndarray) -> int:
    """The rounding a reader infers from the figures themselves."""
    return RULES.round_to if (values % RULES.round_to == 0).all() else 1


def differencing_within_tables(folder: Path) -> list[str]:
    """Every population_by_* table covers the same test families: a complete one gives
    the total, and a table with exactly one blank count gives it back by subtraction,
    unless rounding leaves a range (secondary suppression blanks a second cell)."""
    tables = {p.name: pd.read_csv(p) for p in sorted(folder.glob("population_by_*.csv"))}
    found = []
    for col in ("families", "observed"):
        having = {n: t for n, t in tables.items() if col in t.columns}
        totals = [t[col].sum() for t in having.values() if t[col].notna().all()]
        if not totals:
            continue
        total = max(totals)
        for name, t in having.items():
            shown = t[col].dropna().to_numpy()
            half = _rounding_unit(np.append(shown, total)) // 2
            if len(t) - len(shown) == 1 and half == 0:
                found.append(f"{name}:{col}: the blank row holds {total - shown.sum():.0f}")
    return found


def rate_times_rate(folder: Path) -> list[str]:
    """Observed escalations of a group rebuilt from its calibration ratio x its mean
    predicted probability x its size (three published figures): a count of 1-9."""
    path = folder / "fairness_by_group.csv"
    if not path.exists():
        return []
    t = pd.read_csv(path)
    wide = t.pivot_table(
        index=["characteristic", "group"], columns="metric", values="estimate"
    ).join(t.groupby(["characteristic", "group"])["n_families"].first())
    found = []
    for what, parts in {
        "escalations": ("calibration_ratio", "mean_predicted"),
        "escalations offered help": ("true_positive_rate", "observed_rate"),
    }.items():
        if not set(parts) <= set(wide.columns):
            continue
        rebuilt = wide[parts[0]] * wide[parts[1]] * wide["n_families"]
        small = rebuilt[(rebuilt.round() >= 1) & (rebuilt.round() < RULES.min_cell)]
        found += [f"{c}={g}: about {v:.0f} {what}" for (c, g), v in small.items()]
    return found


ATTACKS = (
    counts_in_notes,
    differencing_within_tables,
    rate_times_rate,
    small_or_unrounded_counts,
    suppressed_but_derived,
    shares_that_undo_rounding,
    differencing_across_tables,
)


def _leaks(folder: Path) -> dict[str, list[str]]:
    return {a.__name__: found for a in ATTACKS if (found := a(folder))}


# ---------------------------------------------------------------------------- the runs
@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    return _run(20_000, tmp_path_factory.mktemp("attack20k"))


def test_the_attack_recovers_what_an_exact_share_gives_away():
    assert recovered(repr(1142 / 1903), 1905.0) == (1142, 1903)
    assert recovered(repr(1140 / 1905), 1905.0) is None  # from the rounded counts
    assert recovered("0.636364", 10.0) == (7, 11)  # 7 of 11, printed to 6 digits


def test_no_attack_succeeds_on_20000_families(small_run):
    assert _leaks(small_run) == {}
    assert len(_pairs(small_run)) > 50  # the attack had plenty to try


def test_secondary_suppression_is_what_stops_differencing_when_counts_are_unrounded(
    monkeypatch, tmp_path
):
    _switch_off_rounding(monkeypatch)
    leaks = _leaks(_run(20_000, tmp_path / "out", tables_only=True))
    assert "small_or_unrounded_counts" in leaks  # the rounding is gone...
    assert "differencing_within_tables" not in leaks  # ...but no blank is left alone


def test_no_attack_succeeds_on_the_tables_of_score(tmp_path, monkeypatch):
    """`escalation-model score` on next quarter's file (no outcome) publishes too."""
    from escalation_model.cli import main
    from escalation_model.models import LightGBMRiskClassifier, save_model

    pop = make_synthetic_population(n_families=20_000, random_state=12)
    f = pop.frame
    model = LightGBMRiskClassifier(n_estimators=30).fit(f, f["escalated"])
    save_model(model, tmp_path / "model.skops")
    f.drop(columns=["escalated", "outcome_level"]).to_csv(tmp_path / "next.csv", index=False)
    monkeypatch.chdir(tmp_path)
    assert main(["score", "--model", "model.skops", "--data", "next.csv", "--output", "s"]) == 0
    assert {p.name for p in Path("s").glob("population_by_*.csv")}  # it published tables
    assert _leaks(Path("s")) == {}


@pytest.mark.slow
def test_no_attack_succeeds_on_300000_families(tmp_path):
    folder = _run(300_000, tmp_path)
    assert _leaks(folder) == {}
    # and the answers a commissioner needs keep their intervals
    strategies = pd.read_csv(folder / "strategies.csv")
    bounds = ["expected_lower", "expected_upper", "observed_lower", "observed_upper"]
    assert strategies[bounds].notna().all().all()
    forecast = pd.read_csv(folder / "demand_forecast_by_authority_code.csv")
    assert forecast[["expected", "expected_lower", "expected_upper"]].notna().all().all()
    assert (folder / "plots" / "funnel_ward_code.png").exists()


def _exact_share(num, den, rules=None):
    """A share as an exact ratio of the true counts (what publish_share replaces)."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / den, np.nan)
    return float(out) if out.ndim == 0 else out


def _switch_off_shares(monkeypatch):
    """Shares as exact ratios of the true counts (the rule before this suite)."""
    import escalation_model.fairness._publish as fairness_publish
    import escalation_model.population._profile as profile
    import escalation_model.study._stages as stages

    for module in (fairness_publish, profile, stages):
        monkeypatch.setattr(module, "publish_share", _exact_share)


def _switch_off_published_metrics(monkeypatch):
    from escalation_model.evaluation import ModelComparison

    monkeypatch.setattr(
        ModelComparison, "published", lambda self, rules=None: (self.table, self.differences)
    )


def _switch_off_rounding(monkeypatch):
    from escalation_model.study._stages import Context

    monkeypatch.setattr(Context, "rules", property(lambda self: DisclosureRules(round_to=1)))


def _switch_off_suppression(monkeypatch):
    from escalation_model.study._stages import Context

    monkeypatch.setattr(Context, "rules", property(lambda self: DisclosureRules(min_cell=1)))


def _switch_off_secondary(monkeypatch):
    import escalation_model.population._disclosure as disclosure

    _switch_off_rounding(monkeypatch)  # under rounding a difference is only a range
    monkeypatch.setattr(disclosure, "_secondary", lambda raw, suppressed, blocks: suppressed)


def _switch_off_fairness_threshold(monkeypatch):
    """Both places that hold it: the audit's publishable rows and the count ratios'
    suppression of small counts (either alone keeps the rates safe)."""
    import escalation_model.fairness._publish as fairness_publish

    monkeypatch.setattr(
        fairness_publish,
        "publishable_rows",
        lambda by_group, min_cell=10: np.ones(len(by_group), dtype=bool),
    )

    monkeypatch.setattr(fairness_publish, "publish_share", _exact_share)


def _switch_off_derived_blanking(monkeypatch):
    import escalation_model.population._aggregate as aggregate

    def keep_bounds(table, confidence, *, count="observed", ratio="ratio"):
        return None  # the intervals computed from the true counts stay

    monkeypatch.setattr(aggregate, "_observed_from_published", keep_bounds)


@pytest.mark.parametrize(
    ("switch_off", "attack", "tables_only"),
    [
        (_switch_off_shares, "shares_that_undo_rounding", True),
        (_switch_off_published_metrics, "shares_that_undo_rounding", False),
        (_switch_off_rounding, "small_or_unrounded_counts", True),
        (_switch_off_rounding, "differencing_across_tables", True),
        (_switch_off_suppression, "small_or_unrounded_counts", True),
        (_switch_off_derived_blanking, "suppressed_but_derived", True),
        (_switch_off_secondary, "differencing_within_tables", True),
        (_switch_off_fairness_threshold, "shares_that_undo_rounding", True),
    ],
    ids=[
        "shares",
        "model-metrics",
        "rounding",
        "rounding-differencing",
        "suppression",
        "derived-blanking",
        "secondary-suppression",
        "fairness-threshold",
    ],
)
def test_each_rule_switched_off_is_caught(switch_off, attack, tables_only, monkeypatch, tmp_path):
    switch_off(monkeypatch)
    leaks = _leaks(_run(20_000, tmp_path / "out", tables_only=tables_only))
    assert attack in leaks, leaks

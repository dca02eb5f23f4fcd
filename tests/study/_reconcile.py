"""Reconciliation checks over every published artifact of a run: each check reads the
files a reader would (CSVs, summary.json, the card's JSON and Markdown, MLflow's metrics)
and returns the discrepancies it finds, as sentences. A run is consistent when every
check returns nothing.

Each figure is looked for in at least two places, so that altering it in one place only
is caught (``test_reconciliation.py`` alters one figure at a time and expects a finding).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

#: Rounding unit of published counts; parts of a table may sum to its total within half
#: a unit per row.
ROUND_TO = 5


@dataclass
class Run:
    """The published artifacts of one run."""

    folder: Path
    mlflow_metrics: dict[str, float] | None = None
    summary: dict[str, Any] = field(init=False)
    card: dict[str, Any] = field(init=False)
    markdown: str = field(init=False)

    def __post_init__(self) -> None:
        self.summary = json.loads((self.folder / "summary.json").read_text("utf-8"))
        self.card = json.loads((self.folder / "model_card.json").read_text("utf-8"))
        self.markdown = (self.folder / "model_card.md").read_text("utf-8")

    def csv(self, name: str) -> pd.DataFrame | None:
        path = self.folder / name
        return pd.read_csv(path) if path.exists() else None

    @property
    def first_page(self) -> str:
        start = self.markdown.index("## For commissioners")
        return self.markdown[start : self.markdown.index("\n## ", start + 5)]

    def fact(self, name: str) -> dict[str, Any] | None:
        return self.card["facts"].get(name)


def _one_value(label: str, values: dict[str, Any]) -> list[str]:
    known = {k: v for k, v in values.items() if v is not None}
    if len({round(float(v), 6) for v in known.values()}) > 1:
        return [f"{label} has more than one value: {known}"]
    return []


def check_capacity_places(run: Run) -> list[str]:
    """The places at capacity: one number in the summary, the strategies table, the
    capacity curve and the card."""
    pop = run.summary.get("population") or {}
    values: dict[str, Any] = {"summary": pop.get("capacity_families")}
    curve = pop.get("capacity_curve") or {}
    values["capacity curve"] = curve.get("assumed_places")
    strategies = run.csv("strategies.csv")
    if strategies is not None:
        for r in strategies.itertuples():
            values[f"strategies.csv {r.strategy}"] = r.families_offered
    fact = run.fact("capacity_families")
    values["card"] = None if fact is None else fact["value"]
    return _one_value("places at capacity", values)


def check_latest_year_families(run: Run) -> list[str]:
    """The families of the latest year: one total in every forecast and the card, and
    each forecast table's rows summing to it."""
    pop = run.summary.get("population") or {}
    forecasts = {**pop.get("demand_forecast", {}), **pop.get("demand_by_group", {})}
    values = {f"forecast by {k}": f.get("total_families") for k, f in forecasts.items()}
    fact = run.fact("forecast_families")
    values["card"] = None if fact is None else fact["value"]
    found = _one_value("families profiled in the latest year", values)
    for by, f in forecasts.items():
        table = run.csv(f"demand_forecast_by_{by}.csv")
        total = f.get("total_families")
        if table is None or total is None or table["families"].isna().any():
            continue
        if abs(table["families"].sum() - total) > ROUND_TO / 2 * len(table) + 1e-9:
            found.append(
                f"demand_forecast_by_{by}.csv families sum to {table['families'].sum()}, "
                f"not the total {total}"
            )
    return found


def check_page_one_figures(run: Run) -> list[str]:
    """Every figure page one records is printed on page one, and the same figure in the
    tables: reaches as the metrics table's shares to one decimal, the gain made of them,
    ROC AUC to two decimals, the forecast as its table's total."""
    found = []
    page = run.first_page
    for name, f in run.card["facts"].items():
        if f["value"] is not None and f["text"] not in page:
            found.append(f"page one does not print fact {name} as {f['text']!r}")
    table = run.csv("model_comparison.csv")
    if table is None:
        return found
    recall = table[table.metric == "recall_at_capacity"].set_index("model")["estimate"]
    primary = run.summary["config"]["models"]["primary"]
    for who, model in (("model", primary), ("five_plus_rule", "five_plus_rule")):
        fact = run.fact(f"reach_{who}")
        if (
            fact is not None
            and model in recall.index
            and fact["text"] != f"{100 * recall[model]:.1f}"
        ):
            found.append(f"page one's reach of {who} {fact['text']} is not the table's")
    gain, model, rule = (
        run.fact(k) for k in ("reach_gain_vs_rule", "reach_model", "reach_five_plus_rule")
    )
    if gain is not None and model is not None and rule is not None:
        made = float(model["text"]) - float(rule["text"])
        if gain["text"] != f"{made:+.1f}":
            found.append(f"page one's gain {gain['text']} is not {model['text']} - {rule['text']}")
    auc = table[(table.metric == "roc_auc") & (table.model == primary)]["estimate"]
    fact = run.fact("auc_primary")
    if fact is not None and len(auc) and fact["text"] != f"{auc.iloc[0]:.2f}":
        found.append(f"page one's ROC AUC {fact['text']} is not the table's {auc.iloc[0]}")
    return found


def check_renderings_agree(run: Run) -> list[str]:
    """The card's Markdown and HTML print page one's paragraphs as its JSON holds them."""
    import html

    md = run.markdown.replace("\\", "")
    page = html.unescape(
        re.sub(r"<[^>]+>", "", (run.folder / "model_card.html").read_text("utf-8"))
    )
    found = []
    briefing = run.card["briefing"]
    sentences = [t for panel in briefing["panels"] for t in panel["sentences"]]
    for paragraph in [*run.card["first_page"], *sentences, briefing["footnote"]]:
        plain = paragraph.replace("\\", "")
        if plain not in md:
            found.append(f"model_card.md does not print page one's paragraph {plain[:60]!r}...")
        words = re.sub(r"\*\*", "", plain)
        if words[:80] not in " ".join(page.split()):
            found.append(f"model_card.html does not print {words[:60]!r}...")
    return found


#: The criteria counted: every metric with a tolerance but the false negative rate.
_COUNTED_OUT = {"false_negative_rate"}


def check_finding_counts(run: Run) -> list[str]:
    """Each count of findings equals the rows of fairness_findings.csv it counts; page one
    names as many criteria as it counts; MLflow's counts are the same."""
    fairness = run.summary.get("fairness")
    findings = run.csv("fairness_findings.csv")
    if fairness is None or findings is None:
        return []
    found = []
    counted = findings[findings.tolerance.notna() & ~findings.metric.isin(_COUNTED_OUT)]
    by = counted.groupby(["metric", "finding"]).size()
    for row in fairness["finding_counts"]:
        for kind in ("outside tolerance", "within tolerance", "too uncertain to say"):
            want = int(by.get((row["metric"], kind), 0))
            if int(row.get(kind) or 0) != want:
                found.append(f"{row['metric']}: {row.get(kind)} '{kind}' counted, {want} rows")
    outside = int((counted.finding == "outside tolerance").sum())
    if len(fairness["outside_tolerance"]) != outside:
        found.append(f"{len(fairness['outside_tolerance'])} listed outside, {outside} rows")
    n = len(fairness["finding_counts"])
    if n and f"on {n} criteria" not in run.first_page:
        found.append(f"page one does not say it compared groups on {n} criteria")
    m = run.mlflow_metrics
    if m is not None and m.get("fairness.findings.outside_tolerance", 0) != outside:
        found.append(f"MLflow counts {m.get('fairness.findings.outside_tolerance')} outside")
    return found


#: Settings recorded as not run when the summary's notes say their analysis was skipped.
_SKIPPED_SETTINGS = {
    "leave-one-authority-out check skipped": "split.leave_one_authority_out",
    "fairness audit skipped": "fairness.prioritised",
    "mitigation comparison (ThresholdOptimizer) skipped": "fairness.mitigation_characteristic",
}


def check_settings_of_skipped_analyses(run: Run) -> list[str]:
    """No setting is recorded for an analysis that did not run as if it had."""
    settings = run.summary.get("settings_in_run", {})
    return [
        f"{key} recorded without saying it did not run ({note})"
        for note in run.summary["notes"]
        for prefix, key in _SKIPPED_SETTINGS.items()
        if note.startswith(prefix) and not settings.get(key, "").startswith(("not run", "used"))
    ]


def check_glossary_terms_used(run: Run) -> list[str]:
    """Every term the glossary explains is used elsewhere in the card."""
    start = run.markdown.index("## Glossary")
    rest = (run.markdown[:start]).casefold()
    terms = re.findall(r"^\*\*(.+?)\*\*:", run.markdown[start:], flags=re.M)
    return [
        f"the glossary explains '{t}', which the card never uses"
        for t in terms
        if t.casefold() not in rest
    ]


def check_words_follow_what_ran(run: Run) -> list[str]:
    """'audited', 'explained' and the findings file are mentioned only where they ran or
    were written; the ranking claim follows the ROC AUC."""
    found = []
    text = run.markdown
    if run.summary.get("fairness") is None and re.search(
        r"\baudited\b", text.replace("not audited", "")
    ):
        found.append("the card says 'audited' with no fairness audit")
    if run.summary.get("explanations") is None and "explained" in text:
        found.append("the card says 'explained' with no explanations")
    if "table of fairness findings" in text and not (run.folder / "fairness_findings.csv").exists():
        found.append("the card points to fairness_findings.csv, which was not written")
    claim = run.fact("ranking_claim")
    table = run.csv("model_comparison.csv")
    if claim is not None and table is not None:
        primary = run.summary["config"]["models"]["primary"]
        auc = table[(table.metric == "roc_auc") & (table.model == primary)].iloc[0]
        chance = auc.lower <= 0.5 or auc.estimate < 0.6
        if chance != (claim["text"] == "chance"):
            found.append(f"ranking claim {claim['text']!r} does not follow ROC AUC {auc.estimate}")
        if chance and "the point to plan for" in run.first_page:
            found.append("a chance-level model's card recommends a capacity")
    if "nan%" in text or " nan " in text:
        found.append("the card prints nan")
    return found


#: Every check, in order.
CHECKS: tuple[Callable[[Run], list[str]], ...] = (
    check_capacity_places,
    check_latest_year_families,
    check_page_one_figures,
    check_renderings_agree,
    check_finding_counts,
    check_settings_of_skipped_analyses,
    check_glossary_terms_used,
    check_words_follow_what_ran,
)


def reconcile(run: Run) -> list[str]:
    """Every discrepancy every check finds."""
    return [f"{check.__name__}: {d}" for check in CHECKS for d in check(run)]

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

from escalation_model.config import load_config
from escalation_model.reporting import PERSON_FIELDS, SECTION_ORDER, ModelCard
from escalation_model.study import run_study

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "escalation_model" / "reporting" / "card.schema.json").read_text()
)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    cfg = folder / "run.toml"
    cfg.write_text(
        "[data]\nn_families = 30000\nseed = 4\n[evaluation]\nn_bootstrap = 100\n"
        "[split]\nleave_one_authority_out = false\n[explain]\nsample_size = 3000\n"
        "interaction_sample = 300\n"
    )
    result = run_study(load_config(cfg))
    out = folder / "out"
    out.mkdir()
    result.write(out)
    return result, out


def test_card_json_validates_against_the_schema(study):
    _, out = study
    card = json.loads((out / "model_card.json").read_text())
    jsonschema.validate(card, SCHEMA)
    assert card["synthetic_data"] is True
    assert [s["key"] for s in card["sections"]] == [k for k, _ in SECTION_ORDER]
    assert set(card["open_gaps"]) == set(PERSON_FIELDS)


def test_summary_follows_its_schema(study):
    from tests.study.test_study import assert_valid_summary

    _, out = study
    summary = json.loads((out / "summary.json").read_text())
    assert_valid_summary(summary)
    assert summary["models"]["oracle_included"] is True
    # a summary that breaks the schema is caught: an unrounded count
    summary["models"]["test_families"] = 12_347
    with pytest.raises(jsonschema.ValidationError, match="multiple of 5"):
        assert_valid_summary(summary)


def test_every_number_on_the_first_page_comes_from_the_results(study):
    result, _ = study
    s = result.summary()
    card = ModelCard.from_study(result)
    facts = {k: v["value"] for k, v in card.facts.items()}
    f = s["population"]["demand_forecast"]["authority_code"]
    assert facts["forecast_total"] == f["total_expected"]
    assert (facts["forecast_lower"], facts["forecast_upper"]) == (
        f["total_lower"],
        f["total_upper"],
    )
    m = s["models"]["metrics"]
    assert facts["auc_primary"] == m["lightgbm"]["roc_auc"]["estimate"]
    assert facts["auc_oracle"] == m["oracle"]["roc_auc"]["estimate"]
    # reaches are the metrics table's shares to one decimal; the gain is made of them
    reach = {k: round(100 * m[k]["recall_at_capacity"]["estimate"], 1) for k in m}
    assert facts["reach_model"] == reach["lightgbm"]
    assert facts["reach_five_plus_rule"] == reach["five_plus_rule"]
    assert facts["reach_gain_vs_rule"] == round(reach["lightgbm"] - reach["five_plus_rule"], 1)
    assert (
        facts["need_outside_deprived"]
        == (s["population"]["share_of_observed_escalations_outside_most_deprived"])
    )
    # every figure the headlines and the panels print is a fact
    printed = {v["text"].lstrip("+-") for v in card.facts.values()}
    printed |= {f"{int(card.facts['capacity_recommended']['value']):,}"}  # repeated
    paragraphs = [f"{h.value} {h.detail}" for h in card.headlines]
    paragraphs += [t for p in card.panels[:4] for t in p.sentences]  # the four questions
    for paragraph in paragraphs:
        body = re.sub(r"\d{4}-\d{2}-\d{2}", "", paragraph)  # dates of the profiles
        body = re.sub(r"\bLA\d\d(-W\d+)?", "", body)  # area codes
        body = re.sub(r"\b(12 months|95%|5\+|1,000|every 100|1 = most)", "", body)
        body = re.sub(r"per [\d,]+ places", "", body)  # the block of places
        numbers = re.findall(r"\d[\d,]*\.?\d*%?", body)
        for num in numbers:
            num = num.rstrip(".,")
            assert num in printed or num.rstrip("%") in {"0"}, (num, paragraph)
    # and the metrics table prints the summary's figures
    table = next(t for t in card.sections["metrics"].tables)
    gbm = next(r for r in table["rows"] if r["model"].startswith("LightGBM"))
    assert gbm["ROC AUC"].startswith(f"{m['lightgbm']['roc_auc']['estimate']:.3f}")


def test_a_run_without_analyses_gets_a_card_that_says_so(study):
    result, _ = study
    summary = result.summary()
    for key in ("models", "fairness", "population", "explanations"):
        summary[key] = {}
    card = ModelCard.from_summary(summary)
    text = card.to_markdown()
    assert text.count("This run did not include") >= 5
    jsonschema.validate(json.loads(card.to_json()), SCHEMA)


def test_a_run_without_early_help_says_its_averted_figures_are_assumed(study):
    result, _ = study
    text = " ".join(ModelCard.from_study(result).sections["impact"].text)
    assert text == (
        "Not estimated in this run: the roles name no early_help column ([roles] "
        "early_help). Every escalation 'averted' in this card rests on an assumed effect of "
        "early help (10%, 20%, 30%), not on evidence from this data."
    )


def test_person_fields_are_marked_gaps_until_filled(study, tmp_path):
    result, _ = study
    card = ModelCard.from_study(result)
    md = card.to_markdown()
    assert md.count("GAP, to be completed by the owner") == len(PERSON_FIELDS)
    fields = tmp_path / "card.toml"
    fields.write_text(
        '[card]\nowner = "Children\'s Services, Example Council"\ncontact = "data@example.org"\n'
        'senior_responsible_owner = "Director of Children\'s Services"\n'
        'decision_process = "Reviewed quarterly by the commissioning board"\n'
        'impact_assessment = "DPIA and EqIA approved 2026-10-01"\n'
    )
    card.fill_from_toml(fields)
    assert card.open_gaps == []
    assert "Example Council" in card.to_markdown()
    with pytest.raises(ValueError, match="fillable"):
        card.fill(favourite_colour="blue")


def test_html_is_self_contained_and_says_synthetic(study):
    _, out = study
    html = (out / "model_card.html").read_text()
    assert "http://" not in html and "https://" not in html.replace("https://json-schema.org", "")
    assert html.count("data:image/png;base64,") >= 8
    for key, _title in SECTION_ORDER:
        assert f'id="{key}"' in html
    # the banner once at the top (and, in HTML, in the header of every printed page)
    assert html.count("SYNTHETIC DATA: these figures describe") == 1
    assert re.search(r"@top-center \{ content: \"SYNTHETIC DATA", html)
    md = (out / "model_card.md").read_text()
    assert md.count("SYNTHETIC DATA") == 1 and md.startswith("> **SYNTHETIC DATA")


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _browser_flags(tmp_path: Path) -> list[str]:
    browser = _chromium()
    if browser is None:
        pytest.skip(
            "no Chromium on this machine: install the distribution's 'chromium' "
            "package (.ci/run does) to run the rendering test"
        )
    return [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]


def _dom(flags: list[str], url: str, *extra: str) -> str:
    """The page as Chromium leaves it once its load script has run."""
    command = [*flags, *extra, "--virtual-time-budget=5000", "--dump-dom", url]
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=120).stdout


def test_html_renders_in_headless_chromium(study, tmp_path):
    flags = _browser_flags(tmp_path)
    _, out = study
    url = (out / "model_card.html").as_uri()
    shot = tmp_path / "card.png"
    subprocess.run(
        [*flags, "--window-size=1200,3000", f"--screenshot={shot}", url],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert shot.stat().st_size > 50_000
    dom = _dom(flags, url)
    match = re.search(r'data-images="(\d+):(\w+)"', dom)
    assert match, "the page's load script did not run"
    assert int(match.group(1)) >= 8 and match.group(2) == "loaded"
    for key, title in SECTION_ORDER:
        assert f'id="{key}"' in dom
        assert title.split(" (")[0] in dom


#: A4's printable width at the card's margins (210 mm - 2 x 12 mm) in CSS pixels.
_A4_WIDTH_PX = 703


def test_card_prints_to_a4_with_the_five_answers_on_page_one_and_nothing_cut(study, tmp_path):
    """Chromium's print-to-PDF: the page count is bounded, page one holds the five
    answers, and at the printable width no element is wider than the page."""
    from pypdf import PdfReader

    from escalation_model.reporting._first_page import QUESTIONS

    flags = _browser_flags(tmp_path)
    _, out = study
    url = (out / "model_card.html").as_uri()
    pdf = tmp_path / "card.pdf"
    run = dict(check=True, capture_output=True, timeout=120)
    subprocess.run([*flags, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", url], **run)
    pages = PdfReader(pdf).pages
    assert 8 <= len(pages) <= 22, len(pages)
    first = " ".join(pages[0].extract_text().split())
    for heading in QUESTIONS:
        assert heading in first, heading
    card = ModelCard.from_study(study[0])
    for h in card.headlines:
        assert h.value in first, h
    assert "the point to plan for" in first  # the capacity trade-off
    assert "Glossary at the end" in first  # the footnote: page one ends on page one
    second = " ".join(pages[1].extract_text().split())
    assert "Glossary at the end" not in second and second.find("Model details") < 200
    assert all("SYNTHETIC DATA" in p.extract_text() for p in pages)  # the print header
    shot = tmp_path / "page_one.png"
    subprocess.run([*flags, "--window-size=794,1123", f"--screenshot={shot}", url], **run)
    assert shot.stat().st_size > 30_000
    dom = _dom(flags, url, f"--window-size={_A4_WIDTH_PX},1000")
    match = re.search(r'data-overflow="(\d+):([^"]*)"', dom)
    assert match, "the page's load script did not run"
    assert match.group(1) == "0", f"elements wider than the page: {match.group(2)}"
    lines = re.search(r'data-first-page-lines="(\d+)"', dom)
    assert lines and 1 <= int(lines.group(1)) <= 3, "a paragraph of page one over 3 lines"
    cut = re.search(r'data-cut-cells="(\d+):([^"]*)"', dom)
    assert cut and cut.group(1) == "0", f"table cells cut at A4 width: {cut.group(2)}"


def test_no_table_cell_is_cut_on_a_phone(study, tmp_path):
    """At a phone's width a wide table scrolls in its own box; no cell's word or number
    is broken or spills, and nothing but a table's box is wider than the screen."""
    flags = _browser_flags(tmp_path)
    _, out = study
    dom = _dom(flags, (out / "model_card.html").as_uri(), "--window-size=390,2000")
    cut = re.search(r'data-cut-cells="(\d+):([^"]*)"', dom)
    assert cut and cut.group(1) == "0", f"table cells cut on a phone: {cut.group(2)}"
    wide = re.search(r'data-overflow="(\d+):([^"]*)"', dom)
    assert wide and wide.group(1) == "0", f"wider than a phone: {wide.group(2)}"


def test_card_states_what_the_model_learned_from(study):
    result, _ = study
    cal = result.summary()["models"]["calibration"]["lightgbm"]
    assert cal["model_rows"] % 5 == 0 and cal["holdout_rows"] % 5 == 0  # published counts
    text = " ".join(ModelCard.from_study(result).sections["technical_specification"].text)
    assert f"The latest {cal['holdout_rows']:,.0f} training families were held out" in text
    assert f"learned from {cal['model_rows']:,.0f} families." in text  # no refit by default
    assert ("calibration was kept, lowering" in text) == cal["calibrated"]
    assert ("no calibration was kept" in text) == (not cal["calibrated"])
    # a model refitted on every training family after the check says so
    s = result.summary()
    s["models"]["calibration"]["lightgbm"].update(
        calibrated=False, model_rows=s["models"]["split"]["n_train"]
    )
    text = " ".join(ModelCard.from_summary(s).sections["technical_specification"].text)
    assert "all the training families, refitted after the check" in text


def test_figures_the_run_could_not_estimate_are_said_so(study):
    result, _ = study
    s = result.summary()
    auc = s["models"]["metrics"]["lightgbm"]["roc_auc"]
    auc["lower"] = auc["upper"] = None  # e.g. a test period too small to resample
    d = s["models"]["differences_to_reference"]["lightgbm"]["recall_at_capacity"]
    d["lower"] = None
    text = ModelCard.from_summary(s).to_markdown()
    assert "ROC AUC 0.8" in text and "95% interval not estimable" in text
    assert "this data cannot tell from none" in text


#: Published (estimate, lower, upper) triples, by the names the tables give them.
_TRIPLES = [
    ("estimate", "lower", "upper"),
    ("value", "lower", "upper"),
    ("mean_abs", "lower", "upper"),
    ("expected", "expected_lower", "expected_upper"),
    ("expected_entries", "lower", "upper"),
    ("observed", "observed_lower", "observed_upper"),
    ("ratio", "ratio_lower", "ratio_upper"),
    ("mean_interaction_when_both", "when_both_lower", "when_both_upper"),
]


def _intervals(table: pd.DataFrame):
    for est, lo, hi in _TRIPLES:
        if {est, lo, hi} <= set(table.columns):
            yield est, table[[est, lo, hi]].apply(pd.to_numeric, errors="coerce")


def test_no_published_interval_excludes_its_own_estimate(study):
    """Every CSV the run publishes, and every interval in summary.json: where all three
    figures are published, lower <= estimate <= upper."""
    _, out = study
    checked = 0
    for path in sorted(out.glob("*.csv")):
        for est, t in _intervals(pd.read_csv(path)):
            t = t.dropna()
            bad = t[(t.iloc[:, 1] > t.iloc[:, 0] + 1e-9) | (t.iloc[:, 0] > t.iloc[:, 2] + 1e-9)]
            assert bad.empty, (path.name, est, bad.head())
            checked += len(t)

    def walk(node):
        nonlocal checked
        if isinstance(node, dict):
            if {"estimate", "lower", "upper"} <= node.keys() and None not in (
                node["estimate"],
                node["lower"],
                node["upper"],
            ):
                assert node["lower"] <= node["estimate"] + 1e-9 <= node["upper"] + 2e-9, node
                checked += 1
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(json.loads((out / "summary.json").read_text()))
    assert checked > 500


def test_the_equality_page_gives_every_finding_its_size_and_no_bare_code(study):
    """Every comparison outside tolerance, on every criterion audited, is on the
    equality page with its size and interval in words; each characteristic names its
    reference group; intersections and 'too uncertain' are explained; page one counts
    the findings on every criterion and states the largest."""
    from escalation_model.reporting._equality import finding_in_words

    result, _ = study
    fairness = result.summary()["fairness"]
    counts = fairness["finding_counts"]
    assert counts[0]["metric"] == fairness["prioritised"]
    assert {"selection_rate", "true_positive_rate"} <= {r["metric"] for r in counts}
    assert "false_negative_rate" not in {r["metric"] for r in counts}  # the TPR's own test
    card = ModelCard.from_study(result)
    page = card.sections["equality"]
    text = " ".join(page.text)
    outside = fairness["outside_tolerance"]
    assert outside, "the fixture's audit finds differences outside tolerance"
    labels = result.summary()["data"]["variables"]
    from escalation_model.reporting._format import SEGMENT_LABELS

    labels = {**SEGMENT_LABELS, **{v["column"]: v["label"] for v in labels}}
    for r in outside:
        words = finding_in_words(r, labels)
        assert words in text and "95% interval" in words, r
    assert f"**Outside tolerance** ({len(outside)})" in text
    (table,) = page.tables
    assert [row["characteristic"] for row in table["rows"]][0] == "Child's ethnicity"
    assert {row["reference group"] for row in table["rows"]} >= {"White", "no"}
    assert sum(int(row["outside"]) for row in table["rows"]) == len(outside)
    assert "None audited in this run" in text  # the fixture asks for no intersection
    assert "reaches both inside and beyond the tolerance" in text  # 'too uncertain to say'
    clear = [r for r in fairness["too_uncertain"] if r["lower"] > 1 or r["upper"] < 1]
    assert ("For example, " in text) == any(r["kind"] == "ratio" for r in clear) or not clear
    md = card.to_markdown()  # a 0/1 characteristic reads yes/no everywhere
    for binary in ("Child has a disability", "Lone-parent household"):
        assert not re.search(re.escape(binary) + r"(,| =) [01]\b", md), binary
    assert not re.search(r"(relative to|against) 0(?![.\d])", md)
    assert "_" not in text.replace("[fairness] intersections", "")
    fair = card.panel("Fair to every group?").sentences
    total = sum(int(r["outside tolerance"]) for r in counts)
    assert f"on {len(counts)} criteria" in fair[0] and f": {total} outside tolerance" in fair[0]
    assert fair[1].startswith("Largest: ") and "times the rate" in fair[1] + fair[1]


def test_scenarios_are_in_the_card_with_their_assumptions(study):
    result, _ = study
    s = result.summary()
    scenarios = s["population"]["scenarios"]
    assert {r["assumption"] for r in scenarios} == {"low", "central", "high"}
    card = ModelCard.from_study(result)
    (table,) = [
        t
        for t in card.sections["quantitative_analyses"].tables
        if t["caption"].startswith("Scenarios at capacity")
    ]
    assert len(table["rows"]) == len(scenarios)
    effect = "effect of early help (assumed or estimated)"
    central = next(r for r in table["rows"] if r[effect].startswith("central"))
    assert "20% fewer escalations" in central[effect]
    assert not any("cost averted" in k for r in table["rows"] for k in r)  # no costs given
    # with the analyst's unit cost, the cost averted is printed beside the assumed cost
    for r in s["population"]["scenarios"]:
        r.update(cost_per_escalation_assumed=12000.0, escalation_cost_averted=12000.0)
    card = ModelCard.from_summary(s)
    (table,) = [
        t
        for t in card.sections["quantitative_analyses"].tables
        if t["caption"].startswith("Scenarios at capacity")
    ]
    assert table["rows"][0]["cost averted (assumed cost per escalation)"] == "12,000 (12,000 each)"


#: Technical words a commissioner may not know; any that page one uses must be explained.
_JARGON = [
    "ROC AUC",
    "95% interval",
    "percentage points",
    "log-odds",
    "SHAP",
    "attribution",
    "observed over expected",
    "tolerance",
    "Think Family indicators",
    "5+ indicators rule",
    "too uncertain to say",
    "oracle",
    "95% range",
    "expected escalations",
    "funnel plot",
    "point of diminishing returns",
]


def test_every_technical_term_on_page_one_is_in_the_glossary(study):
    from escalation_model.reporting._glossary import GLOSSARY

    result, _ = study
    card = ModelCard.from_study(result)
    page_one = card.page_one().replace("[population] current_rule", "")
    assert "_" not in page_one  # no raw column or parameter names
    used = [term for term in _JARGON if term.lower() in page_one.lower()]
    assert len(used) >= 8  # the page does use them
    glossary = " ".join(card.sections["glossary"].text)
    for term in used:
        assert term.lower() in {t.lower() for t in GLOSSARY}, term
        assert f"**{term}**" in glossary or f"**{term.lower()}**" in glossary.lower()


def test_every_table_in_the_card_has_readable_headers_and_rounded_figures(study):
    """No raw column name as a header (a commissioner reads these), and no figure with
    more than four significant digits after the point."""
    result, _ = study
    card = ModelCard.from_study(result)
    checked = 0
    for section in card.sections.values():
        for table in section.tables:
            for row in table["rows"]:
                assert not [k for k in row if "_" in k], (table["caption"], list(row))
                for v in row.values():
                    if isinstance(v, float):
                        assert v == round(v, 4), (table["caption"], v)
                checked += 1
    assert checked > 50


def test_without_areas_page_one_still_answers_how_much_and_says_why_not_where(study):
    """Data with no area columns: the forecast by family group gives the total and the
    capacity; 'where' says it was not answered and what it needs."""
    result, _ = study
    s = result.summary()
    s["population"]["demand_forecast"] = {}
    s["population"]["highest_rates"] = {}
    card = ModelCard.from_summary(s)
    total = s["population"]["demand_by_group"]["family_type"]["total_expected"]
    assert card.headlines[1].value == f"{total:,.0f}"
    how_much = " ".join(card.panel("How much early help?").sentences)
    assert "the point to plan for" in how_much
    where = " ".join(card.panel("Where?").sentences)
    assert "Not answered" in where and "area" in where
    assert card.panel("Where?").figure is None

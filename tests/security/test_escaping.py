"""Data-derived strings in published outputs: escaped in HTML and Markdown, neutralised in
CSV (spreadsheet formulas)."""

from __future__ import annotations

import csv
import re

import pytest

from escalation_model._publish import FORMULA_PREFIXES
from escalation_model.config import EvaluationConfig, ExplainConfig, RunConfig, SplitConfig
from escalation_model.datasets import fingerprint, make_synthetic_population
from escalation_model.study import StudyData, run_study

SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture(scope="module")
def hostile_outputs(tmp_path_factory):
    pop = make_synthetic_population(20_000, random_state=11)
    frame = pop.frame.copy()
    la = frame["authority_code"].astype(str)
    frame["authority_code"] = la.replace({"LA01": SCRIPT, "LA02": FORMULA, "LA03": "@SUM(1+1)"})
    ward = frame["ward_code"].astype(str)
    first = ward.iloc[0]
    frame["ward_code"] = ward.replace({first: "+cmd|' /C calc'!A0"})
    data = StudyData(frame, pop.roles, "hostile extract", fingerprint(frame), oracle=pop.oracle)
    config = RunConfig(
        split=SplitConfig(transfer_n_bootstrap=50),
        evaluation=EvaluationConfig(n_bootstrap=50),
        explain=ExplainConfig(sample_size=1000, interaction_sample=200),
    )
    result = run_study(config, data)
    out = tmp_path_factory.mktemp("hostile")
    fields = out.parent / "card.toml"
    fields.write_text(
        f"[card]\nowner = '{SCRIPT}'\ncontact = '{FORMULA}'\n"
        "senior_responsible_owner = '[click](javascript:alert(1))'\n"
    )
    result.write(out, card_fields=fields)
    return out


def test_html_card_escapes_every_data_derived_string(hostile_outputs):
    html = (hostile_outputs / "model_card.html").read_text()
    assert SCRIPT not in html and "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, as text
    assert html.count("<script>") == 1  # the card's own image check, nothing else


def test_markdown_card_escapes_every_data_derived_string(hostile_outputs):
    md = (hostile_outputs / "model_card.md").read_text()
    assert "<script" not in md
    assert "&lt;script&gt;" in md
    assert re.search(r"(?<!\\)\]\(javascript:", md) is None  # no link a reader could click
    assert "\\[click\\](javascript:" in md  # the text, with its brackets escaped


def test_published_csvs_hold_no_formula(hostile_outputs):
    tables = sorted(hostile_outputs.rglob("*.csv"))
    assert len(tables) > 10
    seen_neutralised = 0
    for path in tables:
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    if cell.startswith(FORMULA_PREFIXES):
                        float(cell)  # only numbers (-0.5) may start so
                    seen_neutralised += cell.startswith("'=") or cell.startswith("'@")
    assert seen_neutralised > 0  # the hostile codes were published, as text

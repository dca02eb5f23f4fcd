"""summary.json's schema is generated from the typed summary, and committed."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from escalation_model.reporting._summary import SCHEMA_PATH, StudySummary, summary_json_schema


def test_committed_schema_is_the_generated_one():
    committed = json.loads(SCHEMA_PATH.read_text("utf-8"))
    assert committed == summary_json_schema(), (
        "summary.schema.json is out of date with StudySummary. Fix: run "
        "`python -m escalation_model.reporting._summary` and commit the file."
    )


def _minimal(**changes):
    summary = {
        "escalation_model_version": "0",
        "code_version": "0",
        "python": "3.11",
        "data": {
            "source": "x.csv",
            "synthetic": False,
            "fingerprint_sha256": "0" * 64,
            "n_families": 1000.0,
        },
        "config": {"models": {"primary": "logistic"}},
        "overview": {"families": 1000.0},
        "disclosure_control": "rounded",
        "notes": [],
    }
    summary.update(changes)
    return summary


def test_a_section_not_run_is_null_and_an_empty_one_from_older_versions_reads_as_null():
    assert StudySummary.model_validate(_minimal()).fairness is None
    assert StudySummary.model_validate(_minimal(fairness={})).fairness is None
    assert StudySummary.model_validate(_minimal()).primary_model == "logistic"


@pytest.mark.parametrize(
    "change",
    [
        {"surprise": 1},  # unknown key
        {"notes": "one note"},  # wrong type
        {"models": {"metrics": {}}},  # a section missing its required fields
        {"data": {"source": "x", "synthetic": False, "fingerprint_sha256": "abc"}},
    ],
)
def test_a_summary_out_of_shape_is_refused(change):
    with pytest.raises(ValidationError):
        StudySummary.model_validate(_minimal(**change))

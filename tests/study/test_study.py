from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation_model.config import EvaluationConfig, ExplainConfig, RunConfig, SplitConfig
from escalation_model.datasets import fingerprint
from escalation_model.reporting import ModelCard
from escalation_model.schema import ColumnRoles
from escalation_model.study import StudyData, run_study
from escalation_model.study._figures import save_figures, study_figures


def test_missing_roles_are_allowed_and_said_plainly(small_population, tmp_path):
    roles = ColumnRoles(area=(), protected=())
    frame = small_population.frame.drop(
        columns=[
            "ward_code",
            "authority_code",
            "child_ethnicity",
            "child_sex",
            "child_age_band",
            "child_disability",
        ]
    )
    data = StudyData(
        frame=frame, roles=roles, source="reduced extract", fingerprint=fingerprint(frame)
    )
    config = RunConfig(
        split=SplitConfig(leave_one_authority_out=True),
        evaluation=EvaluationConfig(n_bootstrap=50),
        explain=ExplainConfig(sample_size=2000, interaction_sample=200),
    )
    result = run_study(config, data)
    area_note = (
        "tables by area, funnel plots and the demand forecast by area skipped: the data has "
        "no 'area' role"
    )
    assert area_note in result.notes
    assert any("leave-one-authority-out check skipped" in n for n in result.notes)
    assert result.transfer is None
    # the demand forecast by family group still runs (it needs profile dates only)
    forecasts = {k for k in result.population if k.startswith("demand_forecast")}
    assert forecasts == {
        f"demand_forecast_by_{g}.csv"
        for g in ("deprivation_quintile", "n_think_family_band", "family_type")
    }
    assert result.fairness.characteristics == ["deprivation_quintile", "lone_parent"]
    result.write(tmp_path)
    assert_valid_summary(json.loads((tmp_path / "summary.json").read_text()))
    card = ModelCard.from_summary(result.summary())
    page_one = card.page_one()
    assert "expected to escalate within 12 months" in page_one  # the forecast by group
    assert card.panel("Where?").sentences[0].startswith("Not answered: this run has no forecast")
    assert area_note in card.to_markdown()


def _plain_config(seed: int = 0) -> RunConfig:
    return RunConfig(
        split=SplitConfig(leave_one_authority_out=False),
        evaluation=EvaluationConfig(n_bootstrap=20, random_state=seed),
        explain=ExplainConfig(sample_size=500, interaction_sample=0),
    )


@pytest.fixture(scope="module")
def plain_result(small_population):
    """One study of the small population, for the tests that only read it."""
    data = StudyData(
        small_population.frame,
        small_population.roles,
        "s",
        fingerprint(small_population.frame),
        oracle=small_population.oracle,
    )
    return run_study(_plain_config(), data)


def test_stage_timings_are_recorded_but_not_in_the_summary(plain_result):
    result = plain_result
    assert {"validate", "fit_and_evaluate", "fairness", "population", "explain"} <= set(
        result.timings
    )
    assert "timings" not in result.summary()  # the summary stays reproducible bit for bit


def test_the_summary_is_made_once_and_again_when_the_model_file_is_written(plain_result, tmp_path):
    from dataclasses import replace

    from escalation_model.models import file_sha256

    result = replace(plain_result)  # its own summary: the module's result stays as it was
    first = result.study_summary()
    assert result.study_summary() is first  # the file, card and MLflow read one summary
    assert first.model_file is None  # no model file yet
    result.write(tmp_path)
    after = result.study_summary()
    assert after is not first
    assert after.model_file.sha256 == file_sha256(tmp_path / "model.skops")
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk == json.loads(json.dumps(after.to_json_dict(), default=str))
    # the same figures, made afresh: nothing in the kept summary went stale
    assert result._make_summary().to_json_dict() == after.to_json_dict()


SUMMARY_SCHEMA = json.loads(
    (
        Path(__file__).parents[2] / "escalation_model" / "reporting" / "summary.schema.json"
    ).read_text()
)


def assert_valid_summary(summary: dict) -> None:
    """summary.json follows its documented schema and is strict JSON (no NaN)."""
    jsonschema.validate(summary, SUMMARY_SCHEMA, format_checker=jsonschema.FormatChecker())
    json.dumps(summary, allow_nan=False)


def test_missing_protected_and_area_values_are_counted_not_dropped(small_population):
    import warnings

    from escalation_model.schema import NOT_RECORDED, SchemaWarning

    frame = small_population.frame.copy()
    frame["child_ethnicity"] = frame["child_ethnicity"].astype(object)
    frame.loc[frame.index[::40], "child_ethnicity"] = None
    frame["ward_code"] = frame["ward_code"].astype(object)
    frame.loc[frame.index[1::40], "ward_code"] = None
    before = frame.copy()
    data = StudyData(frame, small_population.roles, "with gaps", fingerprint(frame))
    config = RunConfig(
        split=SplitConfig(leave_one_authority_out=False),
        evaluation=EvaluationConfig(n_bootstrap=50),
        explain=ExplainConfig(sample_size=1000, interaction_sample=0),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SchemaWarning)
        result = run_study(config, data)
    assert sum("not recorded" in str(w.message) for w in caught) == 2
    groups = result.fairness.by_group
    eth = groups[groups.characteristic == "child_ethnicity"]
    assert NOT_RECORDED in set(eth.group)
    n = int(eth[eth.group == NOT_RECORDED].n_families.iloc[0])
    test_missing = frame.iloc[result.split.test]["child_ethnicity"].isna().sum()
    assert n == test_missing
    wards = result.population["population_by_ward_code.csv"]
    assert NOT_RECORDED in set(wards["ward_code"].astype(str))
    assert frame.equals(before)  # the caller's frame is untouched


def test_writing_a_study_leaves_the_plotting_backend_alone(plain_result, tmp_path):
    import matplotlib

    result = plain_result
    before = matplotlib.get_backend()
    matplotlib.use("svg")  # as a notebook's inline backend would be
    try:
        result.write(tmp_path)
        assert matplotlib.get_backend() == "svg"
        assert (tmp_path / "plots" / "funnel_ward_code.png").exists()
        # drawn by forked workers or here, one after another: the same files, byte for byte
        for workers in (1, 3):
            save_figures(study_figures(result), tmp_path / f"by{workers}", workers=workers)
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(before)
    names = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert len(names) >= 12
    for name in names:
        drawn = [(tmp_path / f / name).read_bytes() for f in ("plots", "by1", "by3")]
        assert drawn[0] == drawn[1] == drawn[2], name


def test_a_figure_that_fails_in_a_worker_fails_here_with_its_own_error(tmp_path):
    def broken():
        raise ValueError("no data to draw")

    figures = {f"f{i}.png": broken for i in range(4)}
    with pytest.raises(ValueError, match="no data to draw"):
        save_figures(figures, tmp_path, workers=2)


def test_reference_groups_are_the_largest_in_the_whole_data(small_population, plain_result):
    from escalation_model.study._stages import reference_groups

    frame, roles = small_population.frame, small_population.roles
    refs = reference_groups(frame, roles, [("child_ethnicity", "deprivation_quintile")])
    assert refs["child_ethnicity"] == frame["child_ethnicity"].astype(str).value_counts().index[0]
    assert refs["child_ethnicity x deprivation_quintile"].startswith(refs["child_ethnicity"])
    # the same data gives the same references, whatever the resampling seed
    data = StudyData(frame, roles, "s", fingerprint(frame))
    results = [
        plain_result.summary()["fairness"]["reference_groups"],  # resampling seed 0
        run_study(_plain_config(seed=1), data).summary()["fairness"]["reference_groups"],
    ]
    assert results[0] == results[1] == {k: v for k, v in refs.items() if " x " not in k}


def test_study_data_refuses_a_made_up_fingerprint(small_population):
    with pytest.raises(ValueError, match="64 hex digits.*Fix: pass"):
        StudyData(small_population.frame, small_population.roles, "s", "x")


def test_stricter_disclosure_rules_from_the_configuration_file_are_applied(tmp_path):
    from escalation_model.config import load_config

    path = tmp_path / "run.toml"
    path.write_text(
        "[data]\nn_families = 20000\n[evaluation]\nn_bootstrap = 20\n"
        "[split]\nleave_one_authority_out = false\n"
        "[explain]\nsample_size = 300\ninteraction_sample = 0\n"
        "[disclosure]\nmin_cell = 20\nround_to = 10\n"
    )
    result = run_study(load_config(path))
    summary = result.summary()
    assert summary["disclosure_control"]["min_cell"] == 20
    assert "1 to 19 families suppressed" in summary["disclosure_control"]["description"]
    wards = result.population["population_by_ward_code.csv"]
    values = wards[["families", "observed"]].to_numpy().ravel()
    values = values[~np.isnan(values)]
    assert ((values == 0) | (values >= 20)).all() and (values % 10 == 0).all()
    assert summary["overview"]["families"] % 10 == 0


def test_wards_alone_are_not_held_out_one_at_a_time(small_population):
    """With only a ward column in the area role, the leave-one-authority-out check would
    hold out each of the wards (46 fits, 20 s on a 60,000-family extract): it is skipped,
    naming the column and the fix."""
    from dataclasses import replace

    from escalation_model.study import plan_study

    roles = replace(small_population.roles, area=("ward_code",))
    frame = small_population.frame.drop(columns=["authority_code"])
    data = StudyData(frame, roles, "s", fingerprint(frame))
    plan = plan_study(RunConfig(), data)
    assert plan.transfer_authorities == ()
    (why,) = [w for what, w in plan.skipped if what == "leave-one-authority-out check"]
    assert "'ward_code' has" in why and "name the authority column" in why
    assert frame["ward_code"].nunique() > 30


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["A", "B", "A | B", None]), st.sampled_from(["1", "2", None])),
        max_size=40,
    )
)
def test_group_sizes_are_the_counts_of_the_joined_text(rows):
    """The groups' sizes from integer codes equal value_counts of the joined text (the
    way they were counted before), a missing part dropping the family."""
    from escalation_model.study._stages import _group_sizes

    a = pd.Series([r[0] for r in rows], dtype="string")
    b = pd.Series([r[1] for r in rows], dtype="string")
    joined = (a + " | " + b).value_counts(dropna=True)
    assert _group_sizes([a, b]) == {str(k): int(v) for k, v in joined.items()}
    assert _group_sizes([a]) == {str(k): int(v) for k, v in a.value_counts().items()}

"""One set of facts: every published artifact of a run agrees with every other, on four
runs (the default synthetic study, a council extract without areas, protected columns or
outcome level, a model no better than chance, a one-indicator extract); and altering one
figure in one place is caught."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from escalation_model.cli import main
from escalation_model.datasets import make_synthetic_population

from ._reconcile import Run, reconcile

SMALL = (
    "[evaluation]\nn_bootstrap = 50\n"
    "[explain]\nsample_size = 500\ninteraction_sample = 0\n"
    "[split]\ntransfer_max_train = 2000\ntransfer_n_bootstrap = 20\n"
)


def _run(folder, frame=None, roles: str | None = None, tracking: bool = False) -> Run:
    folder.mkdir(parents=True, exist_ok=True)
    if frame is None:
        data = '[data]\nsource = "synthetic"\nn_families = 30000\nseed = 11\n'
    else:
        frame.to_csv(folder / "families.csv", index=False)
        data = '[data]\nsource = "file"\npath = "families.csv"\n'
        if roles is not None:
            (folder / "roles.toml").write_text(roles)
            data += 'roles = "roles.toml"\n'
    (folder / "run.toml").write_text(data + SMALL)
    args = ["run", "--config", str(folder / "run.toml"), "--output", str(folder / "out"), "--quiet"]
    metrics = None
    if tracking:
        uri = f"sqlite:///{folder / 'mlflow.db'}"
        assert main([*args, "--tracking-uri", uri]) == 0  # artifacts beside the store
        import mlflow

        client = mlflow.MlflowClient(tracking_uri=uri)
        run = client.search_runs(client.get_experiment_by_name("escalation_model").experiment_id)[0]
        metrics = dict(run.data.metrics)
    else:
        assert main([*args, "--no-tracking"]) == 0
    return Run(folder / "out", metrics)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Run]:
    base = tmp_path_factory.mktemp("reconcile")
    frame = make_synthetic_population(30_000, random_state=11).frame
    council = frame.drop(
        columns=[
            "ward_code",
            "authority_code",
            "child_ethnicity",
            "child_disability",
            "child_sex",
            "child_age_band",
            "outcome_level",
        ]
    ).rename(columns={"family_id": "FamilyRef", "profile_date": "Profiled"})
    council["Profiled"] = pd.to_datetime(council["Profiled"]).dt.strftime("%d/%m/%Y")
    chance = frame.drop(columns=["outcome_level"]).copy()
    chance["escalated"] = np.random.default_rng(0).permutation(chance["escalated"].to_numpy())
    one = frame[["family_id", "profile_date", "domestic_abuse", "escalated"]]
    empty = "area = []\nprotected = []\noutcome_level = ''\n"
    return {
        "default": _run(base / "default", tracking=True),
        "council": _run(
            base / "council",
            council,
            '[roles]\nfamily_id = "FamilyRef"\nprofile_date = "Profiled"\n'
            'date_format = "%d/%m/%Y"\n' + empty,
        ),
        "chance": _run(
            base / "chance",
            chance,
            "[roles]\noutcome_level = ''\n[roles.area_names]\n"
            + "".join(f'LA0{i} = "Town {i}"\n' for i in range(1, 9)),
        ),
        "one indicator": _run(
            base / "one",
            one,
            "[roles]\nthink_family = ['domestic_abuse']\nsecondary = []\nhousehold = []\n"
            "deprivation = ''\narea_factors = []\n" + empty,
        ),
    }


@pytest.mark.parametrize("name", ["default", "council", "chance", "one indicator"])
def test_every_published_figure_agrees(runs, name):
    assert reconcile(runs[name]) == []


def test_a_model_no_better_than_chance_says_so_and_recommends_nothing(runs):
    page = runs["chance"].first_page
    assert "no better than chance" in page and "ranks families well" not in page
    assert "recommends no number of places" in page
    assert "the point to plan for" not in page
    assert "ranks families well" in runs["default"].first_page


@pytest.mark.parametrize("name", ["default", "council"])
def test_without_early_help_data_nothing_claims_an_estimated_effect(runs, name):
    run = runs[name]
    assert run.summary["impact"] is None
    assert run.summary["population"]["capacity_curve"]["estimated_effect"] is None
    assert not any(c.startswith("averted_estimated") for c in run.csv("capacity_curve.csv"))
    assert "estimated" not in set(run.csv("scenarios.csv")["assumption"])
    assert "estimated from this data" not in run.markdown
    assert "assumed" in run.first_page
    # the roll-out's section says it was not made, and why
    assert "rollout file names the areas and the dates they started." in run.markdown
    assert (
        "## Has the roll-out across areas made any difference?\n\n\nNot estimated in this run"
        in (run.markdown)
    )


def test_the_councils_area_names_are_beside_the_codes(runs):
    """Names from [roles.area_names]: a column beside the codes in the area tables, in
    page one's sentences about areas; a code without a name (the wards) stays a code."""
    run = runs["chance"]
    forecast = run.csv("demand_forecast_by_authority_code.csv")
    assert list(forecast.columns[:2]) == ["authority_code", "area_name"]
    assert (forecast["area_name"] == "Town " + forecast["authority_code"].str[-1]).all()
    assert run.csv("population_by_ward_code.csv")["area_name"].isna().all()
    where = next(p for p in run.card["briefing"]["panels"] if p["question"] == "Where?")
    assert "(Town " in where["sentences"][0]
    assert "area_name" not in run.csv("demand_forecast_by_family_type.csv").columns


def test_settings_of_analyses_that_did_not_run_say_so(runs):
    settings = runs["council"].summary["settings_in_run"]
    assert settings["split.leave_one_authority_out"].startswith("not run:")
    assert settings["population.groupings"] == "'area' not run: the data has no 'area' role"
    assert "| not run:" in runs["council"].markdown
    default = runs["default"].summary["settings_in_run"]
    assert "split.leave_one_authority_out" not in default


def _altered(run: Run, tmp_path, edit) -> Run:
    copy = tmp_path / "copy"
    shutil.copytree(run.folder, copy)
    edit(copy)
    return Run(copy, run.mlflow_metrics)


def _replace(path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def test_altering_one_figure_in_one_place_is_caught(runs, tmp_path):
    run = runs["default"]
    places = int(run.summary["population"]["capacity_families"])
    reach = run.fact("reach_model")["text"]
    forecast = run.fact("forecast_total")["text"]

    def strategies(folder):
        t = pd.read_csv(folder / "strategies.csv")
        t.loc[t.strategy == "model", "families_offered"] = places + 5
        t.to_csv(folder / "strategies.csv", index=False)

    def page_one(folder):
        _replace(
            folder / "model_card.md", f"{reach} of every", f"{float(reach) + 0.1:.1f} of every"
        )

    def forecast_text(folder):
        _replace(folder / "model_card.md", f"**{forecast}** expected", "**1** expected")

    def findings(folder):
        t = pd.read_csv(folder / "fairness_findings.csv")
        counted = t.tolerance.notna() & (t.metric != "false_negative_rate")
        row = t.index[(t.finding == "within tolerance") & counted][0]
        t.loc[row, "finding"] = "outside tolerance"
        t.to_csv(folder / "fairness_findings.csv", index=False)

    for edit in (strategies, page_one, forecast_text, findings):
        assert reconcile(_altered(run, tmp_path / edit.__name__, edit)), edit.__name__

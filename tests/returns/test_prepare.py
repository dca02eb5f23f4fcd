"""The whole data path: synthetic returns -> prepare -> the population's own frame -> run."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from escalation_model.cli import main
from escalation_model.datasets import make_synthetic_population, read_families
from escalation_model.population import publish_count
from escalation_model.returns import (
    load_prepare_config,
    make_synthetic_returns,
    periods_of_care,
    prepare,
    read_prepared_roles,
)
from escalation_model.schema import SchemaError, validate


def _round_trip(n_families: int, folder):
    pop = make_synthetic_population(n_families=n_families, random_state=3)
    frame, report = prepare(
        load_prepare_config(make_synthetic_returns(pop, folder, random_state=1))
    )
    truth = pop.frame.assign(family_id=pop.frame["family_id"].astype(str))
    merged = truth.merge(frame, on=["family_id", "profile_date"], suffixes=("", "_prepared"))
    assert len(merged) == len(truth) == len(frame)
    for col in ["outcome_level", "escalated", *pop.roles.indicators()]:
        expected = truth.set_index("family_id")[col]
        got = frame.set_index("family_id")[col].reindex(expected.index)
        if col == "outcome_level":
            expected, got = expected.astype(str), got.astype(str)
        pd.testing.assert_series_equal(
            got.astype("Float64") if col != "outcome_level" else got,
            expected.astype("Float64") if col != "outcome_level" else expected,
            check_names=False,
            check_dtype=False,
            # aligned by the reindex above; comparing an Arrow-string index element by
            # element took 28 s of this test at 200,000 families
            check_index=False,
        )
    validate(frame, pop.roles)
    # every family entering care is in the history the hand-over reads (one child each)
    entering = int((truth["outcome_level"].astype(str) == "looked_after").sum())
    history = report.entries_into_care
    assert history.families == history.entries == publish_count(entering)
    assert history.by_age_band["not known"] == 0  # the header gives every birth date
    return report


def test_synthetic_returns_prepare_back_to_the_population_at_20000(tmp_path):
    report = _round_trip(20_000, tmp_path)
    assert set(report.spells) == {"child_in_need", "child_protection", "looked_after"}
    # the 1% of families already in care and the 1% profiled too late are left out
    assert report.excluded["already in statutory care on the profile date"] == 200
    assert report.excluded["window runs past the last return (censored)"] == 200
    text = "\n".join(report.lines())
    assert "short breaks (legal status V3, V4) excluded" in text


@pytest.mark.slow
def test_synthetic_returns_prepare_back_to_the_population_at_200000(tmp_path):
    _round_trip(200_000, tmp_path)


def test_the_decoys_are_there(tmp_path):
    """No-further-action referrals, short breaks, spells outside the window, open
    episodes repeated across years and babies born in the window are all written."""
    from escalation_model.returns import read_cin_census, read_ssda903

    pop = make_synthetic_population(n_families=20_000, random_state=3)
    make_synthetic_returns(pop, tmp_path, random_state=1)
    census = read_cin_census(sorted((tmp_path / "cin").glob("*.xml")))
    assert census.referrals["no_further_action"].sum() > 100
    episodes = [
        pd.read_csv(p, dtype=str) for p in sorted((tmp_path / "ssda903").glob("*-episodes.csv"))
    ]
    raw = pd.concat(episodes)
    assert (raw["LS"] == "V3").any()
    assert raw.duplicated(["CHILD", "DECOM"]).any()  # open episodes repeated
    assert len(read_ssda903(sorted((tmp_path / "ssda903").glob("*-episodes.csv"))).episodes) < len(
        raw
    )
    members = pd.read_csv(tmp_path / "membership.csv", dtype=str)
    assert members["person_id"].str.startswith("B").any()  # births during the window


def test_the_synthetic_returns_are_as_messy_as_real_ones(tmp_path):
    """Periods of several episodes (at least 30%), periods open at the last 31 March and
    repeated across years, overlaps, duplicate rows, ragged header rows, children
    referred more than once."""
    from escalation_model.returns import care_checks, read_cin_census, read_ssda903

    pop = make_synthetic_population(n_families=20_000, random_state=3)
    make_synthetic_returns(pop, tmp_path, random_state=1)
    folder = tmp_path / "ssda903"
    s = read_ssda903(sorted(folder.glob("*-episodes.csv")), sorted(folder.glob("*-header.csv")))
    checks = care_checks(s.episodes)
    assert checks.multi_episode_periods / checks.periods > 0.3
    assert checks.overlapping > 0
    raw = pd.concat(pd.read_csv(p, dtype=str) for p in sorted(folder.glob("*-episodes.csv")))
    assert raw.duplicated().any()  # the same row twice in one file
    periods = periods_of_care(s.episodes)
    still = periods[periods["end"].isna()]
    last = max(s.reference_dates)
    assert (still["open_as_of"] == last).sum() > 50  # open at the last 31 March
    repeated = raw[raw["DEC"].isna()].merge(raw[raw["DEC"].notna()], on=["CHILD", "DECOM"])
    assert len(repeated) > 50  # open in one year's file, closed in a later one
    header = (folder / f"{last.year}-header.csv").read_text().splitlines()
    assert {line.count(",") for line in header[1:]} == {3, 6}  # ragged rows
    assert s.children["child_id"].notna().all()
    census = read_cin_census(sorted((tmp_path / "cin").glob("*.xml")))
    assert census.referrals["child_id"].duplicated().sum() > 100


def test_the_cli_prepares_and_the_study_runs_on_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["synthetic-returns", "--families", "20000", "--seed", "5", "--output", "sr"]) == 0
    assert main(["synthetic-returns", "--families", "100", "--output", "sr"]) == 2  # not empty
    args = ["prepare", "--config", "sr/prepare.toml", "--output", "families.parquet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "20,400 rows read (20,400 families); kept 20,000 rows (20,000 families)" in out
    assert "definition: Child in need" in out and "not supplied" not in out
    assert main(args) == 2  # never overwrites the analyst's file
    frame = read_families("families.parquet")
    assert len(frame) == 20_000
    # early-help receipt from the export, with its outcome counted from a comparable start
    assert "profiles followed by early help within 3 months" in out
    assert set(frame["early_help"].dropna().unique()) <= {0, 1}
    received = frame["early_help"] == 1
    assert frame.loc[received, "early_help_start"].notna().all()
    assert frame.loc[~received, "early_help_start"].isna().all()
    roles = read_prepared_roles("families.parquet")
    assert (roles.early_help, roles.early_help_outcome) == ("early_help", "early_help_outcome")
    config = tmp_path / "run.toml"
    config.write_text(
        '[data]\nsource = "file"\npath = "families.parquet"\n'
        "[evaluation]\nn_bootstrap = 20\n[split]\nleave_one_authority_out = false\n"
        "[explain]\nsample_size = 300\ninteraction_sample = 0\n"
    )
    assert main(["run", "--config", str(config), "--output", "out", "--no-tracking"]) == 0
    card = (tmp_path / "out" / "model_card.md").read_text()
    assert "prepared from statutory returns and agency records" in card
    assert "referrals in the CIN census not marked" in card  # the label's definition
    assert "excluded: 200 rows (already in statutory care on the profile date)" in card
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert any("definition: Looked after" in line for line in summary["data"]["preparation"])
    assert summary["impact"] is not None  # the run evaluated early help from the export
    # the hand-over to the demand models: children by quarter and age band, from the
    # ages at entry and the timing prepare recorded
    handover = summary["looked_after"]["handover"]
    table = pd.read_csv(tmp_path / "out" / "looked_after_handover.csv")
    assert handover["unit"] == "children" and set(table["unit"]) == {"children"}
    assert set(table["age_band"]) <= {"under 1", "1-4", "5-9", "10-15", "16+"}
    assert table["expected_entries"].sum() == pytest.approx(handover["expected"], rel=1e-3)
    assert "For placement planning" in card and "Age at entry: as in the history" in card


def test_a_preparation_record_not_written_by_prepare_is_refused(tmp_path):
    from escalation_model._errors import EscalationModelError
    from escalation_model.returns import read_preparation

    (tmp_path / "f.preparation.json").write_text('{"lines": ["<script>"]}')
    with pytest.raises(EscalationModelError, match="not a preparation record.*Fix:"):
        read_preparation(tmp_path / "f.parquet")
    assert read_preparation(tmp_path / "other.parquet") == []


def test_a_bad_prepare_config_is_refused_before_any_file_is_read(tmp_path, capsys):
    config = tmp_path / "prepare.toml"
    config.write_text('[prepare]\nfamilies = "f.csv"\nmembership = "m.csv"\nrecords = 3\n')
    assert main(["prepare", "--config", str(config), "--output", str(tmp_path / "x.csv")]) == 1
    err = capsys.readouterr().err
    assert "prepare.records" in err and "Fix:" in err


def test_a_council_s_own_order_and_uk_dates_give_the_same_families(tmp_path):
    """families.csv in another order, every date in the CSVs DD/MM/YYYY, and the
    early-help export in its own column names, by person (mapped in prepare.toml)."""
    pop = make_synthetic_population(n_families=3_000, random_state=3)
    config = make_synthetic_returns(pop, tmp_path, random_state=1)
    early = pd.read_csv(tmp_path / "early_help.csv", dtype=str)
    pd.DataFrame(
        {
            "Client": "P" + early["family_id"],  # the family's parent
            "EH Start": pd.to_datetime(early["start"]).dt.strftime("%d/%m/%Y"),
        }
    ).to_csv(tmp_path / "early_help.csv", index=False)
    text = config.read_text().replace(
        "[definitions]",
        '[prepare.early_help_columns]\n"Client" = "person_id"\n"EH Start" = "start"\n\n'
        "[definitions]",
    )
    config.write_text(text)
    families = pd.read_csv(tmp_path / "families.csv", dtype=str).sample(frac=1, random_state=0)
    families["profile_date"] = pd.to_datetime(families["profile_date"]).dt.strftime("%d/%m/%Y")
    families.to_csv(tmp_path / "families.csv", index=False)
    records = pd.read_csv(tmp_path / "records.csv", dtype=str)
    records["date"] = pd.to_datetime(records["date"]).dt.strftime("%d/%m/%Y")
    records.to_csv(tmp_path / "records.csv", index=False)
    frame, report = prepare(load_prepare_config(config))
    assert report.excluded["already in statutory care on the profile date"] == 30
    truth = pop.frame.assign(family_id=pop.frame["family_id"].astype(str)).set_index("family_id")
    got = frame.set_index("family_id").reindex(truth.index)
    assert (got["profile_date"] == truth["profile_date"]).all()
    assert (got["outcome_level"].astype(str) == truth["outcome_level"].astype(str)).all()
    for col in pop.roles.indicators():
        same = (got[col] == truth[col]) | (got[col].isna() & truth[col].isna())
        assert same.fillna(False).all(), col


def test_every_problem_in_prepare_s_tables_at_once(tmp_path):
    pop = make_synthetic_population(n_families=1_000, random_state=3)
    config = make_synthetic_returns(pop, tmp_path, random_state=1)
    (tmp_path / "membership.csv").write_text("family_id,person\n1,P1\n")
    records = pd.read_csv(tmp_path / "records.csv", dtype=str)
    records.loc[:1, "date"] = ["31/02/2014", "yesterday"]
    records.to_csv(tmp_path / "records.csv", index=False)
    with pytest.raises(SchemaError) as info:
        prepare(load_prepare_config(config))
    text = str(info.value)
    assert text.startswith("2 problem(s)")
    assert "membership.csv, column 'person_id': the membership table lacks a column" in text
    assert "records.csv, column 'date': dates that are neither" in text
    assert "'yesterday'" in text and "(row 2, 3)" in text


def test_patterns_that_match_no_file_are_reported_before_anything_is_read(tmp_path):
    pop = make_synthetic_population(n_families=1_000, random_state=3)
    config = make_synthetic_returns(pop, tmp_path, random_state=1)
    text = config.read_text().replace("ssda903/*-episodes.csv", "ssda/*.csv")
    config.write_text(text.replace('"early_help.csv"', '"eh/*.csv"'))
    (tmp_path / "families.csv").write_text("not,a\nfamilies,table\n")  # not read
    with pytest.raises(SchemaError) as info:
        prepare(load_prepare_config(config))
    message = str(info.value)
    assert message.startswith("2 problem(s)")
    assert "no file matches 'ssda/*.csv'" in message and "no file matches 'eh/*.csv'" in message


def test_the_entry_history_is_recorded_beside_the_prepared_file_and_read_back(tmp_path):
    from escalation_model._errors import EscalationModelError
    from escalation_model.population import EntryHistory
    from escalation_model.returns import PrepareReport, read_entry_history, write_preparation

    history = EntryHistory(
        horizon_months=12,
        families=40.0,
        entries=50.0,
        by_quarter=[10.0, 15.0, None, 20.0],
        by_age_band={"under 1": 15.0, "1-4": None, "5-9": 10.0, "10-15": 20.0, "16+": None},
    )
    report = PrepareReport(1000, 1000, 1000, 1000, 1, 100, {}, entries_into_care=history)
    write_preparation(report, tmp_path / "f.parquet")
    assert read_entry_history(tmp_path / "f.parquet") == history
    assert read_entry_history(tmp_path / "other.parquet") is None
    record = json.loads((tmp_path / "f.preparation.json").read_text())
    record["entries_into_care"]["entries"] = "<script>"
    (tmp_path / "f.preparation.json").write_text(json.dumps(record))
    with pytest.raises(EscalationModelError, match="not a preparation record.*Fix:"):
        read_entry_history(tmp_path / "f.parquet")


def test_a_council_with_only_ids_dates_one_indicator_and_ssda903_prepares_and_runs(
    tmp_path, monkeypatch, capsys
):
    """No areas, no household or protected columns, one indicator, no CIN census: the
    prepare config needs no [roles], says what was not supplied, and run takes its output."""
    monkeypatch.chdir(tmp_path)
    assert main(["synthetic-returns", "--families", "20000", "--seed", "5", "--output", "sr"]) == 0
    families = pd.read_csv("sr/families.csv", dtype=str)[["family_id", "profile_date"]]
    families["profile_date"] = pd.to_datetime(families["profile_date"]).dt.strftime("%d/%m/%Y")
    families.to_csv("families.csv", index=False)
    (tmp_path / "mapping.toml").write_text(
        '[indicators.domestic_abuse]\ncodes = ["C07"]\nsources = ["agency_domestic_abuse"]\n'
        '[indicators.substance_misuse]\ncodes = ["NO-SUCH-CODE"]\n'
    )
    (tmp_path / "prepare.toml").write_text(
        '[prepare]\nfamilies = "families.csv"\nmembership = "sr/membership.csv"\n'
        'records = "sr/records.csv"\nmapping = "mapping.toml"\n'
        'ssda903_episodes = ["sr/ssda903/*-episodes.csv"]\n'
    )
    assert main(["prepare", "--config", "prepare.toml", "--output", "fam.parquet"]) == 0
    out = capsys.readouterr().out
    assert "CIN census not supplied" in out and "definition: Child in need" not in out
    assert "returns read: SSDA903 to 31/03/" in out
    assert "rows (window runs past the last return (censored))" in out
    assert "definition: Looked after" in out and "definition: Child protection" not in out
    assert "indicators known for: domestic_abuse 100%" in out
    assert "indicators left out (no record of their codes" in out and "substance_misuse" in out
    frame = pd.read_parquet("fam.parquet")
    assert sorted(frame.columns) == sorted(
        ["family_id", "profile_date", "domestic_abuse", "escalated", "outcome_level"]
    )
    assert set(frame["outcome_level"].astype(str)) <= {"none", "early_help", "looked_after"}
    (tmp_path / "run.toml").write_text(
        '[data]\nsource = "file"\npath = "fam.parquet"\n[evaluation]\nn_bootstrap = 20\n'
        "[explain]\nsample_size = 300\ninteraction_sample = 0\n"
    )
    assert main(["run", "--config", "run.toml", "--output", "out", "--no-tracking"]) == 0
    card = (tmp_path / "out" / "model_card.md").read_text()
    assert "CIN census not supplied" in card and "referrals in the CIN census" not in card


def test_a_prepare_config_naming_an_indicator_role_or_no_return_is_refused(tmp_path, capsys):
    base = (
        '[prepare]\nfamilies = "f.csv"\nmembership = "m.csv"\nrecords = "r.csv"\n'
        'mapping = "x.toml"\n'
    )
    cin = 'cin_census = ["c.xml"]\n'
    (tmp_path / "a.toml").write_text(base + cin + '[roles]\nthink_family = ["X"]\n')
    (tmp_path / "b.toml").write_text(base)
    (tmp_path / "c.toml").write_text(base + cin + '[roles]\nfamily_id = "Ref"\n')
    out = str(tmp_path / "o.parquet")
    assert main(["prepare", "--config", str(tmp_path / "a.toml"), "--output", out]) == 1
    assert "mapping file's [indicators.NAME]" in capsys.readouterr().err
    assert main(["prepare", "--config", str(tmp_path / "b.toml"), "--output", out]) == 1
    assert "no statutory return is named" in capsys.readouterr().err
    assert load_prepare_config(tmp_path / "c.toml").roles == {"family_id": "Ref"}


def test_the_families_table_s_roles_are_checked_before_any_work(tmp_path):
    from escalation_model.returns import PrepareConfig

    (tmp_path / "f.csv").write_text("Ref,Profiled\n1,01/04/2015\n1,01/04/2015\n")
    config = PrepareConfig.model_validate(
        {
            "prepare": {
                "families": "f.csv",
                "membership": "m.csv",
                "records": "r.csv",
                "mapping": "x.toml",
                "cin_census": [],
            },
            "roles": {"family_id": "Ref", "profile_date": "Profiled", "area": ["Ward"]},
            "base": str(tmp_path),
        }
    )
    with pytest.raises(SchemaError) as info:
        prepare(config)
    text = str(info.value)
    assert "column 'Ward': the column named for role 'area' is not in the families table" in text

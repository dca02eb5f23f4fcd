from __future__ import annotations

import json

import pandas as pd
import pytest

from escalation_model._publish import COUNT_COLUMNS
from escalation_model.cli import main


def test_generate_writes_and_never_overwrites(tmp_path, capsys):
    path = tmp_path / "pop.parquet"
    assert main(["generate", str(path), "--n-families", "2000", "--seed", "3"]) == 0
    frame = pd.read_parquet(path)
    assert len(frame) == 2000
    stamp = path.stat().st_mtime_ns
    assert main(["generate", str(path), "--n-families", "10"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert path.stat().st_mtime_ns == stamp
    assert main(["generate", str(path), "--n-families", "10", "--overwrite"]) == 0
    assert len(pd.read_parquet(path)) == 10


def test_validate_passes_clean_csv(tmp_path, capsys):
    path = tmp_path / "pop.csv"
    assert main(["generate", str(path), "--n-families", "20000"]) == 0
    assert main(["validate", str(path)]) == 0
    assert "no problems found" in capsys.readouterr().out


def test_validate_reports_problems_in_plain_words(tmp_path, capsys):
    path = tmp_path / "pop.csv"
    main(["generate", str(path), "--n-families", "20000"])
    frame = pd.read_csv(path)
    frame = frame.rename(columns={"domestic_abuse": "DA"})
    frame.loc[0, "lone_parent"] = 9
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    capsys.readouterr()
    assert main(["validate", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "'domestic_abuse'" in out and "'lone_parent'" in out and "Fix:" in out


def test_validate_with_analyst_roles(tmp_path, capsys):
    path = tmp_path / "pop.csv"
    main(["generate", str(path), "--n-families", "20000"])
    frame = pd.read_csv(path).rename(columns={"family_id": "FamilyRef", "escalated": "Esc"})
    mine = tmp_path / "mine.csv"
    frame.to_csv(mine, index=False)
    roles = tmp_path / "roles.toml"
    roles.write_text('[roles]\nfamily_id = "FamilyRef"\noutcome = "Esc"\n')
    assert main(["validate", str(mine), "--roles", str(roles)]) == 0
    assert main(["validate", str(mine)]) == 1


def test_run_writes_summary_and_refuses_foreign_folders(tmp_path, capsys):
    cfg = tmp_path / "run.toml"
    cfg.write_text(
        '[data]\nn_families = 20000\nseed = 4\n[output]\ndir = "out"\n'
        "[evaluation]\nn_bootstrap = 100\n[split]\nleave_one_authority_out = false\n"
        "[explain]\nsample_size = 500\ninteraction_sample = 0\n"
    )
    out = tmp_path / "elsewhere"
    assert (
        main(["run", "--config", str(cfg), "--output", str(out), "--quiet", "--no-tracking"]) == 0
    )
    assert capsys.readouterr().out == ""
    summary = json.loads((out / "summary.json").read_text())
    assert summary["data"]["synthetic"] is True
    assert 0.02 < summary["overview"]["share_five_plus"] < 0.05
    assert summary["overview"]["families"] == 20000
    profile = pd.read_csv(out / "profile_table.csv")
    assert "family_id" not in profile.columns and len(profile) == 16
    table = pd.read_csv(out / "model_comparison.csv")
    assert list(table.columns) == ["model", "metric", "estimate", "lower", "upper"]
    assert {"five_plus_rule", "area_rule", "logistic", "lightgbm", "oracle"} == set(table.model)
    assert summary["models"]["split"]["test_start"] == "2015-01-01"
    assert summary["models"]["metrics"]["lightgbm"]["roc_auc"]["estimate"] > 0.75
    for name in (
        "roc",
        "precision_recall",
        "calibration",
        "capacity",
        "fairness_calibration_ratio",
        "fairness_true_positive_rate",
    ):
        assert (out / "plots" / f"{name}.png").stat().st_size > 10_000
    fairness = pd.read_csv(out / "fairness_by_group.csv")
    assert (fairness.n_families.dropna() % 5 == 0).all()
    assert fairness.loc[fairness.too_small, "estimate"].isna().all()
    assert summary["fairness"]["prioritised"] == "calibration_ratio"
    assert summary["fairness"]["summary"][0].split()[0].isdigit()
    # nothing individual leaves: no family id or per-family score column in any table, and
    # no published count of 1 to 9 families
    _assert_published_folder(out)
    for name in (
        "strategies.csv",
        "scenarios.csv",
        "population_by_ward_code.csv",
        "demand_forecast_by_authority_code.csv",
        "monitoring_by_quarter.csv",
    ):
        assert (out / name).exists(), name
    assert summary["population"]["share_of_observed_escalations_outside_most_deprived"] > 0.4
    # a second run may reuse its own folder
    assert (
        main(["run", "--config", str(cfg), "--output", str(out), "--quiet", "--no-tracking"]) == 0
    )
    # but never a folder holding the user's own files
    mine = tmp_path / "my_notes"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    assert (
        main(["run", "--config", str(cfg), "--output", str(mine), "--quiet", "--no-tracking"]) == 2
    )
    assert "did not write" in capsys.readouterr().err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


def _assert_published_folder(folder):
    from escalation_model.population import FORBIDDEN_COLUMNS

    for csv in folder.glob("*.csv"):
        table = pd.read_csv(csv)
        assert not set(table.columns) & FORBIDDEN_COLUMNS, csv
        for col in COUNT_COLUMNS & set(table.columns):
            v = table[col].dropna()
            assert not ((v > 0) & (v < 10)).any(), (csv, col)
            assert (v % 5 == 0).all(), (csv, col)
    if (folder / "summary.json").exists():
        from tests.study.test_study import assert_valid_summary

        assert_valid_summary(json.loads((folder / "summary.json").read_text()))


def test_score_writes_population_tables_only(tmp_path, capsys):
    cfg = tmp_path / "run.toml"
    cfg.write_text(
        "[data]\nn_families = 20000\nseed = 4\n[evaluation]\nn_bootstrap = 50\n"
        "[split]\nleave_one_authority_out = false\n"
    )
    out = tmp_path / "run"
    assert (
        main(["run", "--config", str(cfg), "--output", str(out), "--quiet", "--no-tracking"]) == 0
    )
    new = tmp_path / "new.csv"
    assert main(["generate", str(new), "--n-families", "6000", "--seed", "77"]) == 0
    pd.read_csv(new).drop(columns=["escalated", "outcome_level"]).to_csv(new, index=False)
    roles = tmp_path / "roles.toml"
    roles.write_text('[roles]\noutcome = ""\noutcome_level = ""\n')
    scored = tmp_path / "scored"
    args = [
        "score",
        "--model",
        str(out / "model.skops"),
        "--data",
        str(new),
        "--roles",
        str(roles),
        "--output",
        str(scored),
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "no family scores" in printed
    names = {p.name for p in scored.glob("*.csv")}
    assert {"strategies.csv", "population_by_ward_code.csv"} <= names
    # the plan, before any work: what it writes (exactly what was written) and skips
    plan = next(line for line in printed.splitlines() if line.startswith("plan: score"))
    assert set(plan.split("; write ")[1].split(", ")) == names
    assert "skipped: observed escalations and observed-over-expected ratios" in printed
    assert "capacity figures cover the " in printed and "profiled in the latest year" in printed
    _assert_published_folder(scored)
    strategies = pd.read_csv(scored / "strategies.csv").set_index("strategy")
    assert strategies.loc["model", "expected_reached"] > strategies.loc["area", "expected_reached"]


def test_run_is_reproducible(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text(
        "[data]\nn_families = 8000\nseed = 9\n[evaluation]\nn_bootstrap = 100\n"
        "[explain]\nsample_size = 1000\ninteraction_sample = 200\n"  # interactions still run
    )
    for name in ("a", "b"):
        args = [
            "run",
            "--config",
            str(cfg),
            "--output",
            str(tmp_path / name),
            "--quiet",
            "--no-tracking",
        ]
        assert main(args) == 0
    a = json.loads((tmp_path / "a" / "summary.json").read_text())
    b = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert a["data"]["fingerprint_sha256"] == b["data"]["fingerprint_sha256"]
    assert a["overview"] == b["overview"]
    assert a["models"] == b["models"]  # same data, config and seed: same numbers, bit for bit
    # every published table, including those computed on several threads (transfer,
    # explanations), is the same byte for byte
    tables = sorted(p.name for p in (tmp_path / "a").glob("*.csv"))
    assert "transfer_by_authority.csv" in tables and "explain_importance.csv" in tables
    for name in tables:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    _assert_published_folder(tmp_path / "a")
    transfer = a["models"]["transfer"]
    assert len(transfer) == 8 and {"lightgbm", "five_plus_rule"} <= set(transfer[0]["metrics"])
    assert "Transfer to each authority" in (tmp_path / "a" / "model_card.md").read_text()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[data]\nn_familes = 10\n", "n_familes"),
        ("[data]\nn_families = 'many'\n", "n_families"),
        ("[data]\nsource = 'file'\n", "path"),
        ("[modle]\n", "modle"),
        ("[data\n", "not valid TOML"),
    ],
)
def test_bad_config_names_the_key(tmp_path, capsys, text, fragment):
    cfg = tmp_path / "run.toml"
    cfg.write_text(text)
    assert (
        main(["run", "--config", str(cfg), "--output", str(tmp_path / "o"), "--no-tracking"]) == 1
    )
    err = capsys.readouterr().err
    assert fragment in err and "Fix" in err
    assert not (tmp_path / "o").exists()  # refused before anything was created


def test_run_on_invalid_analyst_file_fails_before_work(tmp_path, capsys):
    data = tmp_path / "x.csv"
    pd.DataFrame({"family_id": [1, 2], "escalated": [0, 1]}).to_csv(data, index=False)
    cfg = tmp_path / "run.toml"
    cfg.write_text(f"[data]\nsource = 'file'\npath = '{data.name}'\n")
    assert (
        main(
            [
                "run",
                "--config",
                str(cfg),
                "--output",
                str(tmp_path / "o"),
                "--quiet",
                "--no-tracking",
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert "not in the data" in err
    assert not (tmp_path / "o" / "summary.json").exists()


def test_roles_lists_the_contract_and_writes_a_template(tmp_path, capsys):
    from escalation_model.schema import ColumnRoles

    template = tmp_path / "roles.toml"
    assert main(["roles", "--template", str(template)]) == 0
    out = capsys.readouterr().out
    assert "Domestic abuse" in out and "Bebbington" in out
    assert ColumnRoles.from_toml(template) == ColumnRoles()
    assert main(["roles", "--template", str(template)]) == 2  # never overwrites


def test_a_closed_pipe_does_not_break_a_command(tmp_path):
    """`escalation-model roles --template FILE | head`: the reader goes away before the
    listing is printed; the template is still written and the exit code is 0."""
    import subprocess
    import sys

    template = tmp_path / "roles.toml"
    code = "from escalation_model.cli import main; raise SystemExit(main())"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "roles", "--template", str(template)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # the reader is gone before the first line
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    assert b"Broken pipe" not in err and template.read_text().startswith("[roles]")


def test_a_user_s_edit_to_a_written_file_stops_the_next_run_before_any_work(tmp_path, capsys):
    cfg = tmp_path / "run.toml"
    cfg.write_text(
        "[data]\nn_families = 20000\nseed = 4\n[evaluation]\nn_bootstrap = 20\n"
        "[split]\nleave_one_authority_out = false\n[explain]\nsample_size = 300\n"
        "interaction_sample = 0\n"
    )
    out = tmp_path / "out"
    args = ["run", "--config", str(cfg), "--output", str(out), "--quiet", "--no-tracking"]
    assert main(args) == 0
    card = out / "model_card.md"
    card.write_text(card.read_text() + "\nReviewed by the equality officer, 3 December.\n")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "model_card.md was changed after the run that wrote it" in err
    assert "--overwrite" in err and "Reviewed by the equality officer" in card.read_text()
    assert main([*args, "--overwrite"]) == 0
    assert "Reviewed by the equality officer" not in card.read_text()

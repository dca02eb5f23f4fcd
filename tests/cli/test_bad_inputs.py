"""Malformed files, frames, roles and configurations: each is refused before any work with
a message naming the file or column, the problem and the fix, or handled correctly. None
surfaces as another library's traceback, and none leaves anything behind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from escalation_model.cli import main
from escalation_model.datasets import make_synthetic_population

N = 4000


@pytest.fixture(scope="module")
def base():
    pop = make_synthetic_population(N, random_state=21)
    frame = pop.frame.copy()
    frame["profile_date"] = pd.to_datetime(frame["profile_date"]).dt.strftime("%Y-%m-%d")
    frame["family_id"] = "FAM" + frame["family_id"].astype(str).str.zfill(7)
    return frame


def _csv(tmp_path, frame, name="data.csv", **kw):
    path = tmp_path / name
    frame.to_csv(path, index=False, **kw)
    return path


def _set(col, value, rows=slice(0, 3)):
    def edit(f):
        f = f.copy()
        f[col] = f[col].astype(object)
        f.loc[f.index[rows], col] = value
        return f

    return edit


def _dates(fn):
    def edit(f):
        f = f.copy()
        f["profile_date"] = fn(pd.to_datetime(f["profile_date"]))
        return f

    return edit


# (id, frame edit, roles TOML or None, exit code, fragments every message must hold)
FRAME_CASES = [
    (
        "missing column",
        lambda f: f.drop(columns="domestic_abuse"),
        None,
        1,
        ["'domestic_abuse'", "not in the data"],
    ),
    ("indicator 9", _set("domestic_abuse", 9), None, 1, ["'domestic_abuse'", "0, 1 or missing"]),
    ("indicator text", _set("substance_misuse", "yes"), None, 1, ["'substance_misuse'", "text"]),
    ("household 2", _set("lone_parent", 2), None, 1, ["'lone_parent'", "0, 1 or missing"]),
    (
        "secondary -1",
        _set("family_offending", -1),
        None,
        1,
        ["'family_offending'", "0, 1 or missing"],
    ),
    (
        "deprivation 0",
        _set("deprivation_decile", 0),
        None,
        1,
        ["'deprivation_decile'", "1 (most deprived) to 10"],
    ),
    ("deprivation 11", _set("deprivation_decile", 11), None, 1, ["'deprivation_decile'"]),
    ("deprivation 2.5", _set("deprivation_decile", 2.5), None, 1, ["'deprivation_decile'"]),
    (
        "deprivation missing",
        _set("deprivation_decile", np.nan),
        None,
        1,
        ["'deprivation_decile'", "missing"],
    ),
    (
        "deprivation text",
        _set("deprivation_decile", "high"),
        None,
        1,
        ["'deprivation_decile'", "number"],
    ),
    ("area factor text", _set("rural", "yes"), None, 1, ["'rural'", "numeric"]),
    ("area factor inf", _set("rural", np.inf), None, 1, ["'rural'", "finite"]),
    ("area factor -inf", _set("rural", -np.inf), None, 1, ["'rural'", "finite"]),
    ("family id missing", _set("family_id", np.nan), None, 1, ["'family_id'", "missing"]),
    (
        "duplicate family",
        lambda f: pd.concat([f, f.iloc[:4]]),
        None,
        1,
        ["'family_id'", "more than once", "row "],
    ),
    (
        "date unreadable",
        _set("profile_date", "not a date"),
        None,
        1,
        ["'profile_date'", "cannot be read"],
    ),
    ("date missing", _set("profile_date", np.nan), None, 1, ["'profile_date'", "missing"]),
    ("date future", _set("profile_date", "2999-01-01"), None, 1, ["'profile_date'", "future"]),
    ("date 1600", _set("profile_date", "1600-01-01"), None, 1, ["'profile_date'", "before 1990"]),
    ("date 1970", _set("profile_date", "1970-01-01"), None, 1, ["'profile_date'", "before 1990"]),
    (
        "dates as yyyymmdd",
        _dates(lambda d: d.dt.strftime("%Y%m%d").astype(int)),
        None,
        1,
        ["'profile_date'", "numbers"],
    ),
    (
        "dates as excel serials",
        _dates(lambda d: (d - pd.Timestamp("1899-12-30")).dt.days),
        None,
        1,
        ["'profile_date'", "numbers"],
    ),
    ("dates as years", _dates(lambda d: d.dt.year), None, 1, ["'profile_date'", "numbers"]),
    (
        "dates ambiguous",
        _dates(
            lambda d: d.where(d.dt.day <= 12, d - pd.to_timedelta(d.dt.day - 1, "D")).dt.strftime(
                "%d/%m/%Y"
            )
        ),
        None,
        1,
        ["'profile_date'", "both as day/month", "date_format"],
    ),
    (
        "dates mixed order",
        lambda f: _dates(lambda d: d.dt.strftime("%d/%m/%Y"))(f).pipe(
            lambda g: g.assign(profile_date=g["profile_date"].where(g.index % 2 == 0, "12/31/2014"))
        ),
        None,
        1,
        ["'profile_date'", "sometimes day first"],
    ),
    (
        "dates wrong format",
        _dates(lambda d: d.dt.strftime("%Y-%m-%d")),
        "date_format = '%d/%m/%Y'",
        1,
        ["'profile_date'", "'%d/%m/%Y'"],
    ),
    ("outcome missing", _set("escalated", np.nan), None, 1, ["'escalated'", "missing"]),
    ("outcome 2", _set("escalated", 2), None, 1, ["'escalated'", "binary"]),
    ("outcome text", _set("escalated", "yes"), None, 1, ["'escalated'", "binary"]),
    (
        "outcome one class",
        lambda f: f.assign(escalated=0, outcome_level="none"),
        None,
        1,
        ["'escalated'", "one class"],
    ),
    (
        "outcome absent",
        lambda f: f.drop(columns="escalated"),
        None,
        1,
        ["'escalated'", "not in the data"],
    ),
    (
        "level unknown",
        _set("outcome_level", "foster"),
        None,
        1,
        ["'outcome_level'", "unknown outcome levels"],
    ),
    (
        "level disagrees",
        lambda f: f.assign(outcome_level="none"),
        None,
        1,
        ["'outcome_level'", "disagrees"],
    ),
    (
        "outcome copy as feature",
        lambda f: f.assign(copy=f["escalated"]),
        "household = ['lone_parent', 'copy']",
        1,
        ["'copy'", "leakage"],
    ),
    (
        "identifier as feature",
        lambda f: f.assign(rowid=np.arange(len(f))),
        "area_factors = ['rural', 'rowid']",
        1,
        ["'rowid'", "identifier"],
    ),
    (
        "authority case variants",
        lambda f: f.assign(
            authority_code=f["authority_code"]
            .astype(str)
            .where(f.index % 3 != 0, f["authority_code"].astype(str).str.lower())
        ),
        None,
        1,
        ["'authority_code'", "more than one way"],
    ),
    (
        "authority trailing space",
        lambda f: f.assign(
            authority_code=f["authority_code"]
            .astype(str)
            .where(f.index % 3 != 0, f["authority_code"].astype(str) + " ")
        ),
        None,
        1,
        ["'authority_code'", "more than one way"],
    ),
    (
        "ethnicity case variants",
        lambda f: f.assign(
            child_ethnicity=f["child_ethnicity"]
            .astype(str)
            .where(f.index % 2 == 0, f["child_ethnicity"].astype(str).str.upper())
        ),
        None,
        1,
        ["'child_ethnicity'", "more than one way"],
    ),
    (
        "role mapped twice",
        lambda f: f,
        "household = ['lone_parent', 'rural']",
        1,
        ["'rural'", "more than one role"],
    ),
    (
        "outcome mapped as feature",
        lambda f: f,
        "household = ['lone_parent', 'escalated']",
        1,
        ["'escalated'", "leakage"],
    ),
]

HANDLED = [
    ("uk dates", _dates(lambda d: d.dt.strftime("%d/%m/%Y")), None),
    (
        "uk dates with format",
        _dates(lambda d: d.dt.strftime("%d/%m/%Y")),
        "date_format = '%d/%m/%Y'",
    ),
    (
        "iso with mixed offsets",
        _dates(
            lambda d: (
                d.dt.strftime("%Y-%m-%dT12:00:00")
                + np.where(np.arange(len(d)) % 2, "+01:00", "-05:00")
            )
        ),
        None,
    ),
    ("missing ethnicity", _set("child_ethnicity", np.nan, slice(0, 40)), None),
    ("missing ward", _set("ward_code", np.nan, slice(0, 40)), None),
]


def _roles_file(tmp_path, extra):
    path = tmp_path / "roles.toml"
    path.write_text(f"[roles]\n{extra or ''}\n")
    return path


def _assert_clean(out, code, expected):
    assert code == expected, out
    assert "Traceback" not in out
    if expected:
        assert "Fix" in out


def _validate(tmp_path, frame, roles_extra, capsys):
    path = _csv(tmp_path, frame)
    args = ["validate", str(path), "--roles", str(_roles_file(tmp_path, roles_extra))]
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize(
    ("edit", "roles", "expected", "fragments"),
    [c[1:] for c in FRAME_CASES],
    ids=[c[0] for c in FRAME_CASES],
)
def test_a_malformed_extract_is_refused_with_the_column_and_the_fix(
    tmp_path, base, capsys, edit, roles, expected, fragments
):
    code, out = _validate(tmp_path, edit(base), roles, capsys)
    _assert_clean(out, code, expected)
    for fragment in fragments:
        assert fragment in out, (fragment, out)
    assert "FAM" not in out  # no family identifier is ever quoted


@pytest.mark.parametrize(("edit", "roles"), [c[1:] for c in HANDLED], ids=[c[0] for c in HANDLED])
def test_formats_that_can_be_read_for_certain_are_read(tmp_path, base, capsys, edit, roles):
    code, out = _validate(tmp_path, edit(base), roles, capsys)
    _assert_clean(out, code, 0)


def test_the_same_dates_give_the_same_split_whatever_their_format(base):
    from escalation_model.evaluation import temporal_split
    from escalation_model.schema import ColumnRoles

    uk = base.assign(profile_date=pd.to_datetime(base["profile_date"]).dt.strftime("%d/%m/%Y"))
    a = temporal_split(base, ColumnRoles())
    b = temporal_split(uk, ColumnRoles())
    np.testing.assert_array_equal(a.test, b.test)
    np.testing.assert_array_equal(a.train, b.train)


# ---------------------------------------------------------------- files


def _file_case(name):
    def make(tmp_path, frame):
        if name == "duplicate header":
            text = frame.head(50).to_csv(index=False).replace("rural", "lone_parent", 1)
            (tmp_path / "d.csv").write_text(text)
            return tmp_path / "d.csv"
        if name == "empty file":
            (tmp_path / "d.csv").write_text("")
            return tmp_path / "d.csv"
        if name == "blank lines":
            (tmp_path / "d.csv").write_text("\n\n\n")
            return tmp_path / "d.csv"
        if name == "header only":
            (tmp_path / "d.csv").write_text(",".join(frame.columns) + "\n")
            return tmp_path / "d.csv"
        if name == "ragged rows":
            text = frame.head(50).to_csv(index=False) + "1,2,3," + ",".join(["9"] * 60) + "\n"
            (tmp_path / "d.csv").write_text(text)
            return tmp_path / "d.csv"
        if name == "latin-1":
            f = frame.assign(child_ethnicity=frame["child_ethnicity"].astype(str) + "é")
            f.to_csv(tmp_path / "d.csv", index=False, encoding="latin-1")
            return tmp_path / "d.csv"
        if name == "binary garbage":
            (tmp_path / "d.csv").write_bytes(bytes(range(256)) * 10)
            return tmp_path / "d.csv"
        if name == "xlsx":
            (tmp_path / "d.xlsx").write_bytes(b"PK\x03\x04")
            return tmp_path / "d.xlsx"
        if name == "broken parquet":
            (tmp_path / "d.parquet").write_bytes(b"PAR1 not really")
            return tmp_path / "d.parquet"
        if name == "gzip as csv":
            import gzip

            (tmp_path / "d.csv").write_bytes(gzip.compress(frame.head(50).to_csv().encode()))
            return tmp_path / "d.csv"
        if name == "xlsx as csv":
            (tmp_path / "d.csv").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
            return tmp_path / "d.csv"
        if name == "title above header":
            text = "Extract produced 01/12/2026\n" + frame.head(50).to_csv(index=False)
            (tmp_path / "d.csv").write_text(text)
            return tmp_path / "d.csv"
        raise AssertionError(name)

    return make


FILE_CASES = [
    ("duplicate header", 1, ["d.csv", "repeats the column name", "lone_parent"]),
    ("empty file", 1, ["d.csv", "empty"]),
    ("blank lines", 1, ["d.csv", "empty"]),
    ("header only", 1, ["no rows"]),
    ("ragged rows", 1, ["d.csv", "cannot be read as a table"]),
    ("latin-1", 1, ["d.csv", "UTF-8"]),
    ("binary garbage", 1, ["d.csv"]),
    ("xlsx", 1, ["d.xlsx", "unsupported file type"]),
    ("broken parquet", 1, ["d.parquet", "not a readable Parquet"]),
    ("gzip as csv", 1, ["d.csv", "gzip-compressed, not a CSV file"]),
    ("xlsx as csv", 1, ["d.csv", "an .xlsx workbook is one"]),
    ("title above header", 1, ["d.csv", "line 1 looks like a title", "delete the lines"]),
]


@pytest.mark.parametrize(
    ("name", "expected", "fragments"), FILE_CASES, ids=[c[0] for c in FILE_CASES]
)
def test_a_file_that_cannot_be_read_is_refused_by_name(
    tmp_path, base, capsys, name, expected, fragments
):
    path = _file_case(name)(tmp_path, base)
    code = main(["validate", str(path)])
    captured = capsys.readouterr()
    out = captured.out + captured.err
    _assert_clean(out, code, expected)
    for fragment in fragments:
        assert fragment in out, (fragment, out)


def test_a_missing_file_is_an_environment_problem(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_other_separators_are_read_and_said(tmp_path, base, capsys, sep):
    path = _csv(tmp_path, base, sep=sep)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "separated by" in out and "no problems found" in out


def test_leading_zeros_are_kept_so_wards_stay_apart(tmp_path, base):
    from escalation_model.datasets import read_families

    f = base.copy()
    f["ward_code"] = np.where(np.arange(len(f)) % 2, "0001", "01")
    frame = read_families(_csv(tmp_path, f))
    assert set(frame["ward_code"]) == {"0001", "01"}


# ---------------------------------------------------------------- roles files

ROLES_CASES = [
    (
        "table for a list role",
        "[roles]\nthink_family = { a = 'domestic_abuse', b = 'workless' }\n",
        1,
        ["roles.toml", "expected a list"],
    ),
    ("malformed toml", "[roles\nfamily_id = 'x'\n", 1, ["roles.toml", "not valid TOML"]),
    ("unknown role", "[roles]\nfamily = 'x'\n", 1, ["roles.toml", "unknown role"]),
    (
        "list for a single role",
        "[roles]\noutcome = ['a', 'b']\n",
        1,
        ["roles.toml", "one column name"],
    ),
    ("number for a column", "[roles]\noutcome = 3\n", 1, ["roles.toml", "one column name"]),
    ("no roles table", "[role]\noutcome = 'x'\n", 1, ["roles.toml", "[roles]"]),
    ("roles not a table", "roles = 'x'\n", 1, ["roles.toml", "table"]),
    ("date format not text", "[roles]\ndate_format = 5\n", 1, ["roles.toml", "date_format"]),
    (
        "date format that reads nothing",
        "[roles]\ndate_format = '%Q-%d'\n",
        1,
        ["roles.toml", "'Q' is a bad directive", "Fix:"],
    ),
    (
        "no indicators",
        "[roles]\nthink_family = []\nsecondary = []\n",
        1,
        ["no Think Family or secondary indicator", "Fix:"],
    ),
]


@pytest.mark.parametrize(
    ("text", "expected", "fragments"), [c[1:] for c in ROLES_CASES], ids=[c[0] for c in ROLES_CASES]
)
def test_a_broken_roles_file_is_refused_by_name(tmp_path, base, capsys, text, expected, fragments):
    roles = tmp_path / "roles.toml"
    roles.write_text(text)
    code = main(["validate", str(_csv(tmp_path, base)), "--roles", str(roles)])
    captured = capsys.readouterr()
    out = captured.err + captured.out  # problems in the data are listed on standard output
    _assert_clean(out, code, expected)
    for fragment in fragments:
        assert fragment in out, (fragment, out)


def test_a_missing_roles_file_is_an_environment_problem(tmp_path, base, capsys):
    assert main(["validate", str(_csv(tmp_path, base)), "--roles", "nope.toml"]) == 2
    assert "nope.toml" in capsys.readouterr().err


# ---------------------------------------------------------------- configurations

CONFIG_CASES = [
    ("unknown key", "[data]\nn_familes = 10\n", ["n_familes"]),
    ("wrong type", "[data]\nn_families = 'many'\n", ["n_families"]),
    ("bool for a number", "[evaluation]\nn_bootstrap = true\n", ["n_bootstrap"]),
    ("file without path", "[data]\nsource = 'file'\n", ["path"]),
    ("unknown source", "[data]\nsource = 'sql'\n", ["source"]),
    ("unknown table", "[modle]\n", ["modle"]),
    ("malformed toml", "[data\n", ["not valid TOML"]),
    ("flat intersections", "[fairness]\nintersections = ['child_ethnicity']\n", ["intersections"]),
    (
        "single intersection",
        "[fairness]\nintersections = [['child_ethnicity']]\n",
        ["intersections"],
    ),
    ("hyperparameter typo", "[models]\nlightgbm = { n_estimator = 10 }\n", ["n_estimator"]),
    ("logistic typo", "[models]\nlogistic = { c = 1.0 }\n", ["'c'"]),
    ("capacity zero", "[evaluation]\ncapacity = 0\n", ["capacity"]),
    ("capacity one family", "[evaluation]\ncapacity = 1\n", ["at least 10 places"]),
    ("capacity not whole", "[evaluation]\ncapacity = 1.5\n", ["whole number"]),
    ("capacity infinite", "[evaluation]\ncapacity = inf\n", ["capacity"]),
    ("confidence above one", "[evaluation]\nconfidence = 1.5\n", ["confidence"]),
    ("no resamples", "[evaluation]\nn_bootstrap = 0\n", ["n_bootstrap"]),
    ("no families", "[data]\nn_families = 0\n", ["n_families"]),
    ("negative horizon", "[split]\nhorizon_days = -5\n", ["horizon_days"]),
    ("bad test start", "[split]\ntest_start = 'soon'\n", ["test_start"]),
    (
        "risk reduction above one",
        "[population]\nrisk_reduction = { low = 1.5 }\n",
        ["risk_reduction"],
    ),
    ("negative cost", "[population]\nunit_costs = { escalation = -1.0 }\n", ["unit_costs"]),
    ("unknown criterion", "[fairness]\nprioritised = 'accuracy'\n", ["prioritised"]),
    ("output not a folder name", "[output]\ndir = 3\n", ["dir"]),
    ("unknown output key", "[output]\nfolder = 'x'\n", ["[output]"]),
    ("disclosure looser than 10", "[disclosure]\nmin_cell = 5\n", ["min_cell"]),
    ("rounding not a multiple of 5", "[disclosure]\nround_to = 7\n", ["round_to"]),
]


@pytest.mark.parametrize(
    ("text", "fragments"), [c[1:] for c in CONFIG_CASES], ids=[c[0] for c in CONFIG_CASES]
)
def test_a_malformed_configuration_is_refused_before_any_data_is_read(
    tmp_path, capsys, monkeypatch, text, fragments
):
    from escalation_model.study import _study

    def no_data(*a, **k):  # the configuration is refused before data is generated or read
        raise AssertionError("data was loaded")

    monkeypatch.setattr(_study, "make_synthetic_population", no_data)
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "run.toml"
    cfg.write_text(text)
    code = main(["run", "--config", str(cfg), "--output", "o"])
    err = capsys.readouterr().err
    _assert_clean(err, code, 1)
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    assert not (tmp_path / "o").exists() and not (tmp_path / "mlflow.db").exists()


# ---------------------------------------------------------------- runs refused before work


def _run(tmp_path, data, *extra, roles=None):
    cfg = tmp_path / "run.toml"
    text = f"[data]\nsource = 'file'\npath = '{data}'\n"
    if roles:
        text += f"roles = '{roles}'\n"
    cfg.write_text(text + "[evaluation]\nn_bootstrap = 30\n[explain]\nsample_size = 500\n")
    return ["run", "--config", str(cfg), "--output", str(tmp_path / "o"), *extra]


def test_too_few_families_are_refused_at_the_plan(tmp_path, base, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = _csv(tmp_path, base.sample(60, random_state=1))
    assert main(_run(tmp_path, path)) == 1
    err = capsys.readouterr().err
    assert "a study needs at least" in err and "Fix" in err
    assert not (tmp_path / "o").exists() and not (tmp_path / "mlflow.db").exists()


def test_bad_card_fields_are_refused_before_work(tmp_path, base, capsys):
    fields = tmp_path / "card.toml"
    fields.write_text("[card]\nowner = 'x'\nbudget = 5\n")
    assert (
        main([*_run(tmp_path, _csv(tmp_path, base)), "--no-tracking", "--card-fields", str(fields)])
        == 1
    )
    err = capsys.readouterr().err
    assert "budget" in err and "Fix" in err
    assert not (tmp_path / "o").exists()


def test_a_folder_holding_user_files_is_refused_before_work(tmp_path, base, capsys):
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "notes.txt").write_text("mine")
    assert main([*_run(tmp_path, _csv(tmp_path, base)), "--no-tracking"]) == 2
    assert "did not write" in capsys.readouterr().err
    assert (tmp_path / "o" / "notes.txt").read_text() == "mine"
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["notes.txt"]


def test_an_unwritable_output_is_found_before_work(tmp_path, base, capsys, monkeypatch):
    from escalation_model.study import _study

    monkeypatch.setattr(_study, "run_study", lambda *a, **k: pytest.fail("work started"))
    (tmp_path / "afile").write_text("x")
    args = _run(tmp_path, _csv(tmp_path, base))
    args[args.index("--output") + 1] = str(tmp_path / "afile" / "out")
    assert main([*args, "--no-tracking"]) == 2
    assert "Fix" in capsys.readouterr().err


def test_an_output_that_is_a_file_is_refused(tmp_path, base, capsys):
    (tmp_path / "o").write_text("x")
    assert main([*_run(tmp_path, _csv(tmp_path, base)), "--no-tracking"]) == 2
    assert "is a file" in capsys.readouterr().err


def test_a_store_that_cannot_be_created_is_one_line(tmp_path, base, capsys):
    (tmp_path / "afile").write_text("x")
    uri = f"sqlite:///{tmp_path / 'afile' / 'mlflow.db'}"
    assert main([*_run(tmp_path, _csv(tmp_path, base)), "--tracking-uri", uri]) == 2
    err = capsys.readouterr().err
    assert "tracking store" in err and "Fix" in err and err.strip().count("\n") == 0
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------- score


def test_score_refuses_a_file_that_is_not_a_model(tmp_path, base, capsys):
    model = tmp_path / "model.skops"
    model.write_text("not a model")
    args = ["score", "--model", str(model), "--data", str(_csv(tmp_path, base))]
    assert main([*args, "--output", str(tmp_path / "s")]) == 2
    assert "not a model file" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_score_refuses_a_negative_capacity(tmp_path, base, capsys):
    args = ["score", "--model", "x.skops", "--data", str(_csv(tmp_path, base)), "--capacity", "-1"]
    assert main(args) in (1, 2)
    assert "capacity" in capsys.readouterr().err


def test_generate_refuses_no_families(tmp_path, capsys):
    assert main(["generate", str(tmp_path / "p.csv"), "--n-families", "0"]) == 1
    assert "n_families" in capsys.readouterr().err


# ---------------------------------------------------------------- data that used to fail late


def _late_run(tmp_path, frame, capsys):
    args = [*_run(tmp_path, _csv(tmp_path, frame)), "--no-tracking"]
    code = main(args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.err
    import json

    return json.loads((tmp_path / "o" / "summary.json").read_text()), captured.out


def test_a_small_council_runs_and_says_what_it_skipped(tmp_path, capsys):
    # 3,000 families: a group with no escalation in the mitigation sample used to crash
    # inside fairlearn after fitting
    frame = make_synthetic_population(3000, random_state=0).frame
    summary, out = _late_run(tmp_path, frame, capsys)
    assert "skipped: mitigation comparison" in out
    assert any("mitigation comparison" in n for n in summary["notes"])
    assert summary["fairness"]["mitigation"] is None


def test_a_single_authority_runs_without_the_transfer_check(tmp_path, capsys):
    frame = make_synthetic_population(6000, n_authorities=1, random_state=2).frame
    summary, out = _late_run(tmp_path, frame, capsys)
    assert "skipped: leave-one-authority-out check" in out
    assert summary["models"]["transfer"] == []


def test_only_an_id_a_date_indicators_and_an_outcome_runs_end_to_end(tmp_path, capsys):
    frame = make_synthetic_population(8000, random_state=3).frame
    keep = ["family_id", "profile_date", "no_parent_in_work", "domestic_abuse", "substance_misuse"]
    small = frame[[*keep, "escalated"]].rename(columns={"escalated": "Esc"})
    small["profile_date"] = pd.to_datetime(small["profile_date"]).dt.strftime("%d/%m/%Y")
    roles = tmp_path / "roles.toml"
    roles.write_text(
        "[roles]\nthink_family = ['no_parent_in_work', 'domestic_abuse', 'substance_misuse']\n"
        "area = []\nsecondary = []\nhousehold = []\ndeprivation = ''\narea_factors = []\n"
        "protected = []\noutcome = 'Esc'\noutcome_level = ''\n"
    )
    args = [*_run(tmp_path, _csv(tmp_path, small), roles=roles), "--no-tracking"]
    assert main(args) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    for skipped in ("area-based targeting rule", "fairness audit", "leave-one-authority-out"):
        assert f"skipped: {skipped}" in out or f"skipped: the {skipped}" in out
    strategies = pd.read_csv(tmp_path / "o" / "strategies.csv")
    assert "area" not in set(strategies["strategy"])

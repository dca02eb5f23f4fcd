"""Renaming invariance: a council's own column names and UK dates give the same study."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from escalation_model.config import (
    EvaluationConfig,
    ExplainConfig,
    FairnessConfig,
    PopulationConfig,
    RunConfig,
    SplitConfig,
)
from escalation_model.datasets import fingerprint, make_synthetic_population
from escalation_model.schema import ColumnRoles
from escalation_model.study import StudyData, run_study


def _camel(name: str) -> str:
    return "Ext" + "".join(part.capitalize() for part in name.split("_"))


def _renamed_roles(roles: ColumnRoles) -> ColumnRoles:
    mapping = {}
    for key, value in roles.to_dict().items():
        if key in ("date_format", "labels", "lone_parent"):
            continue
        if isinstance(value, list):
            mapping[key] = [_camel(v) for v in value]
        elif value:
            mapping[key] = _camel(value)
    mapping["date_format"] = "%d/%m/%Y"
    mapping["lone_parent"] = _camel(roles.lone_parent)
    # the analyst's own labels: here, the library's labels for the default names
    mapping["labels"] = {_camel(c): roles.label(c) for c in roles.columns()}
    return ColumnRoles.from_dict(mapping)


def _config(names: dict[str, str]) -> RunConfig:
    return RunConfig(
        split=SplitConfig(transfer_n_bootstrap=20, transfer_max_train=5000),
        evaluation=EvaluationConfig(n_bootstrap=50),
        fairness=FairnessConfig(
            intersections=[[names["child_ethnicity"], "deprivation_quintile"]],
            mitigation_characteristic=names["child_ethnicity"],
        ),
        population=PopulationConfig(
            groupings=["area", "deprivation_quintile", "n_think_family_band", "family_type"]
        ),
        explain=ExplainConfig(sample_size=1000, interaction_sample=200),
    )


def _numbers(value, path=""):
    """Every number in a summary, by its path (names of columns stripped from keys)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _numbers(v, f"{path}/{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _numbers(v, f"{path}/{i}")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield path, value


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    pop = make_synthetic_population(30_000, random_state=13)
    roles = pop.roles
    names = {c: _camel(c) for c in roles.columns()}
    renamed = pop.frame.rename(columns=names)
    date_col = names[roles.profile_date]
    renamed[date_col] = pd.to_datetime(renamed[date_col]).dt.strftime("%d/%m/%Y")
    new_roles = _renamed_roles(roles)
    out = {}
    for key, frame, r, cfg in (
        ("default", pop.frame, roles, _config({c: c for c in names})),
        ("renamed", renamed, new_roles, _config(names)),
    ):
        data = StudyData(frame, r, "extract", fingerprint(frame), oracle=pop.oracle)
        result = run_study(cfg, data)
        folder = tmp_path_factory.mktemp(key)
        result.write(folder)
        out[key] = (result, folder, names)
    return out


def test_every_number_in_the_summary_is_the_same(runs):
    a = json.loads((runs["default"][1] / "summary.json").read_text())
    b = json.loads((runs["renamed"][1] / "summary.json").read_text())
    for section in ("data", "config", "model_file"):  # names, paths and the model's bytes
        a.pop(section), b.pop(section)
    na, nb = dict(_numbers(a)), dict(_numbers(b))
    assert len(na) > 500
    names = runs["default"][2]

    assert {_rename(k, names): v for k, v in na.items()} == nb


def _rename(text: str, names: dict[str, str]) -> str:
    for old, new in sorted(names.items(), key=lambda kv: -len(kv[0])):
        text = re.sub(rf"(?<![A-Za-z_]){old}(?![A-Za-z_])", new, text)
        text = text.replace(f"plots/funnel_{old}.png", f"plots/funnel_{new}.png")  # file names
    return text


def test_every_analysis_that_ran_on_default_names_ran(runs):
    ra, rb = runs["default"][0], runs["renamed"][0]
    names = runs["default"][2]

    def table(name: str) -> str:
        for old, new in names.items():
            name = name.replace(f"_by_{old}.csv", f"_by_{new}.csv")
        return name

    assert sorted(table(n) for n in ra.population) == sorted(rb.population)
    assert ra.notes == rb.notes
    assert ra.transfer is not None and rb.transfer is not None
    assert ra.mitigation is not None and rb.mitigation is not None
    renamed = [_rename(c, names) for c in ra.fairness.characteristics]
    assert renamed == rb.fairness.characteristics
    assert "lone_parent" in ra.fairness.characteristics
    assert "population_by_family_type.csv" in rb.population


def test_the_card_differs_only_in_column_names(runs):
    """Line by line, after writing the default names as the renamed ones. The data's
    fingerprint differs (other bytes); the variables table's role and source cells are
    left out (a role is spelt like its default column; the library knows the source of
    its own default variables only)."""
    names = dict(runs["default"][2])
    prose = {k: v for k, v in names.items() if k != "rural"}  # also an English word

    def lines(text: str, mapping: dict[str, str]) -> list[str]:
        out = []
        for line in _rename(text, mapping).split("\n"):
            if "fingerprint" in line:
                continue
            if line.startswith("| Ext") or line.startswith("| rural |"):  # variables table
                cells = line.split(" | ")
                first = cells[0].removeprefix("| ")
                line = " | ".join(["| " + names.get(first, first), cells[2], cells[-1]])
            out.append(line)
        return out

    a = lines((runs["default"][1] / "model_card.md").read_text(), prose)
    b = lines((runs["renamed"][1] / "model_card.md").read_text(), {})
    diff = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    assert diff == []

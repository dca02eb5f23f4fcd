from __future__ import annotations

import pytest

from escalation_model.schema import (
    PROTECTED,
    REGISTRY,
    THINK_FAMILY,
    ColumnRoles,
    RoleError,
    label_for,
)


def test_default_roles_read_the_registry():
    roles = ColumnRoles()
    assert roles.think_family == tuple(v.name for v in THINK_FAMILY)
    assert len(roles.think_family) == 10
    assert len(roles.secondary) == 6
    assert roles.indicators() == roles.think_family + roles.secondary


def test_protected_are_features_only_on_request():
    roles = ColumnRoles()
    feats = roles.features()
    assert not set(feats) & {v.name for v in PROTECTED}
    assert set(roles.features(include_protected=True)) >= {v.name for v in PROTECTED}
    assert "family_id" not in feats and "escalated" not in feats
    assert "deprivation_decile" in feats


def test_roles_from_toml(tmp_path):
    path = tmp_path / "roles.toml"
    path.write_text(
        '[roles]\nfamily_id = "Ref"\nthink_family = ["A", "B"]\nprotected = []\n'
        'outcome_level = ""\n'
    )
    roles = ColumnRoles.from_toml(path)
    assert roles.family_id == "Ref"
    assert roles.think_family == ("A", "B")
    assert roles.protected == ()
    assert roles.outcome_level is None
    assert roles.outcome == "escalated"  # untouched roles keep their defaults


def test_unknown_role_names_the_role_and_the_fix(tmp_path):
    path = tmp_path / "roles.toml"
    path.write_text('[roles]\nthinkfamily = ["A"]\n')
    with pytest.raises(RoleError, match=r"thinkfamily.*Fix"):
        ColumnRoles.from_toml(path)


def test_missing_roles_table(tmp_path):
    path = tmp_path / "roles.toml"
    path.write_text('family_id = "x"\n')
    with pytest.raises(RoleError, match=r"\[roles\]"):
        ColumnRoles.from_toml(path)


def test_non_string_column_is_refused():
    with pytest.raises(RoleError, match="think_family"):
        ColumnRoles(think_family=("a", 3))  # type: ignore[arg-type]


def test_duplicated_assignments_are_reported():
    roles = ColumnRoles(household=("lone_parent", "domestic_abuse"))
    assert roles.duplicated_assignments() == {"domestic_abuse": ["think_family", "household"]}


def test_labels_come_from_the_registry():
    assert label_for("substance_misuse") == "Substance misuse"
    assert REGISTRY["lone_parent"].source.startswith("Bebbington")
    assert label_for("unknown_col") == "unknown_col"


def test_shipped_analyst_example_roles_load():
    from pathlib import Path

    from escalation_model.config import load_config

    root = Path(__file__).parents[2] / "training" / "configs"
    roles = ColumnRoles.from_toml(root / "analyst_roles.toml")
    assert roles.family_id == "FamilyRef" and len(roles.think_family) == 10
    assert not roles.duplicated_assignments()
    config = load_config(root / "analyst_example.toml")
    assert config.data.source == "file" and config.data.roles.endswith("analyst_roles.toml")

"""The prepare configuration: which files, which definitions, and the families table's roles."""

from __future__ import annotations

import glob
import tomllib
from os import PathLike
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..config import ConfigError
from ..schema import ColumnRoles, Problem, RoleError

__all__ = ["FAMILY_ROLES", "PrepareConfig", "families_roles", "load_prepare_config"]

#: The roles a families table may hold: the indicators come from the agency records
#: (the mapping file), the outcome from the returns.
FAMILY_ROLES = (
    "family_id",
    "profile_date",
    "area",
    "household",
    "deprivation",
    "area_factors",
    "protected",
    "lone_parent",
    "labels",
    "date_format",
)
_NOT_FAMILY_ROLES = {
    "think_family": "the indicators come from the agency records: map their codes in the "
    "mapping file's [indicators.NAME] tables",
    "secondary": "the indicators come from the agency records: map their codes in the "
    "mapping file's [indicators.NAME] tables",
    "outcome": "the outcome is derived from the returns; leave it out",
    "outcome_level": "the outcome is derived from the returns; leave it out",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class PrepareInputs(_Strict):
    """The files, relative to the TOML file (globs allowed for the returns)."""

    families: str
    membership: str
    records: str
    mapping: str
    coverage: str | None = None
    ssda903_episodes: list[str] = Field(default_factory=list)
    ssda903_header: list[str] = Field(default_factory=list)
    cin_census: list[str] = Field(default_factory=list)
    early_help: str | list[str] | None = None
    early_help_columns: dict[str, str] = Field(default_factory=dict)
    #: a profile followed by early help within this many months is a recipient's
    early_help_within_months: int = Field(3, ge=1, le=12)
    horizon_months: int = Field(12, ge=1, le=36)


class PrepareDefinitions(_Strict):
    exclude_short_breaks: bool = True
    child_in_need: Literal["referrals", "plans"] = "referrals"


class PrepareConfig(_Strict):
    """``[prepare]``, ``[definitions]`` and ``[roles]`` of a prepare TOML file.

    ``[roles]`` maps the families table's own column names onto the data contract's
    roles, as a roles file does for ``run`` (``family_id``, ``profile_date``, ``area``,
    ``household``, ``deprivation``, ``area_factors``, ``protected``, ``lone_parent``,
    ``labels``, ``date_format``). A role not named there takes the column of its default
    name where the families table has one, and is empty otherwise.
    """

    prepare: PrepareInputs
    definitions: PrepareDefinitions = Field(default_factory=PrepareDefinitions)
    roles: dict[str, Any] = Field(default_factory=dict)
    base: str = "."

    @field_validator("roles")
    @classmethod
    def _family_roles(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if key in _NOT_FAMILY_ROLES:
                raise ValueError(
                    f"roles.{key} is not a column of the families table: {_NOT_FAMILY_ROLES[key]}"
                )
            if key not in FAMILY_ROLES:
                raise ValueError(
                    f"roles.{key} is not a role of the families table; use "
                    f"{', '.join(FAMILY_ROLES)}"
                )
        try:
            ColumnRoles.from_dict(value)
        except RoleError as exc:
            raise ValueError(str(exc)) from None
        return value

    def has_returns(self) -> bool:
        """Whether any statutory return is named (the label needs one)."""
        return bool(self.prepare.ssda903_episodes or self.prepare.cin_census)

    def path(self, name: str) -> Path:
        return Path(self.base) / name

    def paths(self, patterns: str | list[str]) -> list[Path]:
        """The files each pattern matches, pattern by pattern, each sorted."""
        found: list[Path] = []
        for pattern in [patterns] if isinstance(patterns, str) else patterns:
            found += sorted(Path(p) for p in glob.glob(str(self.path(pattern))))
        return found

    def unmatched(self) -> list[Problem]:
        """A problem for every pattern of the returns and early help that matches no
        file (checked before anything is read)."""
        c = self.prepare
        early = [c.early_help] if isinstance(c.early_help, str) else c.early_help or []
        return [
            Problem(
                key,
                f"no file matches '{pattern}'",
                "check the path, which is relative to the prepare TOML file",
                file=str(self.path(pattern)),
            )
            for key, patterns in (
                ("ssda903_episodes", c.ssda903_episodes),
                ("ssda903_header", c.ssda903_header),
                ("cin_census", c.cin_census),
                ("early_help", early),
            )
            for pattern in patterns
            if not self.paths(pattern)
        ]


def load_prepare_config(path: str | PathLike[str]) -> PrepareConfig:
    """Read and check a prepare TOML file (unknown keys and wrong types refused, and a
    file that names no statutory return)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
        config = PrepareConfig.model_validate({**data, "base": str(path.parent)})
    except OSError as exc:
        raise ConfigError(f"cannot read {path} ({exc.strerror}). Fix: check the path.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}). Fix: correct the file.") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"{path}: '{key}': {first['msg']}. Fix: see training/configs/prepare_example.toml."
        ) from None
    if not config.has_returns():
        raise ConfigError(
            f"{path}: no statutory return is named, so no family can be labelled. Fix: name "
            "the SSDA903 episodes files (ssda903_episodes) or the CIN census files "
            "(cin_census) under [prepare]."
        )
    return config


def families_roles(roles: dict[str, Any], columns: list[str]) -> ColumnRoles:
    """The roles of a families table with ``columns``: the ``[roles]`` the analyst named,
    and for every other role of :data:`FAMILY_ROLES` the column of its default name where
    the table has one (empty where not). No indicator or outcome role.

    >>> r = families_roles({}, ["family_id", "profile_date", "ward_code"])
    >>> r.area, r.household, r.protected, r.think_family, r.outcome
    (('ward_code',), (), (), (), None)
    """
    default = ColumnRoles()
    there = set(columns)
    mapping: dict[str, Any] = {
        "think_family": [],
        "secondary": [],
        "outcome": None,
        "outcome_level": None,
    }
    for role in FAMILY_ROLES:
        if role in roles:
            mapping[role] = roles[role]
        elif role in ("labels", "date_format"):
            continue
        elif role == "lone_parent":
            mapping[role] = default.lone_parent if default.lone_parent in there else None
        else:
            value = getattr(default, role)
            if isinstance(value, tuple):
                mapping[role] = [c for c in value if c in there]
            else:
                mapping[role] = value if value in there else None
    if mapping.get("lone_parent") and mapping["lone_parent"] not in mapping.get("household", ()):
        mapping["lone_parent"] = None
    return ColumnRoles.from_dict(mapping)

"""Column roles: how an analyst's own column names map onto the data contract."""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from os import PathLike
from typing import Any

from .._errors import EscalationModelError
from ._registry import AREA_FACTORS, HOUSEHOLD, PROTECTED, SECONDARY, THINK_FAMILY

__all__ = ["ColumnRoles", "RoleError"]

_LIST_ROLES = (
    "area",
    "think_family",
    "secondary",
    "household",
    "area_factors",
    "protected",
)
_SINGLE_ROLES = (
    "family_id",
    "profile_date",
    "deprivation",
    "outcome",
    "outcome_level",
    "early_help",
    "early_help_outcome",
)


class RoleError(EscalationModelError):
    """A role mapping that cannot be used (unknown role, wrong type)."""


def _check_date_format(fmt: str) -> None:
    """Refuse a date format that cannot read back the dates it writes ('%Q-%d').

    >>> _check_date_format("%d/%m/%Y")
    >>> try:
    ...     _check_date_format("%Q-%d")
    ... except RoleError as exc:
    ...     print(str(exc)[:60])
    date_format = '%Q-%d' cannot read dates ('Q' is a bad direct
    """
    from datetime import datetime

    sample = datetime(2015, 12, 31)
    try:
        back = datetime.strptime(sample.strftime(fmt), fmt)
        if back.date() != sample.date():
            raise ValueError("it does not hold the day, month and year")
    except ValueError as exc:
        raise RoleError(
            f"date_format = {fmt!r} cannot read dates ({exc}). Fix: write it as a strftime "
            'format such as "%d/%m/%Y".'
        ) from None


@dataclass(frozen=True)
class ColumnRoles:
    """Map an analyst's column names onto the roles of the data contract.

    The defaults are the column names of the synthetic population. Any role may be
    left empty (``None`` or ``()``) where the analysis does not need it; the stages that
    need it then say so plainly.

    Parameters
    ----------
    family_id : str or None
        Pseudonymous family identifier. Never a feature, never exported.
    profile_date : str or None
        Date at which the family's indicators were recorded.
    area : tuple of str
        Geography, finest first (for example ward, then local authority).
    think_family, secondary, household : tuple of str
        Feature columns by role: indicators (0/1, missing = not known) and household factors.
    deprivation : str or None
        The area's deprivation decile, 1 = most deprived. A feature, and the basis of
        area-based targeting ("the most deprived wards" are deciles 1 and 2).
    area_factors : tuple of str
        Other area-level census factors (numeric).
    protected : tuple of str
        Characteristics audited for fairness; features only if the analyst opts in.
    outcome : str or None
        Binary escalation (1 = entered statutory care within the horizon).
    outcome_level : str or None
        Highest level reached (``none`` ... ``looked_after``); never a feature.
    early_help : str or None
        Whether the family received early help after its profile date (1) or not (0):
        the effect of early help is estimated where it is named (``escalation_model.
        impact``); never a feature. None by default.
    early_help_outcome : str or None
        The outcome the evaluation of early help counts (1, 0, or blank: left out):
        escalation within the horizon from the start of early help for recipients, and
        from a matched date for the others (``prepare`` writes it from an early-help
        export). None: the evaluation counts ``outcome`` from the profile date. Never a
        feature.
    date_format : str or None
        How the profile dates are written, as a ``strftime`` format (for example
        ``"%d/%m/%Y"``). Not a role: by default ISO dates are read, and day/month dates
        only where the column shows which field is the day.
    lone_parent : str or None
        Which ``household`` column flags a lone-parent household (the family type in
        tables, and a characteristic the fairness audit covers). Not a role of its own:
        it names one of the household columns.
    labels : dict of str to str
        Plain-English labels for the analyst's columns, used in tables, plots and the
        card (``[roles.labels]`` in TOML). A column without one is shown by the
        library's own label for its default name, or else by its name.
    area_names : dict of str to str
        The council's names for its area codes (``[roles.area_names]`` in TOML, for
        example ``E08000001 = "Bolton"``), shown beside the codes in tables, plots and
        the card. Optional; a code without a name is shown as the code.

    Examples
    --------
    >>> roles = ColumnRoles()
    >>> roles.outcome
    'escalated'
    >>> len(roles.features()) > 10
    True
    """

    family_id: str | None = "family_id"
    profile_date: str | None = "profile_date"
    area: tuple[str, ...] = ("ward_code", "authority_code")
    think_family: tuple[str, ...] = tuple(v.name for v in THINK_FAMILY)
    secondary: tuple[str, ...] = tuple(v.name for v in SECONDARY)
    household: tuple[str, ...] = tuple(v.name for v in HOUSEHOLD)
    deprivation: str | None = "deprivation_decile"
    area_factors: tuple[str, ...] = tuple(v.name for v in AREA_FACTORS if v.role == "area_factors")
    protected: tuple[str, ...] = tuple(v.name for v in PROTECTED)
    outcome: str | None = "escalated"
    outcome_level: str | None = "outcome_level"
    early_help: str | None = None
    early_help_outcome: str | None = None
    date_format: str | None = None
    lone_parent: str | None = "lone_parent"
    labels: dict[str, str] = field(default_factory=dict, compare=False)
    area_names: dict[str, str] = field(default_factory=dict, compare=False)
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in _LIST_ROLES:
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            if value is None:
                value = ()
            if not isinstance(value, list | tuple):
                raise RoleError(
                    f"role '{name}': expected a list of column names, got a "
                    f"{type(value).__name__} ({value!r}). Fix: write it as a list, for example "
                    f'{name} = ["ColumnA", "ColumnB"].'
                )
            if not all(isinstance(v, str) for v in value):
                raise RoleError(
                    f"role '{name}': every entry must be a column name (a string), got "
                    f"{list(value)!r}. Fix: list the column names as strings."
                )
            object.__setattr__(self, name, tuple(value))
        if self.lone_parent and self.lone_parent not in self.household:
            if self.lone_parent != "lone_parent":  # named, but not a household column
                raise RoleError(
                    f"lone_parent = {self.lone_parent!r} is not one of the household "
                    f"columns {list(self.household)}. Fix: add it to the household role, or "
                    "leave lone_parent empty."
                )
            object.__setattr__(self, "lone_parent", None)  # the default name is not mapped
        if not isinstance(self.labels, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.labels.items()
        ):
            raise RoleError(
                "labels must map column names to text. Fix: write them as a [roles.labels] "
                'table, for example WIMDDecile = "Deprivation decile".'
            )
        if not isinstance(self.area_names, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip()
            for k, v in self.area_names.items()
        ):
            raise RoleError(
                "area_names must map area codes to names (text). Fix: write them as a "
                '[roles.area_names] table, for example "E08000001" = "Bolton".'
            )
        for name in (*_SINGLE_ROLES, "date_format", "lone_parent"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise RoleError(
                    f"role '{name}': expected one column name (a string) or nothing, got "
                    f"{value!r}. Fix: give a single column name."
                )
        if self.date_format:
            _check_date_format(self.date_format)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_dict(cls, mapping: dict[str, Any]) -> ColumnRoles:
        """Build roles from a mapping of role name to column name(s).

        Roles not named keep their defaults; name a role with ``""`` or ``[]`` to say the
        data does not have it.
        """
        known = {f.name for f in fields(cls)} - {"extra"}
        unknown = sorted(set(mapping) - known)
        if unknown:
            raise RoleError(
                f"unknown role(s) {unknown}. Fix: use only these role names: {sorted(known)}."
            )
        clean: dict[str, Any] = {}
        for key, value in mapping.items():
            if key in (*_SINGLE_ROLES, "date_format", "lone_parent") and value == "":
                value = None
            clean[key] = value
        return cls(**clean)

    @classmethod
    def from_toml(cls, path: str | PathLike[str]) -> ColumnRoles:
        """Read roles from the ``[roles]`` table of a TOML file.

        Examples
        --------
        A file holding::

            [roles]
            family_id = "FamilyRef"
            outcome = "Escalated12m"
            think_family = ["Workless", "DomesticAbuse"]
        """
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise RoleError(
                f"roles file {path}: not valid TOML ({exc}). Fix: correct the syntax; see "
                "`escalation-model roles --template FILE` for a template."
            ) from None
        except UnicodeDecodeError:
            raise RoleError(f"roles file {path}: not UTF-8 text. Fix: save it as UTF-8.") from None
        if not isinstance(data.get("roles", {}), dict):
            raise RoleError(f"roles file {path}: 'roles' must be a table. Fix: use [roles].")
        if "roles" not in data:
            raise RoleError(
                f"{path}: no [roles] table. Fix: put the role mapping under a [roles] heading."
            )
        try:
            return cls.from_dict(data["roles"])
        except RoleError as exc:
            raise RoleError(f"roles file {path}: {exc}") from None

    # ------------------------------------------------------------------ views
    def to_dict(self) -> dict[str, Any]:
        """The mapping as plain data (for logging and the model card)."""
        out = asdict(self)
        out.pop("extra")
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    def label(self, column: str) -> str:
        """The plain-English label of a column: the analyst's, else the library's for a
        default name, else the name itself.

        >>> ColumnRoles(labels={"WIMD": "Deprivation decile"}).label("WIMD")
        'Deprivation decile'
        >>> ColumnRoles().label("domestic_abuse")
        'Domestic abuse'
        """
        from ._registry import label_for

        return self.labels.get(column) or label_for(column)

    def area_name(self, code: Any) -> str | None:
        """The council's name for an area code, if it gave one.

        >>> ColumnRoles(area_names={"LA03": "Northtown"}).area_name("LA03")
        'Northtown'
        >>> ColumnRoles().area_name("LA03") is None
        True
        """
        return self.area_names.get(str(code))

    def indicators(self) -> tuple[str, ...]:
        """Think Family and secondary indicators: the "vulnerability factors"."""
        return self.think_family + self.secondary

    def features(self, *, include_protected: bool = False) -> list[str]:
        """Columns a model may use, in a stable order.

        Protected characteristics are features only when ``include_protected=True``.
        """
        cols = [*self.think_family, *self.secondary, *self.household]
        if self.deprivation:
            cols.append(self.deprivation)
        cols += list(self.area_factors)
        if include_protected:
            cols += list(self.protected)
        return cols

    def assignments(self) -> list[tuple[str, str]]:
        """Every (role, column) pair of the mapping."""
        pairs: list[tuple[str, str]] = []
        for name in _SINGLE_ROLES:
            value = getattr(self, name)
            if value:
                pairs.append((name, value))
        for name in _LIST_ROLES:
            pairs.extend((name, col) for col in getattr(self, name))
        return pairs

    def columns(self) -> list[str]:
        """Every column the roles name, once each."""
        return list(dict.fromkeys(col for _, col in self.assignments()))

    def duplicated_assignments(self) -> dict[str, list[str]]:
        """Columns mapped to more than one role (or twice within one role)."""
        counts = Counter(col for _, col in self.assignments())
        return {
            col: [role for role, c in self.assignments() if c == col]
            for col, n in counts.items()
            if n > 1
        }

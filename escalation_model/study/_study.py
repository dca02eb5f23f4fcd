"""The study: one call from data to published aggregates.

Each stage is a function of the ones before it; later work adds stages (models, evaluation,
fairness, explanations, population tables, the model card) to :func:`run_study`.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from .._config import RunConfig
from .._limits import FIVE_OR_MORE
from ..datasets import fingerprint, make_synthetic_population, read_families
from ..population import DisclosureRules, count_indicators, profile_table
from ..schema import ColumnRoles, ValidationReport, validate

__all__ = ["StudyData", "StudyResult", "load_study_data", "run_study"]


@dataclass
class StudyData:
    """The families a study runs on, their roles and, on synthetic data, the oracle."""

    frame: pd.DataFrame
    roles: ColumnRoles
    source: str
    fingerprint: str
    oracle: pd.Series | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def is_synthetic(self) -> bool:
        return self.oracle is not None


@dataclass
class StudyResult:
    """What a study found, as aggregates only."""

    config: RunConfig
    data_source: str
    data_fingerprint: str
    is_synthetic: bool
    validation: ValidationReport
    overview: dict[str, Any]
    profile: pd.DataFrame
    disclosure: DisclosureRules = field(default_factory=DisclosureRules)

    def summary(self) -> dict[str, Any]:
        """The machine-readable summary written as ``summary.json``."""
        return {
            "escalation_model_version": __version__,
            "python": platform.python_version(),
            "data": {
                "source": self.data_source,
                "synthetic": self.is_synthetic,
                "fingerprint_sha256": self.data_fingerprint,
                "missing_share": self.validation.missing_share,
                "warnings": [str(w) for w in self.validation.warnings],
            },
            "config": self.config.to_dict(),
            "overview": self.overview,
            "disclosure_control": self.disclosure.describe(),
        }

    def write(self, folder: str | Path) -> list[Path]:
        """Write the summary and tables into ``folder`` (which must already be prepared)."""
        folder = Path(folder)
        written = []
        path = folder / "summary.json"
        path.write_text(json.dumps(self.summary(), indent=2, default=str) + "\n", "utf-8")
        written.append(path)
        path = folder / "profile_table.csv"
        self.profile.to_csv(path, index=False, float_format="%.4f")
        written.append(path)
        return written

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        o = self.overview
        return (
            f"<b>escalation_model study</b> on {o['families']:,.0f} families "
            f"({'synthetic' if self.is_synthetic else 'analyst data'}); escalation rate "
            f"{o['escalation_rate']:.1%}; {o['share_five_plus']:.1%} with "
            f"{FIVE_OR_MORE}+ Think Family indicators."
        )


def load_study_data(config: RunConfig) -> StudyData:
    """Generate or read the families named by the configuration (no validation yet)."""
    d = config.data
    if d.source == "synthetic":
        pop = make_synthetic_population(
            d.n_families, n_authorities=d.n_authorities, random_state=d.seed
        )
        return StudyData(
            frame=pop.frame,
            roles=pop.roles,
            source=f"synthetic population ({d.n_families:,} families, seed {d.seed})",
            fingerprint=fingerprint(pop.frame),
            oracle=pop.oracle,
            options=pop.options,
        )
    roles = ColumnRoles.from_toml(d.roles) if d.roles else ColumnRoles()
    frame = read_families(str(d.path))
    return StudyData(
        frame=frame,
        roles=roles,
        source=f"analyst file {Path(str(d.path)).name}",
        fingerprint=fingerprint(frame),
    )


def _rounded(value: int, rules: DisclosureRules) -> float | None:
    if value < rules.min_cell:
        return None
    return float(round(value / rules.round_to) * rules.round_to)


def run_study(config: RunConfig, data: StudyData | None = None) -> StudyResult:
    """Run the study described by ``config``.

    Parameters
    ----------
    config : RunConfig
    data : StudyData, optional
        Already loaded data; by default the data named in the configuration.

    Returns
    -------
    StudyResult
        Aggregates only: no identifier or individual score leaves this function.
    """
    data = data if data is not None else load_study_data(config)
    report = validate(data.frame, data.roles)
    rules = DisclosureRules()
    frame, roles = data.frame, data.roles
    n_tf = count_indicators(frame, roles.think_family)
    n = len(frame)
    overview: dict[str, Any] = {
        "families": _rounded(n, rules),
        "escalation_rate": float(frame[roles.outcome].mean()) if roles.outcome else None,
        "share_five_plus": float((n_tf >= FIVE_OR_MORE).mean()),
        "families_five_plus": _rounded(int((n_tf >= FIVE_OR_MORE).sum()), rules),
    }
    if roles.deprivation:
        deprived = (frame[roles.deprivation] <= 2).to_numpy()
        five = (n_tf >= FIVE_OR_MORE).to_numpy()
        if five.sum() >= rules.min_cell:
            overview["share_five_plus_outside_most_deprived"] = float(1 - deprived[five].mean())
        if deprived.sum() >= rules.min_cell:
            overview["share_five_plus_inside_most_deprived"] = float(five[deprived].mean())
    if data.oracle is not None:
        overview["oracle_mean_probability"] = float(data.oracle.mean())
    profile = profile_table(frame, roles, rules=rules)
    return StudyResult(
        config=config,
        data_source=data.source,
        data_fingerprint=data.fingerprint,
        is_synthetic=data.is_synthetic,
        validation=report,
        overview=overview,
        profile=profile,
        disclosure=rules,
    )

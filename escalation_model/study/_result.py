"""What a study found: the result object, its summary and its published outputs."""

from __future__ import annotations

import dataclasses
import math
import platform
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from .._limits import FIVE_OR_MORE
from .._provenance import code_version
from .._publish import publish_figure
from ..config import RunConfig
from ..evaluation import ORACLE, ModelComparison, Split
from ..fairness import FairnessAudit
from ..population import DisclosureRules, EntryHistory, Handover, publish_count, publish_share
from ..population._plots import funnel_counts
from ..reporting._summary import (
    CapacityCurve,
    DataSection,
    DisclosureSection,
    ExplanationsSection,
    FairnessSection,
    ImpactSection,
    LookedAfterSection,
    ModelFile,
    ModelsSection,
    MonitoringSection,
    PopulationSection,
    RolloutSection,
    StudySummary,
)
from ..schema import ColumnRoles, ValidationReport
from ._write import MODEL_FILE, write_outputs

__all__ = ["MODEL_FILE", "StudyData", "StudyResult"]


@dataclass(eq=False)
class StudyData:
    """The families a study runs on, their roles and, on synthetic data, the oracle."""

    frame: pd.DataFrame
    roles: ColumnRoles
    source: str
    fingerprint: str
    oracle: pd.Series | None = None
    options: dict[str, Any] = field(default_factory=dict)
    preparation: list[str] = field(default_factory=list)
    oracle_looked_after: pd.Series | None = None
    entry_history: EntryHistory | None = None

    def __post_init__(self) -> None:
        if re.fullmatch("[0-9a-f]{64}", self.fingerprint) is None:
            raise ValueError(
                "StudyData.fingerprint must be the data's SHA-256 as 64 hex digits. Fix: "
                "pass escalation_model.datasets.fingerprint(frame), or load the data with "
                "escalation_model.study.load_study_data."
            )

    @property
    def is_synthetic(self) -> bool:
        return self.oracle is not None


def _highest(table: pd.DataFrame, by: str, column: str, n: int = 5) -> list[dict[str, Any]]:
    """The ``n`` areas with the most expected escalations: per 1,000 families
    (``column="per_1000"``) or in total (``"expected"``), with their ranges."""
    cols = [by, "families", "expected", "expected_lower", "expected_upper"]
    cols += ["per_1000", "per_1000_lower", "per_1000_upper"]
    if not set(cols) <= set(table.columns):
        return []
    top = table.dropna(subset=[column]).sort_values([column, by], ascending=[False, True])
    return top[cols].head(n).to_dict(orient="records")


@dataclass(eq=False)
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
    split: Split | None = None
    comparison: ModelComparison | None = None
    models: dict[str, Any] = field(default_factory=dict)
    odds_ratios: pd.DataFrame | None = None
    transfer: pd.DataFrame | None = None
    fairness: FairnessAudit | None = None
    mitigation: pd.DataFrame | None = None
    population: dict[str, pd.DataFrame] = field(default_factory=dict)
    roles: ColumnRoles | None = None
    explanation: Any = None
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    settings_in_run: dict[str, str] = field(default_factory=dict)
    model_sha256: str | None = None
    preparation: list[str] = field(default_factory=list)
    looked_after: ModelComparison | None = None
    handover: Handover | None = None
    impact: dict[str, Any] | None = None  # published already (study/_impact.py)
    rollout: dict[str, Any] | None = None  # published already (study/_rollout.py)
    #: the roll-out estimate itself, for its figure (in memory only)
    rollout_estimate: Any = None
    #: the summary made last, with the model file it describes (see study_summary)
    _summary_made: tuple[str | None, StudySummary] | None = field(
        default=None, init=False, repr=False
    )

    @property
    def roles_dict(self) -> dict[str, Any]:
        """The column roles used, as plain data."""
        return self.roles.to_dict() if self.roles is not None else {}

    def fairness_tables(self) -> dict[str, pd.DataFrame]:
        """The audit's tables as published: counts rounded, small groups' figures withheld."""
        if self.fairness is None:
            return {}
        rules = self.disclosure
        by_group = self.fairness.published_by_group(rules)
        by_group["n_families"] = [publish_count(int(n), rules) for n in by_group.n_families]
        findings = self.fairness.published_findings(rules)
        return {"fairness_by_group.csv": by_group, "fairness_findings.csv": findings}

    def _variables(self) -> list[dict[str, Any]]:
        from ..schema import REGISTRY

        if self.roles is None:
            return []
        out = []
        for role, col in self.roles.assignments():
            var = REGISTRY.get(col)
            out.append(
                {
                    "column": col,
                    "role": role,
                    "label": self.roles.label(col),
                    "source": var.source if var else "",
                    "model_feature": col
                    in self.roles.features(include_protected=self.config.models.include_protected),
                }
            )
        return out

    def explain_tables(self) -> dict[str, pd.DataFrame]:
        """Aggregate explanation tables (no family appears in any of them)."""
        ex = self.explanation
        if ex is None:
            return {}
        out = {
            "explain_importance.csv": ex.importance,
            "explain_by_segment.csv": self._published_sampled(ex.by_segment, "n_sampled"),
        }
        combined = ex.combined_needs(list(self.roles.indicators()) if self.roles else None)
        if combined is not None:
            out["explain_combined_needs.csv"] = self._published_sampled(combined, "n_both_sampled")
        return out

    def _published_missing_share(self) -> dict[str, float]:
        """Shares of "not known" values as ratios of published counts (a share is
        withheld where the count behind it is under the threshold)."""
        n = self.validation.n_rows
        shares = {
            col: publish_share(round(share * n), n, self.disclosure)
            for col, share in self.validation.missing_share.items()
        }
        return {col: v for col, v in shares.items() if v == v}

    def _published_warnings(self) -> list[str]:
        """Validation notes as published: a count of rows rounded (or "fewer than" the
        threshold), and no example values (a small group's name says it exists)."""
        out = []
        for w in self.validation.warnings:
            text = str(dataclasses.replace(w, n_rows=None, examples=()))
            if w.n_rows is not None:
                n = publish_count(w.n_rows, self.disclosure)
                rows = f"fewer than {self.disclosure.min_cell}" if n is None else f"{n:,.0f}"
                text = text.replace(". Fix:", f" (rows: {rows}). Fix:", 1)
            out.append(text)
        return out

    def _published_mitigation(self) -> pd.DataFrame:
        """The mitigation comparison as published: its rates (ratios of counts of test
        families the table does not give) to 2 decimal places, ROC AUC to 3, too coarse
        to solve for a count."""
        out = self.mitigation.copy() if self.mitigation is not None else pd.DataFrame()
        for col in out.columns:
            if pd.api.types.is_float_dtype(out[col]):
                out[col] = publish_figure(
                    out[col].to_numpy(dtype=float), decimals=3 if col == "roc_auc" else 2
                )
        return out

    def _published_sampled(self, table: pd.DataFrame, count: str) -> pd.DataFrame:
        """Counts of sampled families rounded; a mean over fewer than the threshold is
        withheld with its count."""
        out = table.copy()
        published = [publish_count(int(v), self.disclosure) for v in out[count]]
        out[count] = [float("nan") if v is None else v for v in published]
        small = out[count].isna().to_numpy()
        for col in (
            "mean_attribution",
            "mean_interaction_when_both",
            "when_both_lower",
            "when_both_upper",
        ):
            if col in out.columns:
                out.loc[small, col] = float("nan")
        return out

    def _explain_summary(self) -> ExplanationsSection | None:
        ex = self.explanation
        if ex is None:
            return None
        return _section(
            ExplanationsSection,
            {
                "model": self.config.models.primary,
                "sample_size": publish_count(ex.sample_size, self.disclosure),
                "summary": ex.summary(rules=self.disclosure),
                "top_drivers": ex.importance.head(10)[
                    ["feature", "label", "mean_abs", "lower", "upper", "relative_se"]
                ].to_dict(orient="records"),
            },
        )

    def _population_summary(self) -> PopulationSection | None:
        if "strategies.csv" not in self.population:
            return None
        st = self.population["strategies.csv"]
        areas = list(self.roles.area) if self.roles else []
        forecasts = {
            name.removeprefix("demand_forecast_by_").removesuffix(".csv"): t
            for name, t in self.population.items()
            if name.startswith("demand_forecast_by_")
        }
        # the coarsest area level only where there are several (the summary stays small)
        shown = [a for a in areas[::-1] if a in forecasts][:1]
        curve = self.population.get("capacity_curve.csv")
        return _section(
            PopulationSection,
            {
                "demand_forecast": {a: self._forecast(forecasts[a]) for a in shown},
                "demand_by_group": {
                    by: self._forecast(t) for by, t in forecasts.items() if by not in areas
                },
                "highest_rates": {
                    by: _highest(t, by, "per_1000") for by, t in forecasts.items() if by in areas
                },
                "highest_totals": {
                    by: _highest(t, by, "expected") for by, t in forecasts.items() if by in areas
                },
                "funnel": {
                    a: funnel_counts(self.population[f"population_by_{a}.csv"])
                    for a in areas
                    if "ratio" in self.population.get(f"population_by_{a}.csv", {})
                },
                "capacity_curve": None if curve is None else self._capacity(curve),
                # the places as published: the same rounded figure as families offered
                "capacity_families": publish_count(st.attrs["capacity"], self.disclosure)
                if "capacity" in st.attrs
                else None,
                "strategies": st.to_dict(orient="records"),
                "share_of_expected_need_outside_most_deprived": st.attrs.get(
                    "share_of_all_expected_need_outside_most_deprived"
                ),
                "share_of_observed_escalations_outside_most_deprived": st.attrs.get(
                    "share_of_all_observed_escalations_outside_most_deprived"
                ),
                "scenarios": self.population["scenarios.csv"].to_dict(orient="records")
                if "scenarios.csv" in self.population
                else [],
                "scenario_assumptions": {
                    "risk_reduction": dict(self.config.population.risk_reduction),
                    "unit_costs": dict(self.config.population.unit_costs),
                },
                "tables": sorted(self.population),
            },
        )

    def _forecast(self, t: pd.DataFrame) -> dict[str, Any]:
        return {
            "profiles_from": t.attrs.get("profiles_from"),
            "profiles_to": t.attrs.get("profiles_to"),
            "total_families": publish_count(int(t.attrs.get("total_families", 0)), self.disclosure),
            "total_expected": t.attrs.get("total_expected"),
            "total_lower": t.attrs.get("total_lower"),
            "total_upper": t.attrs.get("total_upper"),
            "rows": t.to_dict(orient="records"),
        }

    def _capacity(self, t: pd.DataFrame) -> dict[str, Any]:
        keys = [k for k in CapacityCurve.model_fields if k != "rows"]
        out = {k: t.attrs.get(k) for k in keys}
        for k in ("recommended_places", "assumed_places"):
            out[k] = publish_count(out[k], self.disclosure)
        return {**out, "rows": t.to_dict(orient="records")}

    def _monitoring_summary(self) -> MonitoringSection | None:
        t = self.population.get("monitoring_by_quarter.csv")
        if t is None or t.empty:
            return None
        return _section(
            MonitoringSection,
            {
                "quarters": len(t),
                "flagged_fewer": int((t["flag"] == "fewer than expected").sum()),
                "flagged_more": int((t["flag"] == "more than expected").sum()),
                "calibration_se": t.attrs.get("calibration_se", 0.0),
                "typical_quarter_expected": t.attrs.get("typical_period_expected"),
                "power_10_percent_fall": t.attrs.get("power_10_percent_fall"),
            },
        )

    def _fairness_summary(self) -> FairnessSection | None:
        if self.fairness is None:
            return None
        a = self.fairness
        counted = a.counted_findings(self.disclosure)
        out = counted[counted.finding == "outside tolerance"]
        return _section(
            FairnessSection,
            {
                "model": self.config.models.primary,
                "capacity": a.capacity,
                "prioritised": a.prioritised,
                "characteristics": list(a.characteristics),
                "reference_groups": dict(a.reference or {}),
                "summary": a.summary(),
                "trade_offs": a.trade_offs(),
                "outside_tolerance": out.to_dict(orient="records"),
                "finding_counts": a.finding_counts(self.disclosure).to_dict(orient="records"),
                "counts_by_characteristic": a.finding_counts(
                    self.disclosure, by="characteristic"
                ).to_dict(orient="records"),
                "too_uncertain": counted[counted.finding == "too uncertain to say"].to_dict(
                    orient="records"
                ),
                "intersections": [list(i) for i in self.config.fairness.intersections],
                "mitigation": None
                if self.mitigation is None
                else self._published_mitigation().to_dict(orient="records"),
            },
        )

    def _models_summary(self) -> ModelsSection | None:
        if self.comparison is None or self.split is None:
            return None
        cmp_ = self.comparison
        table, differences = cmp_.published(self.disclosure)

        def nested(table: pd.DataFrame, value: str) -> dict[str, dict[str, dict[str, float]]]:
            out: dict[str, dict[str, dict[str, float]]] = {}
            for r in table.itertuples(index=False):
                out.setdefault(str(r.model), {})[str(r.metric)] = {
                    value: float(getattr(r, value)),
                    "lower": float(r.lower),
                    "upper": float(r.upper),
                }
            return out

        def published(report: dict[str, Any]) -> dict[str, Any]:
            # counts of families are rounded like every published count
            return {
                k: publish_count(v, self.disclosure)
                if (k.startswith("n_") or k.endswith("_rows") or k.endswith("_families"))
                and isinstance(v, int)
                and not isinstance(v, bool)
                else v
                for k, v in report.items()
            }

        calibration = {
            name: published(m.calibration_report_)
            for name, m in self.models.items()
            if hasattr(m, "calibration_report_")
        }
        return _section(
            ModelsSection,
            {
                "split": published({"description": self.split.description, **self.split.details}),
                "test_families": publish_count(cmp_.n_families, self.disclosure),
                "test_escalations": publish_count(cmp_.n_escalations, self.disclosure),
                "capacity": cmp_.capacity,
                "n_bootstrap": cmp_.n_bootstrap,
                "confidence": cmp_.confidence,
                "reference": cmp_.reference,
                "oracle_included": ORACLE in cmp_.models,
                "metrics": nested(table, "estimate"),
                "differences_to_reference": nested(differences, "difference"),
                "calibration": calibration,
                "transfer": self._transfer_summary(),
                "hyperparameters": {
                    name: {
                        k: v
                        for k, v in m.get_params(deep=True).items()
                        if isinstance(v, int | float | str | bool | None)
                        and not k.endswith("roles")
                    }
                    for name, m in self.models.items()
                    if hasattr(m, "get_params")
                },
            },
        )

    def _looked_after_summary(self) -> LookedAfterSection | None:
        cmp_ = self.looked_after
        if cmp_ is None:
            return None
        table, _ = cmp_.published(self.disclosure)
        metrics: dict[str, dict[str, dict[str, float]]] = {}
        for r in table.itertuples(index=False):
            metrics.setdefault(str(r.model), {})[str(r.metric)] = {
                "estimate": float(r.estimate),
                "lower": float(r.lower),
                "upper": float(r.upper),
            }
        return _section(
            LookedAfterSection,
            {
                "model": self.config.models.primary,
                "test_entries": publish_count(cmp_.n_escalations, self.disclosure),
                "test_expected_entries": publish_figure(
                    float(cmp_.probabilities(self.config.models.primary).sum())
                ),
                "oracle_included": ORACLE in cmp_.models,
                "metrics": metrics,
                "handover": None if self.handover is None else self.handover.summary(),
            },
        )

    def _transfer_summary(self) -> list[dict[str, Any]]:
        """By held-out authority: families (rounded) and each model's metrics."""
        if self.transfer is None:
            return []
        out = []
        for (authority, n_train, n_test), rows in self.transfer.groupby(
            ["authority", "n_train", "n_test"], sort=False, dropna=False
        ):
            entry: dict[str, Any] = {
                "authority": str(authority),
                "n_train": n_train,
                "n_test": n_test,
                "metrics": {},
            }
            for r in rows.itertuples(index=False):
                entry["metrics"].setdefault(str(r.model), {})[str(r.metric)] = {
                    "estimate": float(r.estimate),
                    "lower": float(r.lower),
                    "upper": float(r.upper),
                }
            out.append(entry)
        return out

    def summary(self) -> dict[str, Any]:
        """The machine-readable summary written as ``summary.json``, as plain JSON data;
        its schema is ``escalation_model/reporting/summary.schema.json``, generated from
        :class:`StudySummary`. Strict JSON: a suppressed or undefined figure is ``None``
        (``null``), never NaN."""
        return self.study_summary().to_json_dict()

    def study_summary(self) -> StudySummary:
        """The summary as typed sections (what the card and the MLflow logging read).

        Made once and kept (its sections are frozen): the file, the card and MLflow's
        parameters, metrics and descriptions all read the same one. Writing the model
        file gives the result its SHA-256, so the summary is made again after that."""
        made = self._summary_made
        if made is None or made[0] != self.model_sha256:
            made = self._summary_made = (self.model_sha256, self._make_summary())
        return made[1]

    def _make_summary(self) -> StudySummary:
        return StudySummary(
            escalation_model_version=__version__,
            code_version=code_version(),
            python=platform.python_version(),
            data=_section(
                DataSection,
                {
                    "source": self.data_source,
                    "synthetic": self.is_synthetic,
                    "fingerprint_sha256": self.data_fingerprint,
                    "n_families": self.overview.get("families"),
                    "missing_share": self._published_missing_share(),
                    "warnings": self._published_warnings(),
                    "roles": self.roles_dict,
                    "variables": self._variables(),
                    "preparation": list(self.preparation),
                },
            ),
            config=_strict_json(self.config.to_dict()),
            settings_in_run=dict(self.settings_in_run),
            overview=_strict_json(self.overview),
            models=self._models_summary(),
            looked_after=self._looked_after_summary(),
            fairness=self._fairness_summary(),
            population=self._population_summary(),
            monitoring=self._monitoring_summary(),
            explanations=self._explain_summary(),
            impact=None if self.impact is None else _section(ImpactSection, self.impact),
            rollout=None if self.rollout is None else _section(RolloutSection, self.rollout),
            disclosure_control=DisclosureSection(
                min_cell=self.disclosure.min_cell,
                round_to=self.disclosure.round_to,
                description=self.disclosure.describe(),
                statement=self.disclosure.statement(),
            ),
            model_file=None
            if self.model_sha256 is None
            else ModelFile(name=MODEL_FILE, sha256=self.model_sha256, release=self._release()),
            notes=list(self.notes),
        )

    def _release(self) -> str | None:
        """The primary model checked as a publication (leaves under the threshold)."""
        from ..models._release import release_check

        model = self.models.get(self.config.models.primary)
        return None if model is None else release_check(model, self.disclosure.min_cell).sentence()

    def write(self, folder: str | Path, *, card_fields: str | Path | None = None) -> list[Path]:
        """Write the model, summary, tables, plots and model card into ``folder``, and the
        manifest (every file with its SHA-256) last. ``card_fields`` is a TOML file whose
        ``[card]`` table fills the card's person-only fields. Use
        :func:`escalation_model._outputs.staged_output` for a folder that is replaced whole
        or not at all."""
        return write_outputs(self, Path(folder), card_fields)

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        o = self.overview

        def pct(key: str) -> str:
            value = o.get(key)
            return "not published" if value is None or value != value else f"{value:.1%}"

        return (
            f"<b>escalation_model study</b> on {o['families']:,.0f} families "
            f"({'synthetic' if self.is_synthetic else 'analyst data'}); escalation rate "
            f"{pct('escalation_rate')}; {pct('share_five_plus')} with "
            f"{FIVE_OR_MORE}+ Think Family indicators."
        )


def _section(cls: Any, raw: dict[str, Any]) -> Any:
    """A typed section from raw figures, every NaN or infinity made None first."""
    return cls.model_validate(_strict_json(raw))


def _strict_json(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None, at any depth."""
    if isinstance(value, dict):
        return {k: _strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value

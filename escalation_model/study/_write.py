"""Writing a study's published outputs: the model, the summary, the tables, the plots,
the model card and, last, the manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from ..models import file_sha256, save_model
from ._figures import save_figures, study_figures

__all__ = ["MODEL_FILE", "write_outputs"]

#: The fitted primary model, in the output folder (skops format).
MODEL_FILE = "model.skops"


def write_outputs(result: Any, folder: Path, card_fields: str | Path | None) -> list[Path]:
    """:meth:`StudyResult.write`: every file written, the manifest last."""
    from .._outputs import write_manifest
    from .._publish import write_csv

    written = []
    primary = result.config.models.primary
    if primary in result.models:
        path = save_model(result.models[primary], folder / MODEL_FILE, overwrite=True)
        result.model_sha256 = file_sha256(path)
        written.append(path)
    path = folder / "summary.json"
    summary = result.study_summary()  # made once: the file and the card read the same
    text = json.dumps(summary.to_json_dict(), indent=2, default=str, allow_nan=False)
    path.write_text(text + "\n", "utf-8")
    written.append(path)
    written.append(write_csv(result.profile, folder / "profile_table.csv", float_format="%.4f"))
    published = result.comparison.published(result.disclosure) if result.comparison else None
    tables = {
        "model_comparison.csv": published[0] if published else None,
        "model_differences.csv": published[1] if published else None,
        "looked_after_model.csv": result.looked_after.published(result.disclosure)[0]
        if result.looked_after is not None
        else None,
        "looked_after_handover.csv": None if result.handover is None else result.handover.table,
        "odds_ratios.csv": result.odds_ratios,
        "transfer_by_authority.csv": result.transfer,
        "fairness_mitigation.csv": None
        if result.mitigation is None
        else result._published_mitigation(),
        **result.fairness_tables(),
        **result.population,
        **result.explain_tables(),
        **_effect_tables(result),
    }
    for name, table in tables.items():
        if table is not None:
            written.append(write_csv(table, folder / name))
    written += save_figures(study_figures(result), folder / "plots")
    from ..reporting import ModelCard

    card = ModelCard.from_summary(summary, plots_dir=folder / "plots")
    if card_fields is not None:
        card.fill_from_toml(card_fields)
    written += card.write(folder)
    written.append(write_manifest(folder, written))
    return written


def _effect_tables(result: Any) -> dict[str, pd.DataFrame]:
    """The evaluation of early help as tables (from the published sections: estimates
    and intervals, recipients rounded, small groups already withheld)."""
    tables = {}
    if result.impact is not None:
        i = result.impact
        rows = [
            {"estimator": name, "recipients": i["recipients"], "families": i["families"], **e}
            for name, e in (("doubly robust", i["estimate"]), ("matching", i["matching"]))
        ]
        rows.append(
            {
                "estimator": "recipients against everyone else (naive)",
                "recipients": i["recipients"],
                "families": i["families"],
                "att": i["naive_difference"],
            }
        )
        tables["early_help_effect.csv"] = pd.DataFrame(rows)
        if i["by_group"]:
            tables["early_help_effect_by_group.csv"] = pd.DataFrame(i["by_group"])
    if result.rollout is not None:
        tables["rollout_event_study.csv"] = pd.DataFrame(result.rollout["event_study"])
    return tables

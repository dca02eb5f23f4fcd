"""The sub-commands. Each returns an exit code; errors are printed in plain words."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

__all__ = ["card", "generate", "list_roles", "run", "score", "validate_file"]


def _err(message: str) -> None:
    print(f"escalation-model: {message}", file=sys.stderr)


def generate(args: argparse.Namespace) -> int:
    from ..datasets import make_synthetic_population, write_families

    try:
        pop = make_synthetic_population(
            args.n_families, n_authorities=args.n_authorities, random_state=args.seed
        )
        path = write_families(pop.frame, args.output, overwrite=args.overwrite)
    except (ValueError, FileExistsError) as exc:
        _err(str(exc))
        return 2
    print(f"wrote {len(pop.frame):,} synthetic families to {path} (seed {args.seed})")
    return 0


def validate_file(args: argparse.Namespace) -> int:
    from ..datasets import read_families
    from ..schema import ColumnRoles, RoleError, SchemaError, validate

    try:
        roles = ColumnRoles.from_toml(args.roles) if args.roles else ColumnRoles()
        frame = read_families(args.data)
    except (OSError, ValueError, RoleError) as exc:
        _err(str(exc))
        return 2
    try:
        report = validate(frame, roles, require_outcome=not args.no_outcome)
    except SchemaError as exc:
        print(str(exc))
        return 1
    print(f"{args.data}: {report.n_rows:,} families; no problems found.")
    for w in report.warnings:
        print(f"warning: {w}")
    for col, share in sorted(report.missing_share.items()):
        print(f"note: column '{col}' is not known for {share:.1%} of families (kept as missing)")
    return 0


def run(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from .._config import ConfigError, load_config
    from ..schema import RoleError, SchemaError
    from ..study import load_study_data, run_study
    from ._output import OutputFolderError, prepare_output_dir

    def say(msg: str) -> None:
        if not args.quiet:
            print(msg, flush=True)

    started = time.perf_counter()
    info: dict[str, object] = {}
    try:
        config = load_config(args.config)
        if args.output:
            config = replace(config, output=args.output)
        out = prepare_output_dir(config.output)
        if args.no_tracking:
            context: object = nullcontext()
        else:
            from ..tracking import tracked_run

            context = tracked_run(tracking_uri=args.tracking_uri, experiment=args.experiment)
        with context:  # type: ignore[attr-defined]
            say(f"- loading data ({config.data.source})")
            data = load_study_data(config)
            result = run_study(config, data, progress=lambda m: say(f"- {m}"))
            say("- writing outputs")
            written = result.write(out, card_fields=args.card_fields)
            if not args.no_tracking:
                from ..tracking import log_study

                say("- logging the run to MLflow and registering the model")
                info = log_study(result, out)
    except SchemaError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except (ConfigError, OutputFolderError, RoleError, OSError, ValueError) as exc:
        _err(str(exc))
        return 2
    for note in result.notes:
        say(f"note: {note}")
    say(f"done in {time.perf_counter() - started:.1f} s; wrote:")
    for path in written:
        say(f"  {path}")
    if info:
        say(
            f"MLflow run {info['run_id']}; model registered as {info['model_uri']} "
            f"(version {info['model_version']}). See it with: mlflow ui --backend-store-uri "
            f"{args.tracking_uri or 'sqlite:///mlflow.db'}"
        )
    return 0


def score(args: argparse.Namespace) -> int:
    from ..datasets import read_families
    from ..models import load_model
    from ..schema import ColumnRoles, RoleError, SchemaError, validate
    from ..study import population_tables
    from ._output import OutputFolderError, prepare_output_dir

    try:
        roles = ColumnRoles.from_toml(args.roles) if args.roles else ColumnRoles()
        frame = read_families(args.data)
        validate(frame, roles, require_outcome=False)
        if args.model.startswith("models:/"):
            from ..tracking import load_registered_model

            model = load_registered_model(args.model, tracking_uri=args.tracking_uri)
        else:
            model = load_model(args.model)
        out = prepare_output_dir(args.output)
        proba = model.predict_proba(frame)[:, 1]
        capacity = args.capacity if args.capacity < 1 else int(args.capacity)
        tables = population_tables(
            frame,
            roles,
            proba,
            groupings=[*roles.area, "deprivation_quintile", "n_think_family_band", "family_type"],
            capacity=capacity,
        )
    except SchemaError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except (OutputFolderError, RoleError, OSError, ValueError) as exc:
        _err(str(exc))
        return 2
    for name, table in tables.items():
        table.to_csv(out / name, index=False, float_format="%.6g")
        print(f"  {out / name}")
    print(f"scored {len(frame):,} families; wrote population tables only (no family scores)")
    return 0


def card(args: argparse.Namespace) -> int:
    """Rebuild the model card from a tracked run's summary and plots."""
    import json
    from pathlib import Path

    from ..reporting import ModelCard
    from ..tracking._mlflow import DEFAULT_TRACKING_URI, _mlflow
    from ._output import OutputFolderError, prepare_output_dir

    try:
        mlflow = _mlflow()
        mlflow.set_tracking_uri(args.tracking_uri or DEFAULT_TRACKING_URI)
        out = prepare_output_dir(args.output)
        summary_path = Path(
            mlflow.artifacts.download_artifacts(
                run_id=args.run_id, artifact_path="summary.json", dst_path=str(out / ".run")
            )
        )
        try:
            plots = Path(
                mlflow.artifacts.download_artifacts(
                    run_id=args.run_id, artifact_path="plots", dst_path=str(out / ".run")
                )
            )
        except Exception:  # a run without plots still gets a card
            plots = None
        summary = json.loads(summary_path.read_text("utf-8"))
        model_card = ModelCard.from_summary(summary, plots_dir=plots)
        if args.card_fields:
            model_card.fill_from_toml(args.card_fields)
        written = model_card.write(out)
    except (OutputFolderError, OSError, ValueError) as exc:
        _err(str(exc))
        return 2
    except Exception as exc:  # MLflow reports an unknown run with its own exception types
        _err(f"could not read run {args.run_id}: {exc}")
        return 2
    for path in written:
        print(f"  {path}")
    return 0


def list_roles(args: argparse.Namespace) -> int:
    """Print the roles with their default columns, labels and sources; optionally write a
    TOML template an analyst edits to map their own column names."""
    from pathlib import Path

    from ..schema import REGISTRY, ColumnRoles, label_for

    roles = ColumnRoles()
    lines = ["[roles]", "# Replace each default column name with the name in your extract."]
    current = None
    for role, column in roles.assignments():
        if role != current:
            print(f"\n{role}")
            current = role
        var = REGISTRY.get(column)
        source = f"  [{var.source}]" if var else ""
        print(f"  {column:28s} {label_for(column)}{source}")
    for key, value in roles.to_dict().items():
        if isinstance(value, list):
            items = ", ".join(f'"{v}"' for v in value)
            lines.append(f"{key} = [{items}]")
        else:
            lines.append(f'{key} = "{value or ""}"')
    if args.template:
        path = Path(args.template)
        if path.exists():
            _err(f"{path} already exists; nothing was written. Fix: choose another name.")
            return 2
        path.write_text("\n".join(lines) + "\n", "utf-8")
        print(f"\nwrote a roles template to {path}")
    return 0

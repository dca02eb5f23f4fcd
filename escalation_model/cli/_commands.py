"""The sub-commands. Each returns an exit code or raises one of the library's errors,
which :func:`~._guard.guarded` turns into an exit code and a line on standard error.

Every command checks its inputs (configuration, roles, data, model, output folder) before
any work and before anything is written.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

__all__ = ["card", "generate", "list_roles", "run", "score", "validate_file"]


def generate(args: argparse.Namespace) -> int:
    from ..datasets import make_synthetic_population, write_families

    pop = make_synthetic_population(
        args.n_families, n_authorities=args.n_authorities, random_state=args.seed
    )
    path = write_families(pop.frame, args.output, overwrite=args.overwrite)
    print(f"wrote {len(pop.frame):,} synthetic families to {path} (seed {args.seed})")
    return 0


def prepare_returns(args: argparse.Namespace) -> int:
    from .._outputs import OutputFolderError
    from .._progress import Stages
    from ..datasets import write_families
    from ..returns import load_prepare_config, preparation_path, prepare, write_preparation
    from ..schema import validate

    config = load_prepare_config(args.config)  # refused before any file is read
    for target in (Path(args.output), preparation_path(args.output)):
        if target.exists() and not args.overwrite:
            raise OutputFolderError(
                f"{target} already exists; nothing was prepared. Fix: choose another "
                "--output, or pass --overwrite to replace it."
            )
    step = Stages(3)
    step("reading, checking and linking the returns")
    frame, report = prepare(config)
    step(f"validating the {len(frame):,} prepared family profiles")
    with _warnings_printed_not_raised():
        checked = validate(frame, report.roles)
    step(f"writing {args.output}")
    path = write_families(frame, args.output, overwrite=args.overwrite)
    write_preparation(report, path)
    step.close()
    for line in report.lines():
        print(line)
    for note in checked.warnings:
        print(f"note: {note}")
    print(f"wrote the prepared families to {path}")
    return 0


def synthetic_returns(args: argparse.Namespace) -> int:
    from .._outputs import OutputFolderError
    from ..datasets import make_synthetic_population
    from ..returns import make_synthetic_returns

    out = Path(args.output)
    if out.exists() and any(out.iterdir()):
        raise OutputFolderError(
            f"{out} is not empty; nothing was written. Fix: choose a new folder for --output."
        )
    pop = make_synthetic_population(args.families, random_state=args.seed)
    path = make_synthetic_returns(pop, out, random_state=args.seed)
    print(
        f"wrote synthetic returns and records of {args.families:,} families to {out}; "
        f"prepare them with: escalation-model prepare --config {path} --output families.parquet"
    )
    return 0


@contextmanager
def _warnings_printed_not_raised() -> Iterator[None]:
    """Validation's warnings are printed by the command from its report; Python's own
    display of them (or a filter that turns them into errors) is not needed here."""
    from ..schema import SchemaWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SchemaWarning)
        yield


def _roles(path: str | None, data: str) -> Any:
    """The roles file's, else those ``prepare`` recorded beside the data, else defaults."""
    from ..returns import read_prepared_roles
    from ..schema import ColumnRoles

    if path:
        return ColumnRoles.from_toml(path)
    return read_prepared_roles(data) or ColumnRoles()


def validate_file(args: argparse.Namespace) -> int:
    from ..datasets import read_families
    from ..schema import SchemaError, validate

    roles = _roles(args.roles, args.data)
    if args.no_outcome:
        roles = replace(roles, outcome=None, outcome_level=None)
    frame = read_families(args.data, roles)
    for note in frame.attrs.get("read_notes", []):
        print(f"note: {note}")
    try:
        with _warnings_printed_not_raised():
            report = validate(frame, roles, require_outcome=not args.no_outcome)
    except SchemaError as exc:
        print(str(exc))
        return exc.exit_code
    print(f"{args.data}: {report.n_rows:,} families; no problems found.")
    for w in report.warnings:
        print(f"warning: {w}")
    for col, share in sorted(report.missing_share.items()):
        print(f"note: column '{col}' is not known for {share:.1%} of families (kept as missing)")
    return 0


def run(args: argparse.Namespace) -> int:
    """Check everything (configuration, card fields, data, plan, output folder), then run
    the study, write its outputs as a whole and record it in MLflow."""
    from .._outputs import check_output_dir, staged_output
    from .._progress import Stages
    from ..config import load_config
    from ..models import check_hyperparameters
    from ..reporting import read_card_fields
    from ..study import load_study_data, plan_study, run_study
    from ..study._study import study_stages

    # loading, validating, the study's own stages, writing, logging and registering
    step = Stages(10 if not args.no_tracking else 8, quiet=args.quiet)
    say = step.write
    started = time.perf_counter()
    config = load_config(args.config)
    check_hyperparameters(config.models)
    if args.output:
        config = config.replace(output=args.output)
    check_output_dir(config.output, overwrite=args.overwrite)  # before any data is read
    if not args.no_tracking:
        from ..tracking import check_before_run

        check_before_run(config, args.tracking_uri)
    if args.card_fields:
        read_card_fields(args.card_fields)
    step(f"loading data ({config.data.source})")
    data = load_study_data(config)
    step(f"validating {len(data.frame):,} families and planning the study")
    with _warnings_printed_not_raised():
        plan = plan_study(config, data)
    step.expect(step.done + len(study_stages(plan)) + 1 + 2 * (not args.no_tracking))
    for line in plan.describe():
        say(line)
    info: dict[str, Any] = {}
    context: Any = nullcontext()
    if not args.no_tracking:
        from ..tracking import tracked_run

        context = tracked_run(
            tracking_uri=args.tracking_uri,
            experiment=args.experiment,
            run_name=f"{config.models.primary} on {data.source}"[:200],
        )
    # the run's record follows the outputs: it ends FINISHED, and the model is registered
    # and its alias moved, only once the output folder is in place
    with context:
        with staged_output(config.output, overwrite=args.overwrite) as staging:
            result = run_study(config, data, plan=plan, progress=step)
            step("writing outputs")
            written = result.write(staging, card_fields=args.card_fields)
            if not args.no_tracking:
                from ..tracking import log_outputs

                step("logging the run to MLflow")
                log_outputs(result, staging)
        if not args.no_tracking:
            from ..tracking import register_model

            step("registering the model")
            info = register_model(result)
    step.close()
    out = config.output
    say(f"done in {time.perf_counter() - started:.1f} s; wrote {len(written)} files to {out}:")
    for path in written:
        say(f"  {out}/{path.relative_to(staging).as_posix()}")
    if info:
        from ..tracking import absolute_store_uri

        say(
            f"MLflow run {info['run_id']}; model registered as {info['model_uri']} "
            f"(version {info['model_version']}; {info['alias_reason']}). See it with: "
            f"mlflow ui --backend-store-uri {absolute_store_uri(args.tracking_uri)}"
        )
    card = Path(out) / "model_card.html"
    if card.exists():
        say(f"The model card: {card.resolve()}")
    return 0


def _check_model_columns(model: Any, frame: Any, path: str) -> None:
    from ..schema import Problem, SchemaError

    encoder = getattr(model, "encoder_", None)
    missing = [c for c in getattr(encoder, "columns_", []) if c not in frame.columns]
    if missing:
        raise SchemaError(
            [
                Problem(
                    c,
                    f"the model ({path}) uses this column but the data does not have it",
                    "map the column in the roles file, or score with a model trained on the "
                    "same columns",
                )
                for c in missing
            ]
        )


def score(args: argparse.Namespace) -> int:
    """Score a file (with or without outcomes) and write population tables only."""
    from .._errors import EscalationModelError
    from .._outputs import staged_output
    from .._progress import Stages
    from .._publish import write_csv
    from .._selection import capacity_problem
    from ..config import PopulationConfig
    from ..datasets import read_families
    from ..models import load_model
    from ..schema import validate
    from ..study import population_tables

    if problem := capacity_problem(args.capacity):
        raise EscalationModelError(
            f"--capacity {args.capacity}: {problem}; nothing was read or written. Fix: a "
            "share of families below 1 (0.05) or a whole number of places (400)."
        )
    step = Stages(5)
    roles = _roles(args.roles, args.data)
    step(f"reading {args.data}")
    frame = read_families(args.data, roles)
    if problem := capacity_problem(args.capacity, len(frame)):
        raise EscalationModelError(
            f"--capacity {args.capacity}: {problem}; nothing was written. Fix: a share or a "
            "number of places between the disclosure threshold and the families scored."
        )
    if roles.outcome and roles.outcome not in frame.columns:  # next quarter: no outcome yet
        roles = replace(roles, outcome=None, outcome_level=None)
    step(f"validating {len(frame):,} families")
    with _warnings_printed_not_raised():
        report = validate(frame, roles, require_outcome=False)
    for w in report.warnings:
        print(f"warning: {w}")
    step(f"loading the model {args.model}")
    if args.model.startswith("models:/"):
        from ..tracking import load_registered_model

        model = load_registered_model(args.model, tracking_uri=args.tracking_uri)
    else:
        model = load_model(args.model)
    _check_model_columns(model, frame, args.model)
    from ..study._plan import analysed_frame

    frame = analysed_frame(frame, roles)
    capacity = args.capacity if args.capacity < 1 else int(args.capacity)
    from ..study._population import score_plan

    writes, skipped = score_plan(frame, roles, PopulationConfig().groupings)
    print(f"plan: score {len(frame):,} families with {args.model}; write {', '.join(writes)}")
    for what, why in skipped:
        print(f"skipped: {what} ({why})")
    with staged_output(args.output) as staging:
        step("scoring in memory and aggregating (population tables only)")
        proba = model.predict_proba(frame)[:, 1]
        tables = population_tables(
            frame,
            roles,
            proba,
            groupings=PopulationConfig().groupings,
            capacity=capacity,
        )
        step(f"writing {len(tables)} tables")
        for name, table in tables.items():
            write_csv(table, staging / name)
    step.close()
    for name in tables:
        print(f"  {args.output}/{name}")
    print(f"scored {len(frame):,} families; wrote population tables only (no family scores)")
    curve = tables.get("capacity_curve.csv")
    if curve is not None:
        print(_capacity_covers(curve.attrs, len(frame)))
    if curve is not None and curve.attrs.get("recommended_places"):
        a = curve.attrs
        print(
            f"recommended capacity (the point of diminishing returns): "
            f"{a['recommended_places']:,.0f} places, reaching about "
            f"{a['recommended_reached']:,.0f} of {a['total_expected']:,.0f} expected "
            f"escalations ({a['recommended_share_of_expected']:.0%}); capacity_curve.csv "
            "has the whole curve"
        )
    return 0


def _capacity_covers(attrs: dict[str, Any], scored: int) -> str:
    """Which families the capacity figures are for, counts published."""
    from .._publish import DisclosureRules, publish_count

    n = publish_count(attrs.get("n_families", 0))
    count = f"fewer than {DisclosureRules().min_cell}" if n is None else f"{n:,.0f}"
    period = attrs.get("period")
    if period:
        return (
            f"capacity figures cover the {count} families profiled in the latest year "
            f"({period[0]} to {period[1]}, each family's latest profile) of the "
            f"{publish_count(scored) or 0:,.0f} scored"
        )
    return f"capacity figures cover all {count} families scored (no profile dates)"


def card(args: argparse.Namespace) -> int:
    """Rebuild the model card from a tracked run's summary and plots."""
    import json
    import tempfile
    from pathlib import Path

    from .._errors import TrackingError
    from .._outputs import staged_output
    from ..reporting import ModelCard, read_card_fields
    from ..tracking._mlflow import _mlflow, open_store
    from ..tracking._store import store_guard

    if args.card_fields:
        read_card_fields(args.card_fields)
    mlflow = _mlflow()
    store = open_store(args.tracking_uri, create=False)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            mlflow.get_run(args.run_id)
        except Exception:
            raise TrackingError(
                f"run {args.run_id!r} was not found in the tracking store {store}. Fix: copy "
                "the run id from `mlflow ui`, or name the right store with --tracking-uri."
            ) from None
        with store_guard(store, f"reading run {args.run_id}"):
            summary_path = Path(
                mlflow.artifacts.download_artifacts(
                    run_id=args.run_id, artifact_path="summary.json", dst_path=tmp
                )
            )
            try:
                plots: Path | None = Path(
                    mlflow.artifacts.download_artifacts(
                        run_id=args.run_id, artifact_path="plots", dst_path=tmp
                    )
                )
            except Exception:  # a run without plots still gets a card
                plots = None
        summary = json.loads(summary_path.read_text("utf-8"))
        model_card = ModelCard.from_summary(summary, plots_dir=plots)
        if args.card_fields:
            model_card.fill_from_toml(args.card_fields)
        with staged_output(args.output) as staging:
            written = [p.relative_to(staging) for p in model_card.write(staging)]
    for path in written:
        print(f"  {args.output}/{path.as_posix()}")
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
        if key in ("labels", "area_names"):
            continue  # tables of their own, written last
        if isinstance(value, list):
            items = ", ".join(f'"{v}"' for v in value)
            lines.append(f"{key} = [{items}]")
        elif key == "date_format":
            lines.append('# How dates are written if not YYYY-MM-DD, for example "%d/%m/%Y".')
            lines.append(f'{key} = "{value or ""}"')
        elif key == "lone_parent":
            lines.append("# Which household column flags a lone-parent household.")
            lines.append(f'{key} = "{value or ""}"')
        else:
            lines.append(f'{key} = "{value or ""}"')
    lines += [
        "",
        "# Plain-English labels for your columns, shown in tables, plots and the card;",
        '# for example: WIMDDecile = "Area deprivation decile".',
        "[roles.labels]",
        "",
        "# Optional: your names for the area codes, shown beside them in tables, plots and",
        '# the card; for example: "E08000001" = "Bolton".',
        "[roles.area_names]",
    ]
    if args.template:
        path = Path(args.template)
        if path.exists():
            raise FileExistsError(
                f"{path} already exists; nothing was written. Fix: choose another name."
            )
        path.write_text("\n".join(lines) + "\n", "utf-8")
        print(f"\nwrote a roles template to {path}")
    return 0

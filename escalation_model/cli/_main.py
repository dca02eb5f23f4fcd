"""Argument parsing for the ``escalation-model`` command; each sub-command is a function."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="escalation-model",
        description=(
            "Population-level models of escalation into statutory children's social care, "
            "for commissioning early help. Outputs are aggregates, never scores of "
            "individual families."
        ),
        epilog=(
            "Exit codes: 0 done; 1 the data, roles or configuration was refused (nothing "
            "written); 2 a file or environment problem, or a usage error; 3 an unexpected "
            "error (details in a log file); 130 interrupted (the tracked run is KILLED)."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write the synthetic population to Parquet or CSV")
    gen.add_argument("output", help="file to write (.parquet or .csv)")
    gen.add_argument("--n-families", type=int, default=300_000)
    gen.add_argument("--n-authorities", type=int, default=8)
    gen.add_argument("--seed", type=int, default=2015)
    gen.add_argument("--overwrite", action="store_true", help="replace an existing file")

    roles = sub.add_parser(
        "roles", help="list the data contract's roles, default columns, labels and sources"
    )
    roles.add_argument("--template", help="also write a [roles] TOML template to this file")

    val = sub.add_parser("validate", help="check a file of families against the data contract")
    val.add_argument("data", help="CSV or Parquet file, one row per family")
    val.add_argument("--roles", help="TOML file whose [roles] table maps your columns")
    val.add_argument(
        "--no-outcome", action="store_true", help="the file has no outcome yet (for scoring)"
    )

    run = sub.add_parser("run", help="run the study and write its outputs")
    run.add_argument("--config", help="run configuration (TOML); default: built-in defaults")
    run.add_argument("--output", help="output folder (overrides the config)")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
    run.add_argument(
        "--tracking-uri",
        help="MLflow tracking store (default: mlflow.db in $ESCALATION_MODEL_HOME, else in "
        "~/.escalation_model)",
    )
    run.add_argument("--experiment", default="escalation_model", help="MLflow experiment")
    run.add_argument("--no-tracking", action="store_true", help="do not log to MLflow")
    run.add_argument(
        "--overwrite",
        action="store_true",
        help="replace files of the output folder that were changed since a run wrote them",
    )
    run.add_argument(
        "--card-fields",
        help="TOML file whose [card] table fills the model "
        "card's owner, contact and impact assessment",
    )

    card = sub.add_parser("card", help="rebuild the model card from a tracked MLflow run")
    card.add_argument("run_id", help="the MLflow run id")
    card.add_argument("--tracking-uri", help="MLflow store (default: as for run)")
    card.add_argument("--output", default="outputs/card", help="output folder")
    card.add_argument("--card-fields", help="TOML file with a [card] table")

    score = sub.add_parser(
        "score", help="score a new file with a saved model and write population tables only"
    )
    score.add_argument(
        "--model",
        required=True,
        help="model.skops written by run, or a registered model such as "
        "models:/escalation_model@candidate",
    )
    score.add_argument("--tracking-uri", help="MLflow store for models:/ URIs")
    score.add_argument("--data", required=True, help="CSV or Parquet file, one row per family")
    score.add_argument("--roles", help="TOML file whose [roles] table maps your columns")
    score.add_argument("--output", default="outputs/score", help="output folder")
    score.add_argument(
        "--capacity",
        type=float,
        default=0.05,
        help="places in the service: a share (<1) or a number",
    )
    prep = sub.add_parser(
        "prepare",
        help="prepare families (indicators and labels) from statutory returns and records",
    )
    prep.add_argument("--config", required=True, help="prepare TOML file ([prepare] paths)")
    prep.add_argument("--output", required=True, help="file to write (.parquet or .csv)")
    prep.add_argument("--overwrite", action="store_true", help="replace an existing file")

    syn = sub.add_parser(
        "synthetic-returns",
        help="write synthetic statutory returns, agency records and prepare.toml",
    )
    syn.add_argument("--families", type=int, default=20_000)
    syn.add_argument("--seed", type=int, default=2015)
    syn.add_argument("--output", required=True, help="a new (or empty) folder")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``escalation-model`` command; returns the exit code.

    0 done; 1 the data, roles or configuration was refused; 2 a file or environment
    problem; 3 an unexpected error (one line, details in a log file); 130 interrupted.
    Errors go to standard error.
    """
    from . import _commands
    from ._guard import guarded

    args = _build_parser().parse_args(argv)
    command = {
        "generate": _commands.generate,
        "validate": _commands.validate_file,
        "roles": _commands.list_roles,
        "card": _commands.card,
        "score": _commands.score,
        "run": _commands.run,
        "prepare": _commands.prepare_returns,
        "synthetic-returns": _commands.synthetic_returns,
    }[args.command]
    return guarded(command, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

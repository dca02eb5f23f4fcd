"""MLflow logging and the model registry (imported lazily: mlflow is heavy)."""

from ._mlflow import (
    DEFAULT_ALIAS,
    DEFAULT_MODEL_NAME,
    DEFAULT_TRACKING_URI,
    check_before_run,
    code_version,
    input_example,
    load_registered_model,
    log_outputs,
    log_study,
    register_model,
    tracked_run,
)

__all__ = [
    "check_before_run",
    "DEFAULT_ALIAS",
    "DEFAULT_MODEL_NAME",
    "DEFAULT_TRACKING_URI",
    "code_version",
    "input_example",
    "load_registered_model",
    "log_outputs",
    "log_study",
    "register_model",
    "tracked_run",
]

"""MLflow logging and the model registry (imported lazily: mlflow is heavy)."""

from ._mlflow import (
    DEFAULT_ALIAS,
    DEFAULT_MODEL_NAME,
    STORE_HOME_ENV,
    absolute_store_uri,
    check_before_run,
    code_version,
    default_tracking_uri,
    input_example,
    load_registered_model,
    log_outputs,
    log_study,
    register_model,
    tracked_run,
)

__all__ = [
    "absolute_store_uri",
    "check_before_run",
    "DEFAULT_ALIAS",
    "DEFAULT_MODEL_NAME",
    "STORE_HOME_ENV",
    "code_version",
    "default_tracking_uri",
    "input_example",
    "load_registered_model",
    "log_outputs",
    "log_study",
    "register_model",
    "tracked_run",
]

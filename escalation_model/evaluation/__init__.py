"""Splits, metrics with bootstrap intervals, model comparison and plots."""

from ._bootstrap import bootstrap_differences, bootstrap_metrics
from ._comparison import ORACLE, ModelComparison, compare_models, evaluate_models
from ._metrics import (
    METRICS,
    calibration_intercept,
    calibration_slope,
    capacity_curve,
    capacity_metrics,
    expected_calibration_error,
    point_estimates,
)
from ._splits import Split, SplitError, check_split, leave_one_authority_out, temporal_split
from ._transfer import transfer_by_authority

__all__ = [
    "METRICS",
    "ORACLE",
    "ModelComparison",
    "capacity_curve",
    "compare_models",
    "evaluate_models",
    "Split",
    "SplitError",
    "bootstrap_differences",
    "bootstrap_metrics",
    "calibration_intercept",
    "calibration_slope",
    "capacity_metrics",
    "check_split",
    "expected_calibration_error",
    "leave_one_authority_out",
    "point_estimates",
    "temporal_split",
    "transfer_by_authority",
]

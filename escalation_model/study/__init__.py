"""One call from data to published aggregates."""

from ._study import StudyData, StudyResult, load_study_data, run_study

__all__ = ["StudyData", "StudyResult", "load_study_data", "run_study"]

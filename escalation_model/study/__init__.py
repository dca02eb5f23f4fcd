"""One call from data to published aggregates."""

from ._result import StudyData, StudyResult
from ._study import load_study_data, population_tables, run_study

__all__ = ["StudyData", "StudyResult", "load_study_data", "population_tables", "run_study"]

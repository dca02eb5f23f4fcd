"""One call from data to published aggregates."""

from ._plan import StudyPlan, plan_study
from ._result import StudyData, StudyResult
from ._study import load_study_data, population_tables, run_study

__all__ = [
    "StudyData",
    "StudyPlan",
    "StudyResult",
    "load_study_data",
    "plan_study",
    "population_tables",
    "run_study",
]

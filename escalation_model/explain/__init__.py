"""Population-level explanations with SHAP (imported lazily: shap is heavy)."""

from ._population import (
    PopulationExplanation,
    StartedExplanation,
    explain_model,
    start_explanation,
)

__all__ = ["PopulationExplanation", "StartedExplanation", "explain_model", "start_explanation"]

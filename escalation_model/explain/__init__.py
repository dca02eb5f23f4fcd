"""Population-level explanations with SHAP (imported lazily: shap is heavy)."""

from ._population import PopulationExplanation, explain_model

__all__ = ["PopulationExplanation", "explain_model"]

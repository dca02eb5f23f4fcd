"""escalation_model: population-level models of escalation into statutory children's social
care, with fairness audits and explanations, for commissioning early help.

Not for decisions about individual families: every published output is an aggregate with
disclosure control.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]

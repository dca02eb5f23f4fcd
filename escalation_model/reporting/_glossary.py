"""Plain-English definitions of the technical terms the card uses, for its glossary."""

from __future__ import annotations

__all__ = ["GLOSSARY"]

#: Term -> definition, as printed in the card's glossary (alphabetical there).
GLOSSARY: dict[str, str] = {
    "5+ indicators rule": "Offering early help to families with five or more of the Think "
    "Family indicators, the rule the founding study proposed; the model is compared with it.",
    "95% interval": "The range the true figure lies in, given this data, with 95% "
    "confidence; a wide interval means the data says little.",
    "95% range": "For a count such as next year's escalations: the range the count falls "
    "in 95 times in 100 if the model's chances are right, widened for the model's own "
    "uncertainty where the card says so.",
    "doubly robust": "An estimate of an effect that combines a model of who received the "
    "help with a model of who would have escalated without it; it is right if either "
    "model is.",
    "E-value": "How strongly a factor the records do not show would have to be tied to both "
    "receiving help and escalating (as a risk ratio) to explain an estimated effect away.",
    "propensity score matching": "Comparing each family that received help with the "
    "family most like it, in its recorded chance of receiving help, that did not.",
    "standardised difference": "The gap between two groups' averages of a characteristic, "
    "in units of its spread; under 0.1 counts as balanced.",
    "attribution": "How much each factor moved a family's predicted risk (from SHAP), "
    "averaged over many families: a description of the model, not a cause.",
    "calibration": "Whether predicted numbers come true on average: a group with 100 "
    "expected escalations that has about 100 is well calibrated.",
    "capacity": "The number of families the early-help service can take; the assumed "
    "figure comes from the configuration, not from the data.",
    "escalation": "A family's contact with statutory children's services (child in need, "
    "child protection or looked after) within the outcome window after its profile date "
    "(12 months by default; the card's data section states the run's).",
    "expected escalations": "The sum of the model's chances over a group of families: "
    "how many of them it expects to escalate.",
    "funnel plot": "Each area's observed over expected escalations against its expected "
    "count, with limits that narrow as areas get larger; a point outside them differs by "
    "more than chance.",
    "log-odds": "The scale the model adds risks on: +0.33 on the log-odds multiplies the "
    "odds of escalation by about 1.4.",
    "observed over expected": "Escalations that happened divided by those the model "
    "expected for the same families; 1 means right on average.",
    "oracle": "The true chance of escalation, known only in synthetic data: the best any "
    "model could do.",
    "percentage points": "The difference between two percentages (60% against 55% is 5 "
    "percentage points).",
    "point of diminishing returns": "The number of early-help places beyond which one "
    "more place, offered in the model's order, reaches fewer expected escalations than a "
    "place offered at random; the card recommends it as the capacity to plan for.",
    "ROC AUC": "How well the model ranks families: the chance that a family who escalates "
    "is ranked above one who does not (0.5 is chance, 1 is perfect).",
    "SHAP": "A method that shares out a prediction among the factors that made it.",
    "Think Family indicators": "The needs counted for each family in the founding study "
    "(for example no parent in work, poor housing, domestic abuse, substance misuse); the "
    "5+ rule counts them.",
    "tolerance": "The band within which a group's figure counts as fair relative to the "
    "reference group, for example a ratio between 0.8 and 1.25; set in the configuration.",
    "too uncertain to say": "The interval is too wide to tell whether a group is within "
    "the tolerance; the card says what size of gap could have been detected.",
}

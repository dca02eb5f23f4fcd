"""The model as a publication: what a saved model file would disclose if it left the
secure environment (the SACRO / GRAIMATTER guidance for releasing trained models). A tree
whose leaf was fitted on fewer families than the disclosure threshold describes those few
families; a calibration by isotonic regression keeps points of the held-out families'
scores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ReleaseCheck", "release_check"]


@dataclass(frozen=True)
class ReleaseCheck:
    """Leaves of the model's trees, how many were fitted on fewer than ``min_cell``
    families, and whether any part keeps individual held-out points."""

    leaves: int
    small_leaves: int
    min_cell: int
    individual_points: bool

    @property
    def releasable(self) -> bool:
        return self.small_leaves == 0 and not self.individual_points

    def sentence(self) -> str:
        """What the card says about releasing the model file."""
        if self.releasable:
            what = (
                f"every one of its {self.leaves:,} tree leaves was fitted on at least "
                f"{self.min_cell} families"
                if self.leaves
                else "it holds coefficients or rules, no leaf of a few families"
            )
            return (
                f"The model file was checked as a publication: {what}, and it keeps no "
                "individual family's figures; it may leave the secure environment under "
                "the usual output checks."
            )
        reasons = []
        if self.small_leaves:
            reasons.append(
                f"{self.small_leaves:,} of its {self.leaves:,} tree leaves were fitted on "
                f"fewer than {self.min_cell} families"
            )
        if self.individual_points:
            reasons.append("its isotonic calibration keeps points of held-out families' scores")
        return (
            "The model file was checked as a publication: "
            + " and ".join(reasons)
            + ". Keep it inside the secure environment; publish the card and tables only."
        )


def _parts(model: Any) -> list[Any]:
    out, stack = [], [model]
    while stack:
        item = stack.pop()
        out.append(item)
        for attr in ("estimator", "calibrator_", "model_", "booster_model_", "estimator_"):
            child = getattr(item, attr, None)
            if child is not None and child is not item:
                stack.append(child)
    return out


def release_check(model: Any, min_cell: int = 10) -> ReleaseCheck:
    """Check a fitted model of this library as a publication.

    >>> from escalation_model.models import FivePlusRuleClassifier
    >>> release_check(FivePlusRuleClassifier()).releasable
    True
    """
    leaves = small = 0
    points = False
    for part in _parts(model):
        booster = getattr(part, "booster_", None)
        if booster is not None and hasattr(booster, "dump_model"):
            for tree in booster.dump_model()["tree_info"]:
                stack = [tree["tree_structure"]]
                while stack:
                    node = stack.pop()
                    if "leaf_index" in node or "leaf_value" in node and "split_index" not in node:
                        leaves += 1
                        small += int(node.get("leaf_count", min_cell) < min_cell)
                    else:
                        stack += [node["left_child"], node["right_child"]]
        if type(part).__name__ == "IsotonicRegression":
            points = True
    return ReleaseCheck(leaves, small, min_cell, points)

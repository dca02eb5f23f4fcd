"""Thresholds that several stages share. One source of truth: everything else reads these."""

from __future__ import annotations

#: Published tables suppress any cell describing fewer families than this.
DISCLOSURE_MIN_CELL: int = 10
#: Published counts are rounded to the nearest multiple of this.
DISCLOSURE_ROUND_TO: int = 5
#: A protected group smaller than this is reported as too small to audit.
MIN_AUDIT_GROUP_SIZE: int = 50
#: The outcome horizon: escalation is counted within this many days of the profile date.
OUTCOME_HORIZON_DAYS: int = 365
#: Number of indicators in the founding paper's "5 or more" rule.
FIVE_OR_MORE: int = 5
#: A study needs at least this many families, and escalations, on each side of its split.
MIN_SPLIT_FAMILIES: int = 200
MIN_SPLIT_ESCALATIONS: int = 20
#: Training families sampled to fit ThresholdOptimizer (it learns a handful of thresholds).
MITIGATION_SAMPLE: int = 50_000
#: "The most deprived areas" are deprivation deciles 1 to this (the most deprived fifth).
MOST_DEPRIVED_DECILE: int = 2
#: A published explanation finding (a combined need, a segment's driver) rests on at
#: least this many sampled families; below it, it is in the tables, flagged, never headlined
#: (a combined need is headlined only with an interval that excludes zero, too).
MIN_EXPLANATION_SUPPORT: int = 20
#: A roll-out estimate over fewer areas than this carries a warning: with 40-48 areas the
#: multiplier bootstrap's intervals covered the truth in 87-93% of simulated roll-outs
#: (README, "The roll-out across areas").
FEW_ROLLOUT_AREAS: int = 100
#: The leave-one-authority-out check holds out one area of the coarsest area column at a
#: time; with more areas than this (wards, not authorities) it is skipped, and says why.
MAX_TRANSFER_AREAS: int = 30

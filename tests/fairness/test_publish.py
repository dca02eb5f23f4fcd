"""The audit's published tables cannot give back a count under the threshold."""

from __future__ import annotations

import numpy as np
import pytest

from escalation_model.datasets import make_synthetic_population
from escalation_model.fairness import FairnessAudit, sensitive_features_from
from escalation_model.fairness._publish import TOO_SMALL_TO_PUBLISH


@pytest.fixture(scope="module")
def audit():
    pop = make_synthetic_population(20_000, random_state=5)
    f = pop.frame
    return FairnessAudit(
        f["escalated"].to_numpy(),
        pop.oracle.to_numpy(),
        sensitive_features_from(f),
        intersections=[("child_ethnicity", "deprivation_quintile")],
        n_bootstrap=50,
    )


def _true_counts(audit, row):
    """The exact counts behind a published rate, from the audit's own data in memory."""
    groups = audit._chars[[c.name for c in audit._chars].index(row.characteristic)]
    mask = groups.codes == groups.groups.index(row.group)
    y, sel = audit._y[mask], audit.selected_[mask].astype(float)
    esc, offered, hit = y.sum(), sel.sum(), (sel * y).sum()
    return {
        "selection_rate": (offered, mask.sum()),
        "true_positive_rate": (hit, esc),
        "false_negative_rate": (esc - hit, esc),
        "false_positive_rate": (offered - hit, mask.sum() - esc),
        "precision": (hit, offered),
        "observed_rate": (esc, mask.sum()),
        "calibration_ratio": (esc, mask.sum()),
    }.get(row.metric)


def test_no_published_rate_rests_on_a_count_under_ten(audit):
    published = audit.published_by_group()
    shown = published[published.published == "published"]
    checked = 0
    for row in shown.itertuples(index=False):
        counts = _true_counts(audit, row)
        if counts is None:
            continue
        num, den = counts
        assert round(float(num), 6) >= 10 and round(float(den), 6) >= 10, row
        checked += 1
    assert checked > 100
    withheld = published[published.published == TOO_SMALL_TO_PUBLISH]
    assert len(withheld) > 0 and withheld.estimate.isna().all() and withheld.lower.isna().all()


def test_the_unpublished_audit_would_have_leaked(audit):
    """Without the rule, rate x size rebuilds small counts (7 of 11, say): the attack this
    guards against finds some on the same data."""
    raw = audit.by_group
    raw = raw[~raw.too_small]
    leaks = 0
    for row in raw.itertuples(index=False):
        counts = _true_counts(audit, row)
        if counts is not None and 0 < round(float(counts[0]), 6) < 10:
            leaks += 1
    assert leaks > 0


def test_findings_are_published_only_where_both_groups_are(audit):
    findings = audit.published_findings()
    by_group = audit.published_by_group().set_index(["characteristic", "group", "metric"])
    for r in findings[findings.finding != TOO_SMALL_TO_PUBLISH].itertuples(index=False):
        if r.finding == "too small to assess":
            continue
        for group in (r.group, r.reference):
            shown = by_group.loc[(r.characteristic, group, r.metric), "published"]
            assert (np.atleast_1d(shown) == "published").all()
        assert np.isfinite(r.value)
    hidden = findings[findings.finding == TOO_SMALL_TO_PUBLISH]
    assert len(hidden) > 0 and hidden[["value", "lower", "upper"]].isna().all().all()

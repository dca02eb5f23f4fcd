"""The evaluation plots: their legends state sklearn's own figures; long curves are
thinned only beyond what a figure can show."""

from __future__ import annotations

import matplotlib
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, roc_auc_score

from escalation_model.evaluation import _plots

matplotlib.use("Agg")


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(20, 400), levels=st.sampled_from([3, 0]))
def test_legends_state_sklearns_auc_and_average_precision(seed, n, levels):
    rng = np.random.default_rng(seed)
    y = np.r_[0, 1, (rng.random(n - 2) < 0.2).astype(int)]
    score = rng.integers(0, levels, n).astype(float) if levels else rng.random(n)
    preds = {"lightgbm": (score, score)}
    for plot, metric in (
        (_plots.plot_roc, roc_auc_score),
        (_plots.plot_precision_recall, average_precision_score),
    ):
        fig = plot(y, preds)
        label = fig.axes[0].get_legend().get_texts()[0].get_text()
        assert label.endswith(f"({metric(y, score):.3f})")
        matplotlib.pyplot.close(fig)


def test_a_long_curve_is_thinned_keeping_its_ends(monkeypatch):
    monkeypatch.setattr(_plots, "_MOST_VERTICES", 100)
    x = np.linspace(0, 1, 1001)
    dx, dy = _plots._drawn(x, x**2)
    assert len(dx) <= 101 and dx[0] == 0.0 and dx[-1] == 1.0
    np.testing.assert_array_equal(dy, dx**2)
    short = np.arange(100.0)
    assert _plots._drawn(short, short)[0] is short

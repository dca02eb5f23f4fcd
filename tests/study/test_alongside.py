"""A stage beside the others: on its own thread where a core is spare, else here."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from escalation_model import _threads
from escalation_model.study._alongside import Alongside, spare_cores


def test_one_allowed_thread_leaves_no_spare_core(monkeypatch):
    monkeypatch.setattr(_threads.os, "cpu_count", lambda: 8)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert spare_cores() == 0
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert spare_cores() == 2
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert spare_cores() == 7


@pytest.mark.parametrize("beside", [True, False])
def test_its_error_surfaces_when_its_result_is_asked_for(beside):
    def fails() -> None:
        raise ValueError("no authority to hold out")

    job = Alongside(fails, beside=beside)
    with pytest.raises(ValueError, match="no authority"):
        job.result()


def test_beside_means_another_thread_and_here_means_this_one():
    here = threading.current_thread()
    assert Alongside(threading.current_thread).result() is not here
    assert Alongside(threading.current_thread, beside=False).result() is here


def test_the_transfer_check_says_where_it_ran_and_gives_the_same_table(
    small_population, monkeypatch
):
    """Beside the later stages (a spare core) or in place (OMP_NUM_THREADS=1): the
    progress message says which, and the transfer table is the same; so are the
    interactions, computed in a forked process where a core is spare."""
    from escalation_model.config import EvaluationConfig, ExplainConfig, RunConfig, SplitConfig
    from escalation_model.datasets import fingerprint
    from escalation_model.study import run_study
    from escalation_model.study._result import StudyData

    frame = small_population.frame
    data = StudyData(frame, small_population.roles, "s", fingerprint(frame))
    config = RunConfig(
        split=SplitConfig(transfer_max_train=2000, transfer_n_bootstrap=20),
        evaluation=EvaluationConfig(n_bootstrap=20),
        explain=ExplainConfig(sample_size=300, interaction_sample=100),
    )
    monkeypatch.setattr(_threads.os, "cpu_count", lambda: 2)
    tables, said, interactions = [], [], []
    for threads in ("2", "1"):
        monkeypatch.setenv("OMP_NUM_THREADS", threads)
        messages: list[str] = []
        result = run_study(config, data, progress=messages.append)
        tables.append(result.transfer)
        interactions.append(result.explanation.interactions)
        said.append(next(m for m in messages if m.startswith("checking transfer")))
    assert said[0].endswith(", beside the stages that follow")
    assert said[1].endswith("(leave one authority out)")
    assert tables[0] is not None
    pd.testing.assert_frame_equal(tables[0], tables[1])
    assert interactions[0] is not None
    pd.testing.assert_frame_equal(interactions[0], interactions[1])

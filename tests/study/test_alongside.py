"""A stage beside the others: on its own thread where a core is spare, else here."""

from __future__ import annotations

import threading

import pytest

from escalation_model.study import _alongside
from escalation_model.study._alongside import Alongside, spare_cores


def test_one_allowed_thread_leaves_no_spare_core(monkeypatch):
    monkeypatch.setattr(_alongside.os, "cpu_count", lambda: 8)
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

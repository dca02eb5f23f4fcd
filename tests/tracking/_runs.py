"""Starting real `escalation-model run` processes on a small tracked configuration, and
reading or moving their store."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

CONFIG = (
    "[data]\nn_families = 10000\nseed = 4\n[evaluation]\nn_bootstrap = 30\n"
    "[split]\nleave_one_authority_out = false\n[explain]\nsample_size = 500\n"
    "interaction_sample = 0\n"
)


def _start(tmp_path: Path, out: str, *extra: str) -> subprocess.Popen:
    cfg = tmp_path / "run.toml"
    cfg.write_text(CONFIG)
    cmd = [sys.executable, "-m", "escalation_model.cli", "run", "--config", str(cfg)]
    cmd += ["--output", out, "--quiet", "--tracking-uri", "sqlite:///mlflow.db", *extra]
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    return subprocess.Popen(
        cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _statuses(db: Path) -> list[str]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return [r[0] for r in con.execute("select status from runs order by start_time")]
    except sqlite3.OperationalError:  # schema not created yet
        return []


def _wait_running(db: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if "RUNNING" in _statuses(db):
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    raise AssertionError("the run never started")


def _move_store(db: Path, old: str, new: str) -> None:
    """Point a copied store at its copied artifacts: MLflow records absolute paths, so
    every text field beginning with the old folder is rewritten to the new one."""
    with sqlite3.connect(db) as con:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        for table in tables:
            for _, column, kind, *_ in con.execute(f"pragma table_info('{table}')").fetchall():
                if "CHAR" in kind.upper() or "TEXT" in kind.upper():
                    con.execute(
                        f'update "{table}" set "{column}" = replace("{column}", ?, ?) '
                        f'where "{column}" like ?',
                        (old, new, f"%{old}%"),
                    )

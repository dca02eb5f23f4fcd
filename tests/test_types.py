"""The package type-checks (mypy, with the settings in pyproject.toml). Run as a test so
that it shares the test workers' two cores with the rest of the suite instead of waiting
in front of it: a clean clone's check takes about 16 seconds."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_package_type_checks():
    from mypy import api

    out, err, status = api.run(
        [
            str(ROOT / "escalation_model"),
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / ".mypy_cache"),  # what `make typecheck` keeps: warm after the first
        ]
    )
    assert status == 0, out + err

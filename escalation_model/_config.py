"""Run configuration: TOML read with the standard library into typed objects."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from os import PathLike
from pathlib import Path
from typing import Any

__all__ = ["ConfigError", "DataConfig", "RunConfig", "load_config"]


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the key and the fix."""


@dataclass(frozen=True)
class DataConfig:
    """Where the families come from.

    ``source = "synthetic"`` generates the embedded population; otherwise ``path`` names a
    CSV or Parquet file and ``roles`` a TOML file mapping its columns onto roles.
    """

    source: str = "synthetic"
    n_families: int = 300_000
    n_authorities: int = 8
    seed: int = 2015
    path: str | None = None
    roles: str | None = None


@dataclass(frozen=True)
class RunConfig:
    """The whole run. Sections mirror the TOML tables."""

    data: DataConfig = field(default_factory=DataConfig)
    output: str = "outputs/run"
    source_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "data": {f.name: getattr(self.data, f.name) for f in fields(self.data)},
            "output": self.output,
        }


def _section(cls: type, table: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}. Fix: use only {sorted(known)}.")
    for key, value in table.items():
        default = getattr(cls(), key)
        if default is not None and not isinstance(value, type(default)):
            raise ConfigError(
                f"{where}.{key}: expected {type(default).__name__}, got {value!r}. "
                f"Fix: write it like the default ({default!r})."
            )
    return cls(**table)


def load_config(path: str | PathLike[str] | None = None) -> RunConfig:
    """Read a run configuration; ``None`` gives the defaults.

    Relative paths inside the file (data, roles) are resolved against the file's folder.
    """
    if path is None:
        return RunConfig()
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist. Fix: give the path of a TOML file.")
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}). Fix: correct the syntax.") from exc
    unknown = sorted(set(raw) - {"data", "output"})
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {unknown}. Fix: use [data] and [output].")
    data_table = dict(raw.get("data", {}))
    for key in ("path", "roles"):
        if isinstance(data_table.get(key), str) and not Path(data_table[key]).is_absolute():
            data_table[key] = str((path.parent / data_table[key]).resolve())
    data = _section(DataConfig, data_table, f"{path} [data]")
    if data.source not in ("synthetic", "file"):
        raise ConfigError(
            f"{path} [data].source: expected 'synthetic' or 'file', got {data.source!r}. "
            "Fix: use one of those."
        )
    if data.source == "file" and not data.path:
        raise ConfigError(
            f"{path} [data]: source = 'file' but no path is given. Fix: add "
            "path = '<your CSV or Parquet file>'."
        )
    output = raw.get("output", {}).get("dir", RunConfig.output)
    return RunConfig(data=data, output=str(output), source_file=str(path))

"""Configuration: `xenlint.toml`, or `[tool.xenlint]` in `pyproject.toml`.

Keys: `profiles`, `fail-on`, `enable` (run only these rules), `disable`, `rule-dirs`
(extra rule directories, relative to the file), `[params.<rule-id>]` (rule parameter
values) and `[[overrides]]` (see overrides.py). Without --config, the nearest such file in
the current directory or a parent is used.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xenlint.finding import PROFILES, FailNever, Severity, parse_fail_on

_KEYS = {"profiles", "fail-on", "enable", "disable", "rule-dirs", "params", "overrides"}


class ConfigError(Exception):
    """A configuration file that cannot be used (a usage error: exit status 2)."""


@dataclass(frozen=True, slots=True)
class Config:
    path: Path | None = None
    profiles: tuple[str, ...] = ()
    fail_on: Severity | FailNever | None = None
    enable: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    rule_dirs: tuple[Path, ...] = ()
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    overrides: tuple[dict[str, Any], ...] = ()


def find_config(start: Path | None = None) -> Path | None:
    """The nearest xenlint.toml, or pyproject.toml with [tool.xenlint], from `start` upward."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / "xenlint.toml"
        if candidate.is_file():
            return candidate
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and "xenlint" in _read(pyproject).get("tool", {}):
            return pyproject
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _strings(data: dict[str, Any], key: str, path: Path) -> tuple[str, ...]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {key} must be a list of strings")
    return tuple(value)


def load_config(path: Path | None = None, *, search: bool = True) -> Config:
    """Read `path` (or the nearest configuration when `search`); no file gives defaults."""
    if path is None:
        path = find_config() if search else None
        if path is None:
            return Config()
    data = _read(path)
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("xenlint", {})
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: [tool.xenlint] must be a table")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)} "
                          f"(known: {', '.join(sorted(_KEYS))})")
    profiles = tuple(p.lower() for p in _strings(data, "profiles", path))
    bad = [p for p in profiles if p not in PROFILES]
    if bad:
        raise ConfigError(f"{path}: unknown profile(s) {', '.join(bad)}")
    fail_on = data.get("fail-on")
    if fail_on is not None and (not isinstance(fail_on, str) or fail_on.lower() not in
                                {*(s.value for s in Severity), FailNever.NEVER.value}):
        raise ConfigError(f"{path}: fail-on must be error, warning, info or none")
    params = data.get("params", {})
    if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
        raise ConfigError(f"{path}: [params] must hold one table per rule id")
    overrides = data.get("overrides", [])
    if not isinstance(overrides, list) or not all(isinstance(o, dict) for o in overrides):
        raise ConfigError(f"{path}: overrides must be an array of tables ([[overrides]])")
    base = path.parent
    return Config(
        path=path, profiles=profiles, fail_on=parse_fail_on(fail_on) if fail_on else None,
        enable=_strings(data, "enable", path), disable=_strings(data, "disable", path),
        rule_dirs=tuple(base / d for d in _strings(data, "rule-dirs", path)),
        params={k: dict(v) for k, v in params.items()}, overrides=tuple(overrides))

"""Configuration: `xenlint.toml`, or `[tool.xenlint]` in `pyproject.toml`.

Keys: `profiles`, `fail-on`, `enable` (run only these rules), `disable`, `rule-dirs`
(extra rule directories, relative to the file), `[params.<rule-id>]` (rule parameter
values) and `[[overrides]]` (see overrides.py). Without --config, the nearest such file in
the current directory or a parent is used.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xenlint.finding import PROFILES, FailNever, Severity, parse_fail_on

_KEYS = {"profiles", "fail-on", "enable", "disable", "rule-dirs", "params", "overrides",
         "checklist"}


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
    # rule id -> (file, line) of its [params.RULE] table, for errors that point there
    params_at: dict[str, tuple[str, int]] = field(default_factory=dict)
    # a distribution's own checklist keys (key -> title), allowed in rules beside Xen's
    checklist: dict[str, str] = field(default_factory=dict)


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


def _table_line(text: str, name: str) -> int:
    """The line of `[name]` (or of `name =` / `name.key =` in a parent table), else 1."""
    head, _, last = name.rpartition(".")
    quoted = rf"(?:{re.escape(last)}|\"{re.escape(last)}\"|'{re.escape(last)}')"
    # in pyproject.toml the table is [tool.xenlint.params.RULE]
    patterns = [rf"^[ \t]*\[[ \t]*(?:[^\]\n]*\.)?{re.escape(head)}\.{quoted}[ \t]*\]",
                rf"^[ \t]*(?:{re.escape(head)}\.)?{quoted}[ \t]*[.=]"] if head else \
        [rf"^[ \t]*\[[ \t]*{quoted}[ \t]*\]", rf"^[ \t]*{quoted}[ \t]*[.=]"]
    for pattern in patterns:
        m = re.search(pattern, text, re.MULTILINE)
        if m:
            return text.count("\n", 0, m.start()) + 1
    return 1


def _checklist(value: Any, path: Path, text: str) -> dict[str, str]:
    """[checklist.KEY] title = "..." tables, or a list of keys: a policy's own keys."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return dict.fromkeys(value, "")
    if not isinstance(value, dict):
        raise ConfigError(f"{path}:{_table_line(text, 'checklist')}: checklist must be a "
                          "list of keys or one [checklist.KEY] table per key")
    out = {}
    for key, item in value.items():
        title = item.get("title", "") if isinstance(item, dict) else None
        if not isinstance(title, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", key):
            raise ConfigError(f"{path}:{_table_line(text, f'checklist.{key}')}: "
                              f"[checklist.{key}] must be a kebab-case key with an optional "
                              "title = \"...\"")
        out[key] = title
    return out


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
    text = path.read_text("utf-8")
    return Config(
        params_at={rule: (str(path), _table_line(text, f"params.{rule}")) for rule in params},
        checklist=_checklist(data.get("checklist", {}), path, text),
        path=path, profiles=profiles, fail_on=parse_fail_on(fail_on) if fail_on else None,
        enable=_strings(data, "enable", path), disable=_strings(data, "disable", path),
        rule_dirs=tuple(base / d for d in _strings(data, "rule-dirs", path)),
        params={k: dict(v) for k, v in params.items()}, overrides=tuple(overrides))

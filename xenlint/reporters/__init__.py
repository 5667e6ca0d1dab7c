"""Reporters: one module per output format, each with `render(report, out, *, color)`.

A module in this package is a format when it defines `render`; `formats()` finds them, so a new
format (e.g. `html.py`) needs no list kept here.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import TextIO

from xenlint.finding import Report

# modules of this package that are helpers, not formats
_HELPERS = frozenset({"locations", "strings"})


def formats() -> list[str]:
    """The format names `render` accepts, in a fixed order (text first, then by name)."""
    names = [m.name for m in pkgutil.iter_modules(__path__)
             if m.name not in _HELPERS and not m.name.startswith("_")]
    return sorted(names, key=lambda n: (n != "text", n))


def _module(fmt: str) -> ModuleType:
    if fmt not in formats():
        raise ValueError(f"unknown output format {fmt!r} (known: {', '.join(formats())})")
    module = importlib.import_module(f"{__name__}.{fmt}")
    if not callable(getattr(module, "render", None)):
        raise ValueError(f"output format {fmt!r} has no render()")
    return module


def render(fmt: str, report: Report, out: TextIO, *, color: bool = False) -> None:
    """Write `report` to `out` in `fmt`. Only the text format uses `color`."""
    _module(fmt).render(report, out, color=color)

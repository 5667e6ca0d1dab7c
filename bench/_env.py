"""The environment a benchmark runs xenlint in: this checkout, byte-compiled.

An installed xenlint has its modules byte-compiled (pip does it at install time). Run from
a checkout with PYTHONDONTWRITEBYTECODE set, as on some CI machines, every process would
compile all of xenlint from source again, and the start-up figures would measure the
compiler rather than xenlint."""

from __future__ import annotations

import compileall
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def xenlint_env() -> dict[str, str]:
    """os.environ for a subprocess that imports xenlint from this checkout, after
    byte-compiling it (into the ignored __pycache__ folders)."""
    compileall.compile_dir(REPO / "xenlint", quiet=1)
    return {**os.environ, "PYTHONPATH": str(REPO)}

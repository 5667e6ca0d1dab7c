"""Rebuild one fixtures/build.py recipe into a scratch directory, for the tests that compare
what the recipes build with what is committed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def rebuilt(recipe: str, out: Path, tools: tuple[str, ...],
            keep: Callable[[Path], bool]) -> list[tuple[Path, Path]]:
    """Each file the recipe builds under `out` that `keep` selects, with its committed twin
    (which must exist)."""
    missing = [t for t in tools if shutil.which(t) is None]
    assert not missing, f"build tools missing (README's test command installs them): {missing}"
    subprocess.run([sys.executable, str(FIXTURES / "build.py"), "--out", str(out), recipe],
                   check=True, capture_output=True)
    built = sorted(p for p in out.rglob("*") if p.is_file() and keep(p))
    assert built
    pairs = [(path, FIXTURES / path.relative_to(out)) for path in built]
    for _path, committed in pairs:
        assert committed.is_file(), f"{committed} is not committed (run fixtures/build.py)"
    return pairs

"""The man pages: generated from the click commands (man/generate.py, click-man), committed
up to date, and installed by the wheel under share/man/man1."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAN = REPO / "man"


def test_the_committed_pages_match_the_commands(tmp_path: Path) -> None:
    sys.path.insert(0, str(MAN))
    try:
        from generate import generate  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(MAN))
    fresh = {p.name: p.read_text() for p in generate(tmp_path)}
    committed = {p.name: p.read_text() for p in MAN.glob("xenlint*.1")}
    assert fresh == committed, "stale man pages: run `python man/generate.py`"
    for command in ("check", "inspect", "audit", "rules", "explain"):
        assert f"xenlint-{command}.1" in fresh
    assert "\\-\\-baseline" in fresh["xenlint-check.1"]


@pytest.mark.slow
def test_the_wheel_installs_the_man_pages(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(tmp_path), str(REPO)], check=True, capture_output=True, timeout=600)
    [wheel] = tmp_path.glob("xenlint-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    pages = [n for n in names if "/data/share/man/man1/" in n]
    assert any(n.endswith("/share/man/man1/xenlint.1") for n in pages), names
    assert any(n.endswith("/share/man/man1/xenlint-check.1") for n in pages)

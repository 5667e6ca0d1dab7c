"""`xenlint` ends its process without tearing the interpreter down (cli._exit): the exit
status and every byte of output must still arrive."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from xenlint.cli import main

REPO = Path(__file__).resolve().parents[2]


def _xenlint(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xenlint", *args], cwd=REPO, text=True,
                          capture_output=True, env={**os.environ, **(env or {})}, check=False)


def test_the_whole_report_arrives_through_a_pipe() -> None:
    res = _xenlint("rules", "--format", "json")
    expected = CliRunner().invoke(main, ["rules", "--format", "json"]).output
    assert res.returncode == 0
    assert len(expected) > 10_000 and res.stdout == expected


def test_exit_statuses_survive(tmp_path: Path) -> None:
    missing = tmp_path / "missing.deb"
    for env in ({}, {"XENLINT_DEBUG": "1"}):  # the fast exit and the ordinary one
        res = _xenlint("check", str(missing), env=env)
        assert res.returncode == 2, res.stderr
        assert "1 unreadable input" in res.stdout
    assert _xenlint("--version").returncode == 0
    bad = _xenlint("check", "--no-such-flag")
    assert bad.returncode == 2 and "No such option" in bad.stderr

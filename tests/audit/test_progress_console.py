"""The audit's progress bar is drawn exactly when rich's stderr console is a terminal (and
$CI is unset), but rich is not imported when stderr cannot be one."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from rich.console import Console

from xenlint.commands.audit import _stderr_console

ENV = ("CI", "TTY_COMPATIBLE", "FORCE_COLOR")


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty", [False, True])
@pytest.mark.parametrize("ci", [None, "", "1"])
@pytest.mark.parametrize("tty_compatible", [None, "", "0", "1"])
@pytest.mark.parametrize("force_color", [None, "", "1"])
def test_same_answer_as_rich(monkeypatch: pytest.MonkeyPatch, tty: bool, ci: str | None,
                             tty_compatible: str | None, force_color: str | None) -> None:
    for name, value in zip(ENV, (ci, tty_compatible, force_color), strict=True):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stderr", _Stream(tty))
    expected = Console(stderr=True).is_terminal and not os.environ.get("CI")
    assert (_stderr_console() is not None) == expected


def test_a_pipeline_audit_does_not_import_rich(tmp_path: Path) -> None:
    probe = ("import sys; sys.argv = ['xenlint'] + sys.argv[1:]\n"
             "from xenlint.cli import main\n"  # not cli.run: it ends the process
             "try:\n    main()\n"
             "except SystemExit as e:\n    code = e.code\n"
             "sys.stderr.write('RICH=%d\\n' % ('rich' in sys.modules))\n"
             "sys.exit(code)\n")
    env = {k: v for k, v in os.environ.items() if k not in ENV}
    res = subprocess.run([sys.executable, "-c", probe, "audit", str(REPO / "fixtures" / "samples"),
                          "--no-cache", "--no-summary", "-j", "1", "--format", "json"],
                         capture_output=True, text=True, cwd=tmp_path, check=False,
                         env={**env, "PYTHONPATH": str(REPO)})
    assert res.returncode in (0, 1) and res.stdout, res.stderr
    assert "RICH=0" in res.stderr


def test_the_bar_draws_without_a_thread_of_its_own() -> None:
    """Lint may fork after the reading (xenlint/audit/shards.py), which it does only while
    no other thread runs: the bar must not keep rich's refresh thread alive."""
    import threading

    from xenlint.commands.audit import _progress

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80)
    before = threading.active_count()
    with _progress(console) as update:
        update(3, 10)
        assert threading.active_count() == before
    assert "3/10" in out.getvalue()

"""Signals and outputs (issue 16): SIGINT exits 130 and SIGTERM 143 with one line, workers
die with their parent, reports replace the old one only once whole, `-o` never names an
input, and names from the input cannot put markup or control characters in a report."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from xenlint.audit.run import AuditStats
from xenlint.audit.summary import print_summary
from xenlint.cli import main
from xenlint.finding import Finding, ReadError, Report, Severity
from xenlint.reporters import render

REPO = Path(__file__).resolve().parents[2]
DEB = REPO / "fixtures" / "readers" / "deb"

# xenlint audit whose every item takes a minute in the worker: the worker writes its pid
# to $XL_PIDS/<pid> when it starts, so the test knows the audit is mid-read.
SLOW_AUDIT = textwrap.dedent("""
    import os, sys, time
    import xenlint.audit.worker as worker

    def analyse(item, config):
        open(os.path.join(os.environ["XL_PIDS"], str(os.getpid())), "w").close()
        time.sleep(60)

    analyse.__module__, analyse.__qualname__ = "xenlint.audit.worker", "analyse"
    worker.analyse = analyse  # before xenlint.audit.run imports it
    sys.argv = ["xenlint", *sys.argv[1:]]
    from xenlint.cli import run
    run()
""")


def _slow_audit(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    pids = tmp_path / "pids"
    pids.mkdir()
    tree = tmp_path / "tree"
    tree.mkdir()
    for deb in sorted(DEB.glob("*.deb"))[:4]:
        (tree / deb.name).write_bytes(deb.read_bytes())
    env = {**os.environ, "XL_PIDS": str(pids), "PYTHONPATH": str(REPO)}
    env.pop("XENLINT_DEBUG", None)
    proc = subprocess.Popen([sys.executable, "-c", SLOW_AUDIT, "audit", str(tree), "-j", "2",
                             "--no-cache", "--no-summary"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(list(pids.iterdir())) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the workers never started"
        time.sleep(0.05)
    return proc, pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie has died; only its parent has not collected it yet
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def _workers_end(pids: Path) -> None:
    workers = [int(p.name) for p in pids.iterdir()]
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in workers):
        assert time.monotonic() < deadline, "a worker outlived its parent"
        time.sleep(0.05)


@pytest.mark.parametrize(("sig", "status", "word"), [(signal.SIGINT, 130, "interrupted"),
                                                    (signal.SIGTERM, 143, "terminated")])
def test_a_signal_ends_the_audit_with_its_status_and_one_line(
        tmp_path: Path, sig: signal.Signals, status: int, word: str) -> None:
    proc, pids = _slow_audit(tmp_path)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == status
    assert err.decode().splitlines() == [f"xenlint: {word}"]
    assert out == b""
    _workers_end(pids)


def test_workers_die_with_a_killed_parent(tmp_path: Path) -> None:
    proc, pids = _slow_audit(tmp_path)
    proc.kill()
    proc.wait(timeout=10)
    _workers_end(pids)


def _cli(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return res.exit_code, res.stderr


@pytest.mark.parametrize("command", ["check", "audit"])
def test_output_naming_an_input_is_refused(tmp_path: Path, command: str) -> None:
    deb = tmp_path / "p.deb"
    deb.write_bytes((DEB / sorted(p.name for p in DEB.glob("*.deb"))[0]).read_bytes())
    before = deb.read_bytes()
    link = tmp_path / "link.deb"
    link.symlink_to(deb)
    extra = ["--no-cache"] if command == "audit" else []
    for output in (deb, link):
        code, err = _cli(command, str(deb), "-o", str(output), *extra)
        assert code == 2
        assert "is an input of this run" in err
        assert deb.read_bytes() == before
    # a file inside an input directory is an input too
    code, _err = _cli(command, str(tmp_path), "-o", str(deb), *extra)
    assert code == 2 and deb.read_bytes() == before
    # and a report beside the inputs is written
    code, _err = _cli(command, str(deb), "-o", str(tmp_path / "report.json"), "--format",
                      "json", *extra)
    assert code in (0, 1) and (tmp_path / "report.json").read_text().startswith("{")


def test_a_failed_write_keeps_the_previous_report(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from xenlint.commands import _output

    deb = sorted(DEB.glob("*.deb"))[0]
    report = tmp_path / "report.txt"
    report.write_text("the previous report\n")

    def crash(_report: Report, _fmt: str, out: io.TextIOBase, *_args: object,
              **_kwargs: object) -> None:
        out.write("half a rep")
        raise RuntimeError("crash while writing")

    monkeypatch.setattr(_output, "emit", crash)
    with pytest.raises(RuntimeError):
        _cli("check", str(deb), "-o", str(report))
    assert report.read_text() == "the previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.txt"]  # no temp left


HOSTILE = "evil[bold red]X[reset]\x1b[31m\x1b]0;title\x07<b>\udcff\n.deb"


def _hostile_report() -> Report:
    finding = Finding("r-one", Severity.ERROR, "dom0", ("dom0-kernel",), HOSTILE,
                      HOSTILE, f"message about {HOSTILE}", f"fix\n{HOSTILE}")
    return Report(findings=[finding], artifacts=[HOSTILE],
                  errors=[ReadError(HOSTILE, "is bad")])


def test_html_escapes_every_name() -> None:
    out = io.StringIO()
    render("html", _hostile_report(), out)
    page = out.getvalue()
    page.encode("utf-8")  # an undecodable byte in a name does not crash the writer
    assert "<b>" not in page
    assert "\x1b" not in page and "\x07" not in page and "\udcff" not in page
    assert "\\x1b[31m" in page and "\\xff" in page


def test_summary_table_shows_names_as_plain_text() -> None:
    console = Console(record=True, width=400, force_terminal=True, color_system="truecolor",
                      file=io.StringIO())
    print_summary(_hostile_report(), AuditStats(), console)
    plain = console.export_text()
    assert "evil[bold red]X[reset]" in plain  # printed as written, not read as markup
    # the only escape sequences are the table's own styles (CSI ... m), none from the name
    raw = console.export_text(styles=True)
    assert "\x1b]0;" not in raw and "\x07" not in raw
    assert "\\x1b[31m" in plain and "\\xff" in plain

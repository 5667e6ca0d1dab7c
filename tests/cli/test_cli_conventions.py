"""The command-line habits lintian and rpmlint users bring: options anywhere in the short
form, a suggestion for a mistyped subcommand, case-insensitive profiles, --color and
$NO_COLOR, --fail-on none, size suffixes, and read errors that never pass silently."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from xenlint.cli import ByteSize, main

REPO = Path(__file__).resolve().parents[2]
# a meta-package that Requires nothing: an error alone (no relation names an absent package)
SYSTEM = REPO / "fixtures" / "rules" / "meta-package-missing-hypervisor" / \
    "fail-rpm-requires-nothing" / "xen-system-4.17.0-1.noarch.rpm"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xenlint", *args], cwd=REPO, text=True,
                          capture_output=True, check=False,
                          env={**os.environ, "XENLINT_CORPUS": "", **(env or {})})


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    res = CliRunner().invoke(main, list(args), env=env)
    return res.exit_code, res.stdout, res.stderr


def test_short_form_takes_options_before_the_paths() -> None:
    code, out, _ = invoke("--profile", "dom0", "--format", "json", str(SYSTEM))
    assert code == 1
    data = json.loads(out)
    assert data["profiles"] == ["dom0"] and data["findings"]


def test_short_form_takes_options_after_the_paths(tmp_path: Path) -> None:
    out = tmp_path / "out.sarif"
    code, _, _ = invoke(str(SYSTEM), "-o", str(out), "--format", "sarif")
    assert code == 1
    assert json.loads(out.read_text())["version"] == "2.1.0"


def test_group_options_still_come_first() -> None:
    # in a child process: --debug sets XENLINT_DEBUG for the rest of the process
    res = run("--debug", "--profile", "dom0", str(SYSTEM))
    assert res.returncode == 1 and "meta-package-missing-hypervisor" in res.stdout


def test_mistyped_subcommand_gets_a_suggestion() -> None:
    res = run("chek", str(SYSTEM))
    assert res.returncode == 2
    assert "did you mean 'check'?" in res.stderr
    assert res.stdout == ""  # the typo is not read as a missing file


def test_an_existing_file_named_like_a_command_is_read(tmp_path: Path) -> None:
    (tmp_path / "chek").write_bytes(SYSTEM.read_bytes())
    code, out, _ = invoke("--profile", "dom0", str(tmp_path / "chek"))
    assert code == 1 and "meta-package-missing-hypervisor" in out


@pytest.mark.parametrize("spelling", ["DomU", "DOM0", "Installer"])
def test_profile_names_ignore_case(spelling: str) -> None:
    code, out, err = invoke("--profile", spelling, "--format", "json", str(SYSTEM))
    assert code in (0, 1), err
    assert json.loads(out)["profiles"] == [spelling.lower()]


def test_fail_on_none_keeps_findings_but_exits_0() -> None:
    code, out, _ = invoke("check", "--fail-on", "none", str(SYSTEM))
    assert code == 0
    assert "E: " in out and "meta-package-missing-hypervisor" in out


def test_fail_on_none_still_exits_2_on_unreadable_input(tmp_path: Path) -> None:
    code, _, _ = invoke("check", "--fail-on", "none", str(tmp_path / "missing.deb"))
    assert code == 2


@pytest.mark.parametrize(("text", "value"), [
    ("1G", 1 << 30), ("256M", 256 << 20), ("64KiB", 64 << 10), ("4096", 4096),
    ("2g", 2 << 30), ("1T", 1 << 40), ("3MB", 3 << 20)])
def test_size_suffixes(text: str, value: int) -> None:
    assert ByteSize().convert(text, None, None) == value


def test_size_flag_accepts_a_suffix_and_refuses_nonsense() -> None:
    code, _, _ = invoke("check", "--max-member-bytes", "1G", str(SYSTEM))
    assert code == 1
    code, _, err = invoke("check", "--max-member-bytes", "1Q", str(SYSTEM))
    assert code == 2 and "is not a size" in err
    # the value reaches the command as bytes
    for name in ("check", "audit", "inspect"):
        command = main.get_command(click.Context(main), name)
        assert command is not None
        ctx = command.make_context(name, ["--max-member-bytes", "1G", str(SYSTEM)])
        assert ctx.params["max_member_bytes"] == 1 << 30


def _colored(out: str) -> bool:
    return "\x1b[" in out


def test_color_always_never_and_no_color() -> None:
    assert _colored(invoke("check", "--color", "always", str(SYSTEM))[1])
    assert _colored(invoke("check", "--color", "always", str(SYSTEM),
                           env={"NO_COLOR": "1"})[1])
    assert not _colored(invoke("check", "--color", "never", str(SYSTEM))[1])
    assert not _colored(invoke("check", "--no-color", str(SYSTEM))[1])
    assert not _colored(invoke("check", str(SYSTEM))[1])  # auto, not a terminal


def test_color_auto_on_a_terminal_honours_no_color() -> None:
    pytest.importorskip("pty")
    import pty

    def on_tty(env: dict[str, str]) -> str:
        parent, child = pty.openpty()
        proc = subprocess.run([sys.executable, "-m", "xenlint", "check", str(SYSTEM)],
                              stdout=child, stderr=subprocess.DEVNULL, cwd=REPO, check=False,
                              env={k: v for k, v in {**os.environ, **env}.items()
                                   if not (k == "NO_COLOR" and not env.get(k))})
        os.close(child)
        chunks = []
        while True:
            try:
                chunk = os.read(parent, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(parent)
        assert proc.returncode == 1
        return b"".join(chunks).decode()

    assert _colored(on_tty({"NO_COLOR": ""}))
    assert not _colored(on_tty({"NO_COLOR": "1"}))


def test_read_errors_go_to_stderr(tmp_path: Path) -> None:
    res = run("check", str(SYSTEM), str(tmp_path / "missing.deb"))
    assert res.returncode == 2
    assert f"X: {tmp_path / 'missing.deb'}: does not exist" in res.stderr
    assert "X:" not in res.stdout
    assert "1 unreadable input" in res.stdout  # the summary still counts it
    report = tmp_path / "report.txt"  # a report file keeps them, and stderr shows them
    res = run("check", str(SYSTEM), str(tmp_path / "missing.deb"), "-o", str(report))
    assert "X: " in report.read_text() and "X: " in res.stderr


def test_audit_of_a_directory_with_nothing_to_read_exits_2(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing xenlint reads\n")
    res = run("audit", "--no-cache", str(tmp_path))
    assert res.returncode == 2
    assert "holds no package, image or root tree xenlint reads" in res.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run("audit", "--no-cache", str(empty)).returncode == 2


def _refuse(monkeypatch: pytest.MonkeyPatch, locked: Path) -> None:
    """Deny listing `locked` and examining what is inside it, as a directory without read
    and search permission does (the tests may run as root, where chmod denies nothing)."""
    real_scandir, real_lstat = os.scandir, os.lstat

    def scandir(path: object = ".") -> object:
        if Path(os.fsdecode(path)) == locked:  # type: ignore[arg-type]
            raise PermissionError(13, "Permission denied", os.fsdecode(path))  # type: ignore[arg-type]
        return real_scandir(path)  # type: ignore[arg-type]

    def lstat(path: object, *a: object, **k: object) -> os.stat_result:
        if Path(os.fsdecode(path)).parent == locked:  # type: ignore[arg-type]
            raise PermissionError(13, "Permission denied", os.fsdecode(path))  # type: ignore[arg-type]
        return real_lstat(path, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "lstat", lstat)


def test_a_directory_that_cannot_be_listed_is_reported(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from xenlint.readers import read_path, walk_files

    (tmp_path / "ok.deb").write_bytes(SYSTEM.read_bytes())
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "hidden.deb").write_bytes(SYSTEM.read_bytes())
    _refuse(monkeypatch, locked)
    found = dict(walk_files(tmp_path))
    assert found[tmp_path / "ok.deb"] is None
    assert found[locked] == "cannot be listed: Permission denied"
    errors = {a.path: a.error for a in read_path(tmp_path)}
    assert errors[str(locked)] == "cannot be listed: Permission denied"


def test_a_package_that_cannot_be_examined_is_reported(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from xenlint.readers import walk_files

    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "hidden.deb").write_bytes(SYSTEM.read_bytes())
    real_scandir = os.scandir
    real_lstat = os.lstat

    def lstat(path: object, *a: object, **k: object) -> os.stat_result:
        if Path(os.fsdecode(path)).name == "hidden.deb":  # type: ignore[arg-type]
            raise PermissionError(13, "Permission denied", os.fsdecode(path))  # type: ignore[arg-type]
        return real_lstat(path, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", real_scandir)
    monkeypatch.setattr(os, "lstat", lstat)
    found = dict(walk_files(tmp_path))
    assert found == {locked / "hidden.deb": "cannot be examined: Permission denied"}


def test_audit_reports_an_unlistable_directory(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from xenlint.audit.targets import discover
    from xenlint.limits import Limits

    (tmp_path / "ok.deb").write_bytes(SYSTEM.read_bytes())
    locked = tmp_path / "locked"
    locked.mkdir()
    _refuse(monkeypatch, locked)
    groups = discover(str(tmp_path), Limits(), False, None)
    errors = {a.path: a.error for g in groups for a in g.metadata}
    assert errors == {str(locked): "cannot be listed: Permission denied"}

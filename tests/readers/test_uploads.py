"""`xenlint FOO.changes`: an upload's files, verified against the .changes, as one set.

Fixtures: fixtures/uploads/ (recipes/uploads.py), the sample package set uploaded with a
.buildinfo; tampered, missing and md5-only variants.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from xenlint.cli import main
from xenlint.readers import changes, read_path

REPO = Path(__file__).resolve().parents[2]
UPLOADS = REPO / "fixtures" / "uploads"
NAME = "xen-sample_4.17.3-1_amd64.changes"
TOOLS = "xen-tools-sample_4.17.3-1_amd64.deb"
HV = "xen-hypervisor-sample-4.17-amd64_4.17.3-1_amd64.deb"


def run(*args: str | Path) -> tuple[int, dict[str, Any]]:
    res = CliRunner().invoke(main, [*map(str, args), "--format", "json"],
                             catch_exceptions=False)
    assert res.exit_code in (0, 1, 2), res.stderr
    return res.exit_code, json.loads(res.stdout)


def text(*args: str | Path) -> tuple[int, list[str]]:
    """The exit status and the lines of the text report (X: lines go to stderr)."""
    res = CliRunner().invoke(main, list(map(str, args)), catch_exceptions=False)
    return res.exit_code, res.stdout.splitlines() + res.stderr.splitlines()


@pytest.mark.parametrize("command", [(), ("check",), ("audit", "--no-cache")])
def test_an_upload_is_the_set_of_packages_it_lists(command: tuple[str, ...]) -> None:
    code, doc = run(*command, UPLOADS / "good" / NAME)
    _code, same = run("check", *sorted((UPLOADS / "good").glob("*.deb")))
    debs = sorted(str(p) for p in (UPLOADS / "good").glob("*.deb"))
    assert sorted(doc["artifacts"]) == debs  # the .buildinfo is verified, then left out
    assert doc["errors"] == [] and code == 0
    strip = [{k: v for k, v in f.items() if k != "fingerprint"} for f in doc["findings"]]
    assert strip == [{k: v for k, v in f.items() if k != "fingerprint"}
                     for f in same["findings"]]
    assert [f["rule"] for f in doc["findings"]] == ["meta-package-missing-docs"]


@pytest.mark.parametrize("command", [(), ("audit", "--no-cache")])
@pytest.mark.parametrize(("case", "name", "line"), [
    ("tampered", TOOLS, "does not match its .changes (sha256)"),
    ("md5-only", TOOLS, "does not match its .changes (md5)"),
    ("missing", HV, "is listed in its .changes but does not exist"),
])
def test_a_file_that_fails_verification_is_one_line_and_exit_2(
        command: tuple[str, ...], case: str, name: str, line: str) -> None:
    code, out = text(*command, UPLOADS / case / NAME)
    assert code == 2
    assert [x for x in out if x.startswith("X:")] == [f"X: {UPLOADS / case / name}: {line}"]
    code, doc = run(*command, UPLOADS / case / NAME)
    # the other packages were still read and checked; the bad one is an unreadable input
    bad = str(UPLOADS / case / name)
    assert [e["artifact"] for e in doc["errors"]] == [bad]
    assert len(doc["artifacts"]) == 3 and doc["summary"]["errors"] == 1
    # the unreadable package is absent from the set: what it decides is unknown, no finding
    assert doc["summary"]["unknowns"] and all(f["artifact"] != bad for f in doc["findings"])


def test_verification_comes_first_a_mismatching_file_is_not_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    real = changes.open_upload

    def spy(path: Path, display: str, limits: Any) -> Any:
        found = real(path, display, limits)
        assert found is not None
        opened.extend(v.display for v in found[0])
        return found

    monkeypatch.setattr(changes, "open_upload", spy)
    arts = read_path(UPLOADS / "tampered" / NAME)
    assert sorted(a.name for a in arts) == sorted([
        HV, "xen-system-sample_4.17.3-1_amd64.deb", TOOLS])
    bad = [a for a in arts if a.error]
    assert [a.name for a in bad] == [TOOLS] and not bad[0].package
    assert not any(d.endswith(TOOLS) for d in opened)
    # a verified package carries the sha256 its .changes announced
    good = next(a for a in arts if a.name == HV)
    assert good.sha256 and good.sha256 in (UPLOADS / "tampered" / NAME).read_text()


def test_recognised_by_content_signed_or_not_whatever_its_name(tmp_path: Path) -> None:
    for p in (UPLOADS / "good").iterdir():
        shutil.copy(p, tmp_path)
    body = (UPLOADS / "good" / NAME).read_text()
    (tmp_path / "upload.txt").write_text(
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n" + body +
        "\n-----BEGIN PGP SIGNATURE-----\n\niQ==\n-----END PGP SIGNATURE-----\n")
    (tmp_path / NAME).unlink()
    code, doc = run(tmp_path / "upload.txt")
    assert code == 0 and len(doc["artifacts"]) == 3
    # a deb822 file that is no .changes (a .dsc has no Distribution) is not taken for one
    (tmp_path / "x.dsc").write_text("Format: 3.0 (quilt)\nSource: x\nFiles:\n d41d8cd98f00b204"
                                    "e9800998ecf8427e 0 x.tar.xz\n")
    code, out = text(tmp_path / "x.dsc")
    assert code == 2 and f"X: {tmp_path / 'x.dsc'}: is not a format xenlint reads" in out


def test_a_listed_name_with_a_directory_is_refused(tmp_path: Path) -> None:
    body = (UPLOADS / "good" / NAME).read_text().replace(f" {HV}", f" ../{HV}")
    (tmp_path / NAME).write_text(body)
    code, out = text(tmp_path / NAME)
    assert code == 2
    errors = [x for x in out if x.startswith("X:")]
    assert f"X: {tmp_path}/../{HV}: is named in its .changes with a directory; not read" \
        in errors


@pytest.mark.parametrize("command", [(), ("audit", "--no-cache")])
def test_an_upload_of_nothing_xenlint_reads_is_one_line(command: tuple[str, ...],
                                                        tmp_path: Path) -> None:
    """A source-only upload, like an empty folder, must not pass as clean."""
    shutil.copy(UPLOADS / "good" / "xen-sample_4.17.3-1_amd64.buildinfo", tmp_path)
    body = (UPLOADS / "good" / NAME).read_text()
    keep = [line for line in body.splitlines() if not line.endswith(".deb")]
    (tmp_path / NAME).write_text("\n".join(keep) + "\n")
    code, out = text(*command, tmp_path / NAME)
    assert code == 2
    assert f"X: {tmp_path / NAME}: holds no package, image or root tree xenlint reads" in out


def test_a_changes_over_the_memory_limit_is_one_line() -> None:
    code, out = text("--max-held-bytes", "100", UPLOADS / "good" / NAME)
    assert code == 2
    assert [x for x in out if x.startswith("X:")] == [
        f"X: {UPLOADS / 'good' / NAME}: is larger than 100 bytes held in memory "
        "(max_held_bytes)"]

"""`--with-repo PATH`: a repository's packages join the package set as header-only context.

The toolstack fixtures of libxl-device-model-not-shipped are checked without their
qemu-system-xen; fixtures/repos/ (recipes/repos.py) holds that qemu in the repository
layouts --with-repo reads, either at the path libxl runs or elsewhere.
"""

from __future__ import annotations

import gzip
import json
import lzma
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import need_tools

from xenlint.audit.context import Context
from xenlint.cli import main
from xenlint.limits import Limits
from xenlint.readers import read_path

REPO = Path(__file__).resolve().parents[2]
FIX = REPO / "fixtures"
REPOS = FIX / "repos"
DM = FIX / "rules" / "libxl-device-model-not-shipped"
TOOLS = sorted(p for p in (DM / "pass-recommended-qemu-at-libxl-path").glob("*.deb")
               if not p.name.startswith("qemu-"))
RULE = "libxl-device-model-not-shipped"
AT_PATH = {
    "suite": REPOS / "debian" / "dists" / "qemu-at-libxl-path",
    "packages-file": REPOS / "packages-file" / "Packages.gz",
    "apt-lists": REPOS / "apt-lists",
}
ELSEWHERE = REPOS / "debian" / "dists" / "qemu-elsewhere"
RPM_TOOLS = DM / "pass-rpm-symlink-to-required-qemu" / "xen-runtime-4.17.0-1.x86_64.rpm"


def run(*args: str | Path) -> tuple[int, dict[str, Any]]:
    res = CliRunner().invoke(main, [*map(str, args), "--format", "json"],
                             catch_exceptions=False)
    assert res.exit_code in (0, 1, 2), res.stderr
    return res.exit_code, json.loads(res.stdout)


def rules_of(doc: dict[str, Any], key: str = "findings") -> list[str]:
    return [f["rule"] for f in doc[key]]


def test_the_toolstack_alone_does_not_know_its_device_model() -> None:
    assert len(TOOLS) == 4 and RPM_TOOLS.is_file()
    code, doc = run("check", "--select", RULE, "--show-unknown", *TOOLS)
    # the qemu-system-xen it Recommends is absent: it could ship the device model
    assert code == 0 and rules_of(doc) == [] and rules_of(doc, "unknowns") == [RULE]
    assert doc["unknowns"][0]["absent_packages"] == ["qemu-system-xen"]


@pytest.mark.parametrize("form", sorted(AT_PATH))
def test_a_repository_that_ships_the_device_model_gives_a_clean_verdict(form: str) -> None:
    code, doc = run("check", "--select", RULE, "--show-unknown", "--with-repo", AT_PATH[form],
                    *TOOLS)
    assert (code, doc["findings"], doc["unknowns"], doc["errors"]) == (0, [], [], [])


def test_a_repository_whose_qemu_ships_elsewhere_keeps_the_real_finding() -> None:
    code, doc = run("check", "--select", RULE, "--with-repo", ELSEWHERE, *TOOLS)
    assert code == 1 and rules_of(doc) == [RULE]
    assert "/usr/libexec/xen-qemu-system-i386" in doc["findings"][0]["message"]


def test_the_bare_form_takes_the_option_before_the_paths() -> None:
    code, doc = run("--with-repo", AT_PATH["suite"], "--select", RULE, *TOOLS)
    assert code == 0 and doc["findings"] == []


def test_context_packages_are_never_reported_nor_counted() -> None:
    _code, plain = run("check", "--show-unknown", *TOOLS)
    _code, doc = run("check", "--show-unknown", "--with-repo", AT_PATH["apt-lists"], *TOOLS)
    inputs = sorted(map(str, TOOLS))
    assert sorted(doc["artifacts"]) == inputs == sorted(plain["artifacts"])
    assert doc["summary"]["artifacts"] == 4
    for item in doc["findings"] + doc["unknowns"]:
        assert item["artifact"] in inputs
        assert "qemu-system-xen" not in json.dumps(item.get("location") or "")
    # the context answered exactly the device-model question, nothing else changed
    assert rules_of(plain) == rules_of(doc)
    assert sorted(rules_of(plain, "unknowns")) == sorted([*rules_of(doc, "unknowns"), RULE])


def test_a_package_of_the_set_replaces_the_context_package_of_its_name() -> None:
    """The upload's qemu-system-xen (shipping elsewhere) is what gets installed, not the
    repository's older one at the right path."""
    own_qemu = sorted((DM / "fail-qemu-elsewhere").glob("*.deb"))
    code, doc = run("check", "--select", RULE, "--with-repo", AT_PATH["suite"], *own_qemu)
    assert code == 1 and rules_of(doc) == [RULE]


def test_an_rpm_repository_completes_the_toolstack_closure() -> None:
    code, alone = run("check", "--select", RULE, "--show-unknown", RPM_TOOLS)
    assert code == 0 and rules_of(alone, "unknowns") == [RULE]  # qemu's package is absent
    code, doc = run("check", "--select", RULE, "--show-unknown", "--with-repo",
                    REPOS / "rpm" / "qemu-at-path", RPM_TOOLS)
    assert (code, doc["findings"], doc["unknowns"]) == (0, [], [])
    assert doc["artifacts"] == [str(RPM_TOOLS)]


def test_only_what_the_set_reaches_is_kept_with_its_file_list() -> None:
    ctx = Context.load([AT_PATH["apt-lists"], REPOS / "rpm" / "qemu-at-path"], Limits())
    assert sorted(n.name for n in ctx.nodes) == ["qemu-system-x86-core", "qemu-system-xen"]
    tools = [a for p in TOOLS for a in read_path(p)]
    (qemu,) = ctx.for_set(tools)
    assert qemu.package is not None and qemu.package.name == "qemu-system-xen"
    assert list(qemu.entries) == ["/usr/libexec/xen-qemu-system-i386"]
    assert qemu.meta.index == "Contents"
    # a set that names neither reaches nothing, and its file lists are not read
    samples = [a for p in sorted((FIX / "samples").glob("*.deb")) for a in read_path(p)]
    assert ctx.for_set(samples) == []
    assert ctx.errors == []


def test_an_unreadable_repository_is_one_line_and_the_rest_is_checked(tmp_path: Path) -> None:
    (tmp_path / "Packages.xz").write_bytes(b"\xfd7zXZ\x00 truncated")
    for bad, message in ((tmp_path / "missing", "does not exist"),
                         (FIX / "samples", "is not a Debian suite"),
                         (tmp_path / "Packages.xz", "unreadable index")):
        code, doc = run("check", "--select", RULE, "--show-unknown", "--with-repo", bad,
                        *TOOLS)
        assert code == 2
        assert [e["artifact"] for e in doc["errors"]] == [str(bad)]
        assert message in doc["errors"][0]["message"]
        # the packages were still checked: qemu-system-xen stays absent
        assert rules_of(doc, "unknowns") == [RULE]


def test_audit_takes_the_context_and_its_cache_follows_the_repository(tmp_path: Path) -> None:
    tree = tmp_path / "upload"
    tree.mkdir()
    for p in TOOLS:
        shutil.copy(p, tree)
    repo = tmp_path / "repo"
    shutil.copytree(ELSEWHERE, repo)
    cache = tmp_path / "cache"
    args = ("audit", tree, "--select", RULE, "--cache-dir", cache, "--with-repo", repo)
    code, doc = run(*args)
    assert code == 1 and rules_of(doc) == [RULE]
    assert doc["summary"]["artifacts"] == 4
    # the repository changes (now ships qemu at libxl's path): the cached verdict is not kept
    shutil.rmtree(repo)
    shutil.copytree(AT_PATH["suite"], repo)
    code, doc = run(*args)
    assert code == 0 and doc["findings"] == []
    code, doc = run("audit", tree, "--select", RULE, "--no-cache")
    # and without it, qemu-system-xen is absent again: unknown
    assert code == 0 and doc["findings"] == [] and doc["summary"]["unknowns"] == 1


def test_a_context_package_without_a_file_list_is_left_out(tmp_path: Path) -> None:
    """Without Contents, what qemu-system-xen ships is unknown: taken as shipping nothing,
    it would turn an unknown into a false finding; it stays absent instead."""
    lists = tmp_path / "lists"
    lists.mkdir()
    for p in AT_PATH["apt-lists"].iterdir():
        if "_Contents-" not in p.name:
            shutil.copy(p, lists)
    ctx = Context.load([lists], Limits())
    assert [n.name for n in ctx.nodes] == ["qemu-system-xen"]
    assert ctx.for_set([a for p in TOOLS for a in read_path(p)]) == []
    _code, alone = run("check", "--select", RULE, "--show-unknown", *TOOLS)
    _code, doc = run("check", "--select", RULE, "--show-unknown", "--with-repo", lists, *TOOLS)
    assert (doc["findings"], doc["unknowns"]) == (alone["findings"], alone["unknowns"])


def test_debian_xen_set_with_its_qemu_from_a_suite(corpus: Path, tmp_path: Path) -> None:
    """Debian's Xen 4.17.7 packages without qemu-system-xen, whose device model a suite
    made of the corpus's real qemu-system-xen ships (dpkg-scanpackages, apt-ftparchive)."""
    need_tools("dpkg-scanpackages", "apt-ftparchive")
    debs = sorted(str(p) for p in (corpus / "deb").glob("*.deb")
                  if p.name.startswith(("xen", "libxen")))
    qemu = next((corpus / "deb").glob("qemu-system-xen_*.deb"))
    pool = tmp_path / "pool" / "main"
    pool.mkdir(parents=True)
    shutil.copy(qemu, pool)
    suite = tmp_path / "dists" / "bookworm" / "main"
    (suite / "binary-amd64").mkdir(parents=True)
    (suite / "binary-amd64" / "Packages").write_bytes(subprocess.run(
        ["dpkg-scanpackages", "pool"], cwd=tmp_path, capture_output=True, check=True).stdout)
    (suite / "Contents-amd64").write_bytes(subprocess.run(
        ["apt-ftparchive", "contents", "pool"], cwd=tmp_path, capture_output=True,
        check=True).stdout)
    _code, alone = run("check", "--profile", "dom0", "--show-unknown", *debs)
    code, doc = run("check", "--profile", "dom0", "--show-unknown", "--with-repo",
                    tmp_path / "dists" / "bookworm", *debs)
    # alone, libxl's /usr/libexec/xen-qemu-system-i386 is shipped by nothing in the run
    assert RULE in rules_of(alone) + rules_of(alone, "unknowns")
    assert RULE not in rules_of(doc) + rules_of(doc, "unknowns")
    assert code in (0, 1) and doc["errors"] == []
    # the context's qemu-system-xen is not counted, nor listed
    assert doc["artifacts"] == alone["artifacts"] and not any(
        "qemu" in a for a in doc["artifacts"])
    assert doc["summary"]["artifacts"] == alone["summary"]["artifacts"]


def test_a_context_package_in_another_version_leaves_the_target_absent() -> None:
    """The tools Recommend qemu-system-xen (>= 1:8.0); the repository has 1:7.2. The
    version needed is one the repository does not show: unknown, naming it. Among the
    checked packages, the same 1:7.2 makes the relation fail for real."""
    case = sorted((DM / "fail-qemu-version-too-old").glob("*.deb"))
    tools = [p for p in case if not p.name.startswith("qemu-")]
    code, doc = run("check", "--select", RULE, "--show-unknown", "--with-repo",
                    AT_PATH["suite"], *tools)
    assert (code, rules_of(doc), rules_of(doc, "unknowns")) == (0, [], [RULE])
    assert doc["unknowns"][0]["absent_packages"] == ["qemu-system-xen"]
    code, doc = run("check", "--select", RULE, *case)
    assert code == 1 and rules_of(doc) == [RULE]


def test_index_text_that_is_not_utf8_is_read_with_a_warning(tmp_path: Path) -> None:
    """As `audit` reads its own indexes: a reached paragraph or Contents line in Latin-1 is
    decoded as apt decodes it, the verdict stands, and standard error says so once."""

    suite = tmp_path / "suite"
    shutil.copytree(AT_PATH["suite"], suite)
    packages = suite / "main" / "binary-amd64" / "Packages.xz"
    text = lzma.decompress(packages.read_bytes())
    assert b"Package: qemu-system-xen\n" in text
    packages.write_bytes(lzma.compress(text.replace(b"Maintainer: ", b"Maintainer: Jos\xe9 ")))
    contents = suite / "main" / "Contents-amd64.gz"
    odd = b"usr/share/doc/qemu-system-xen/r\xe9sum\xe9"
    contents.write_bytes(gzip.compress(gzip.decompress(contents.read_bytes())
                                       + odd + b"  otherosfs/qemu-system-xen\n"))
    args = ("--select", RULE, "--show-unknown", "--with-repo", suite, "--format", "json")
    res = CliRunner().invoke(main, ["check", *map(str, args), *map(str, TOOLS)],
                             catch_exceptions=False)
    doc = json.loads(res.stdout)
    assert (res.exit_code, doc["findings"], doc["unknowns"], doc["errors"]) == (0, [], [], [])
    tail = " is not UTF-8; read with replacement characters, as apt and dpkg read it"
    expected = [
        f"xenlint: warning: {packages}: paragraph 1 ('Package: qemu-system-xen'), its line 4,"
        + tail,
        f"xenlint: warning: {contents}: the line {odd + b'  otherosfs/qemu-system-xen'!r}"
        + tail]
    assert res.stderr.splitlines() == expected
    # `audit` says the same of the repository it was given as context
    tree = tmp_path / "upload"
    tree.mkdir()
    for p in TOOLS:
        shutil.copy(p, tree)
    res = CliRunner().invoke(main, ["audit", str(tree), "--no-cache", "--no-summary",
                                    *map(str, args)], catch_exceptions=False)
    assert res.exit_code == 0 and json.loads(res.stdout)["findings"] == []
    assert res.stderr.splitlines() == expected

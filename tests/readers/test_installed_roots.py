"""Installed roots: a root with a dpkg or rpm database is the set of its installed packages."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, need_tools
from xenlint.artifact import Artifact, EntryType, Kind
from xenlint.engine.lint import LintOptions, lint_paths
from xenlint.limits import Limits
from xenlint.readers import read_path

ROOTS = FIXTURES / "readers" / "roots"
RECIPES = FIXTURES / "recipes"


def by_name(arts: list[Artifact]) -> dict[str, Artifact]:
    return {a.path.rsplit(":", 1)[-1] if a.kind is Kind.INSTALLED else "ROOT": a for a in arts}


def test_dpkg_root_packages_are_subjects_of_their_own() -> None:
    arts = by_name(read_path(ROOTS / "deb-root"))
    assert set(arts) == {"ROOT", "hello-doc", "xen-hypervisor-4.17-amd64", "xen-utils-4.17",
                         "xen-utils-common"}
    assert all(not a.error for a in arts.values())
    utils = arts["xen-utils-4.17"]
    assert utils.path == f"{ROOTS / 'deb-root'}:xen-utils-4.17"
    assert utils.package is not None and utils.package.recommends == ["qemu-system-xen"]
    assert set(utils.files) == {"/usr/lib/xen-4.17/bin/xl", "/usr/lib/xen-4.17/bin/xenstored"}
    common = arts["xen-utils-common"]
    assert common.package is not None
    assert common.package.conffiles == ["/etc/xen/xl.conf"]
    assert "update-rc.d xen defaults" in common.package.scripts["postinst"]
    assert common.package.interpreters == {"postinst": "/bin/sh"}
    # listed as /bin/xen-wrapper, on disk under usr/bin through the /bin link
    assert common.entries["/bin/xen-wrapper"].type is EntryType.FILE
    assert common.read("/etc/init.d/xen") is not None
    assert common.read("/bin/xen-wrapper") == b"#!/bin/sh\nexit 0\n"


def test_files_no_package_owns_stay_with_the_root() -> None:
    arts = by_name(read_path(ROOTS / "deb-root"))
    rest = arts["ROOT"]
    assert rest.kind is Kind.DIRECTORY
    assert "/etc/hostname" in rest.files and "/etc/rc2.d/S01xen" in rest.files
    assert "/usr/lib/xen-4.17/bin/xl" not in rest.entries
    assert "/usr/bin/xen-wrapper" not in rest.entries  # owned as /bin/xen-wrapper
    assert rest.meta.package_db == "dpkg"


def test_a_deleted_file_is_not_installed() -> None:
    doc = by_name(read_path(ROOTS / "deb-root"))["hello-doc"]
    assert "/usr/share/doc/hello-doc/README" not in doc.entries
    assert doc.meta.missing_files == ["/usr/share/doc/hello-doc/README"]


def test_symlinks_resolve_inside_the_root_only(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(ROOTS / "deb-root", root, symlinks=True)
    (root / "etc/shadow").write_text("inside the root\n")
    rest = by_name(read_path(root))["ROOT"]
    # /etc/xen/escape -> /etc/shadow is ROOT/etc/shadow, never the host's
    assert rest.read("/etc/xen/escape") == b"inside the root\n"
    (root / "etc/xen/up").symlink_to("../../../../../../../etc/hostname")
    rest = by_name(read_path(root))["ROOT"]
    assert rest.read("/etc/xen/up") == b"dom0\n"


def test_hypervisor_images_are_children_of_their_package() -> None:
    hv = by_name(read_path(ROOTS / "deb-root"))["xen-hypervisor-4.17-amd64"]
    kids = {c.path.rsplit("!", 1)[1]: c for c in hv.children}
    gz = kids["/boot/xen-4.17-amd64.gz"].hypervisor
    assert gz is not None and gz.version == "4.17.7" and gz.config is not None


@pytest.mark.parametrize("name", ["rpm-root", "sysimage-root"])
def test_rpmdb_sqlite_root(name: str) -> None:
    arts = by_name(read_path(ROOTS / name))
    assert set(arts) == {"ROOT", "xen-runtime", "xen-hypervisor"}
    rt = arts["xen-runtime"]
    assert rt.package is not None and rt.package.flavor == "rpm"
    assert rt.package.depends == ["xen-hypervisor"]
    assert "/usr/sbin/xl" in rt.files and rt.read("/usr/sbin/xl") is not None
    hv = arts["xen-hypervisor"]
    assert [c.hypervisor.version for c in hv.children if c.hypervisor] == ["4.17.7", "4.17.7"]
    assert arts["ROOT"].meta.package_db == "rpm"


def test_rpmdb_is_opened_without_writing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(ROOTS / "rpm-root", root, symlinks=True)
    for p in root.rglob("*"):
        if not p.is_symlink():
            p.chmod(p.stat().st_mode & ~0o222)
    db = root / "var/lib/rpm"
    before = sorted(os.listdir(db))
    arts = read_path(root)
    assert not any(a.error for a in arts)
    assert sorted(os.listdir(db)) == before  # no -shm, -wal or lock file


def test_berkeley_db_is_diagnosed() -> None:
    [art] = read_path(ROOTS / "bdb-root")
    assert art.error is not None and "unsupported rpmdb backend" in art.error
    assert "\n" not in art.error


def test_corrupt_rpmdb_gets_one_line(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(ROOTS / "rpm-root", root, symlinks=True)
    con = sqlite3.connect(root / "var/lib/rpm/rpmdb.sqlite")
    con.execute("UPDATE Packages SET blob = substr(blob, 1, 40)")
    con.commit()
    con.close()
    [art] = read_path(root)
    assert art.error is not None and "rpmdb" in art.error and "\n" not in art.error
    (root / "var/lib/rpm/rpmdb.sqlite").write_bytes(b"not sqlite" * 100)
    [art] = read_path(root)
    assert art.error is not None and "is not a readable rpmdb" in art.error


def test_findings_name_root_and_package() -> None:
    report = lint_paths([str(ROOTS / "deb-root")],
                        LintOptions(search_config=False, show_unknown=True))
    assert not report.errors
    names = {f.artifact for f in report.findings}
    assert names and all(n.startswith(f"{ROOTS / 'deb-root'}") for n in names)
    assert f"{ROOTS / 'deb-root'}:xen-utils-4.17" in names | {u.artifact for u in report.unknowns}


def test_reading_a_root_starts_no_process(tmp_path: Path) -> None:
    code = ("import subprocess, os, sys\n"
            "def no(*a, **k): raise SystemExit('started a process')\n"
            "subprocess.Popen = no; os.fork = no; os.posix_spawn = no; os.execv = no\n"
            "from xenlint.readers import read_path\n"
            f"arts = read_path({str(ROOTS / 'deb-root')!r})\n"
            "print(len(arts))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "5"


@pytest.mark.corpus
def test_corpus_root_without_the_device_model(corpus: Path, tmp_path: Path) -> None:
    """The issue's first try: Debian's amd64 Xen set unpacked into a root, the device model
    deleted: the package rules run on the installed packages and say so."""
    need_tools("dpkg-deb", "tar")
    sys.path.insert(0, str(RECIPES))
    try:
        import _roottools
    finally:
        sys.path.remove(str(RECIPES))
    root = tmp_path / "root"
    (root / "usr/bin").mkdir(parents=True)
    (root / "bin").symlink_to("usr/bin")
    debs = [p for p in (corpus / "deb").glob("*.deb")
            if not p.name.startswith(("linux-image", "grub"))]
    _roottools.install_debs(root, debs)
    (root / "usr/libexec/xen-qemu-system-i386").unlink()
    report = lint_paths([str(root)], LintOptions(search_config=False, show_unknown=True,
                                                 select=("libxl-device-model-not-shipped",)))
    assert not report.errors
    [finding] = report.findings
    assert finding.artifact == f"{root}:xen-utils-4.17"
    assert "/usr/libexec/xen-qemu-system-i386" in finding.message


def test_hostile_dpkg_database_gets_one_line(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(ROOTS / "deb-root", root, symlinks=True)
    status = root / "var/lib/dpkg/status"
    status.write_text("Package: broken\nStatus: install ok installed\n\n")  # no Version
    [art] = read_path(root)
    assert art.error is not None and "without Package or Version" in art.error
    status.unlink()
    status.symlink_to("/etc/shadow")  # an absolute link means ROOT/etc/shadow: absent
    [art] = read_path(root)
    assert art.error is not None and "not a readable file" in art.error
    status.unlink()
    status.write_bytes(b"\xff\xfe\x00garbage" * 10)
    arts = read_path(root)
    assert all("\n" not in (a.error or "") for a in arts)


def test_a_root_larger_than_max_root_entries_is_one_line() -> None:
    for name in ("deb-root", "bdb-root"):
        arts = read_path(ROOTS / name, Limits(max_root_entries=5))
        assert [a.error for a in arts] == ["has more than 5 entries (max_root_entries)"]

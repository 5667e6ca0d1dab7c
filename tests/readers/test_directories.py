"""Directories: a folder of packages reads as each package; a root tree is one artifact."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from xenlint.artifact import EntryType, Kind
from xenlint.readers import read_path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
READERS = FIXTURES / "readers"
ROOTFS = READERS / "rootfs"


def test_folder_of_debs_reads_each_package() -> None:
    arts = read_path(READERS / "deb")
    assert [Path(a.path).name for a in arts] == sorted(p.name for p in (READERS / "deb").iterdir())
    assert all(a.kind is Kind.DEB and a.error is None for a in arts)
    assert {a.package.payload_compression for a in arts if a.package} == \
        {"gzip", "xz", "zstd", "none", "bzip2", "lzma"}


def test_mixed_folder_skips_what_is_not_a_package(tmp_path: Path) -> None:
    shutil.copy(READERS / "deb" / "xz.deb", tmp_path / "a.deb")
    (tmp_path / "sub").mkdir()
    # named .txt: readers go by content, not by name
    shutil.copy(READERS / "rpm" / "zstd.rpm", tmp_path / "sub" / "payload.txt")
    (tmp_path / "README").write_text("not a package\n")
    (tmp_path / "link.deb").symlink_to(tmp_path / "a.deb")
    arts = read_path(tmp_path)
    assert [(Path(a.path).relative_to(tmp_path).as_posix(), a.kind) for a in arts] == \
        [("a.deb", Kind.DEB), ("sub/payload.txt", Kind.RPM)]
    assert all(a.error is None for a in arts)


def test_root_tree_is_one_directory_artifact() -> None:
    [art] = read_path(ROOTFS)
    assert art.kind is Kind.DIRECTORY and art.error is None and art.package is None
    assert sorted(art.files) == [
        "/boot/xen-4.17-amd64.config", "/boot/xen.gz", "/etc/default/grub.d/xen.cfg",
        "/etc/xen/escape", "/etc/xen/xl.conf", "/usr/lib/xen-4.17/bin/xl", "/usr/sbin/xl",
    ]
    assert art.entries["/etc/default/grub.d"].type is EntryType.DIRECTORY
    xl = art.entries["/usr/lib/xen-4.17/bin/xl"]
    assert xl.type is EntryType.FILE and xl.executable
    assert art.read("/etc/xen/xl.conf") == b'autoballoon="off"\n'


def test_root_tree_symlinks_are_recorded_not_followed() -> None:
    [art] = read_path(ROOTFS)
    sbin = art.entries["/usr/sbin/xl"]
    assert (sbin.type, sbin.link_target) == (EntryType.SYMLINK, "../lib/xen-4.17/bin/xl")
    # a dangling link is still an entry
    assert art.entries["/boot/xen.gz"].link_target == "xen-4.17-amd64.gz"
    escape = art.entries["/etc/xen/escape"]
    assert escape.link_target == "../../../../etc/passwd"
    assert art.read("/etc/xen/escape") is None
    assert "/etc/passwd" not in art.entries


def test_root_tree_symlinked_directory_is_not_descended(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(ROOTFS, root, symlinks=True)
    (root / "lib").symlink_to("usr/lib")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("x")
    (root / "etc" / "elsewhere").symlink_to(outside)
    [art] = read_path(root)
    assert art.entries["/lib"].type is EntryType.SYMLINK
    assert not any(p.startswith(("/lib/", "/etc/elsewhere/")) for p in art.entries)


def test_root_tree_hard_links(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(ROOTFS, root, symlinks=True)
    os.link(root / "usr/lib/xen-4.17/bin/xl", root / "usr/lib/xen-4.17/bin/xl-again")
    [art] = read_path(root)
    first, second = (art.entries[f"/usr/lib/xen-4.17/bin/{n}"] for n in ("xl", "xl-again"))
    assert first.type is EntryType.FILE
    assert (second.type, second.link_target) == (EntryType.HARDLINK, "/usr/lib/xen-4.17/bin/xl")
    assert art.read("/usr/lib/xen-4.17/bin/xl-again") == art.read("/usr/lib/xen-4.17/bin/xl")
    assert art.read("/usr/lib/xen-4.17/bin/xl") == b"#!/bin/sh\necho xl\n"


def test_missing_path_is_an_error_artifact(tmp_path: Path) -> None:
    [art] = read_path(tmp_path / "nope")
    assert art.error == "does not exist"


def test_folder_with_nothing_readable_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing to lint\n")
    [art] = read_path(tmp_path)
    assert art.kind is Kind.DIRECTORY
    assert art.error == "holds no package, image or root tree xenlint reads"

"""A package known only from an index without file lists cannot prove a path is absent."""

from __future__ import annotations

from dataclasses import replace

from xenlint.artifact import Artifact, Entry, EntryType, Kind, Package
from xenlint.facts.pkgset import path_status

QEMU = "/usr/libexec/xen-qemu-system-i386"


def _pkg(name: str, files: list[str], index: str | None = None) -> Artifact:
    art = Artifact(f"{name}.deb", Kind.DEB, package=Package(name=name, version="1"))
    for f in files:
        art.entries[f] = Entry(f, EntryType.FILE)
    if index is not None:
        art.meta = replace(art.meta, metadata_only=True, index=index)
    return art


def test_opened_packages_decide() -> None:
    assert path_status([_pkg("qemu-system-xen", [QEMU])], QEMU) is True
    assert path_status([_pkg("xen-utils", ["/usr/sbin/xl"])], QEMU) is False


def test_index_without_file_lists_makes_absence_unknown() -> None:
    arts = [_pkg("xen-utils", ["/usr/sbin/xl"]), _pkg("qemu-system-xen", [], index="Packages")]
    assert path_status(arts, QEMU) is None
    arts[1] = _pkg("qemu-system-xen", [], index="primary")
    assert path_status(arts, QEMU) is None


def test_index_with_file_lists_still_decides() -> None:
    arts = [_pkg("xen-utils", ["/usr/sbin/xl"]), _pkg("qemu", ["/usr/bin/qemu"], "Contents")]
    assert path_status(arts, QEMU) is False
    arts.append(_pkg("qemu-system-xen", [QEMU], index="filelists"))
    assert path_status(arts, QEMU) is True

"""A package's Listing (one pass over its entries per run) answers exactly what walking
the entries answers, and is used only for the packages of the run it was made for."""

from __future__ import annotations

from xenlint.artifact import Artifact, Entry, EntryType, Kind, Package
from xenlint.facts import Run
from xenlint.facts import pkgset as ps

ENTRIES = {
    "/usr/sbin/xl": EntryType.FILE,
    "/usr/lib/xen-4.17/bin/xl": EntryType.HARDLINK,
    "/usr/bin/xl": EntryType.SYMLINK,  # a wrapper: a command, not a real binary
    "/usr/bin/xenstore-read": EntryType.FILE,
    "/usr/bin/sub/tool": EntryType.FILE,  # below a bin directory: not on $PATH
    "/usr/local/sbin": EntryType.DIRECTORY,
    "/usr/lib/xen/bin/qemu-dm": EntryType.FILE,
    "/opt/bin/xl": EntryType.FILE,  # a bin directory xenlint does not look in
    "/boot/xen-4.17-amd64.gz": EntryType.FILE,
    "/boot/xen-syms-4.17": EntryType.FILE,
    "/boot/xen-4.17-amd64.config": EntryType.FILE,
    "/boot/xen.efi": EntryType.SYMLINK,
    "/boot/xen": EntryType.DIRECTORY,
    "/usr/share/doc/xen/copyright": EntryType.FILE,
}


def _package(name: str, entries: dict[str, EntryType]) -> Artifact:
    art = Artifact(f"/repo/{name}.deb", Kind.DEB, package=Package(name, "1.0"))
    for path, kind in entries.items():
        art.entries[path] = Entry(path, kind)
    return art


def test_the_listing_answers_what_walking_the_entries_answers() -> None:
    art = _package("xen-utils", ENTRIES)
    within = ps.PackageSet.of(Run.of([art]))
    assert within.listing(art) is within.listing(art)  # made once per run
    for name in ("xl", "qemu-dm", "xenstore-read", "tool", "missing"):
        assert ps.real_binaries(art, name, within) == ps.real_binaries(art, name)
    assert ps.real_binaries(art, "xl", within) == ["/usr/sbin/xl", "/usr/lib/xen-4.17/bin/xl"]
    assert ps.commands(art, within) == ps.commands(art) == [
        "/usr/bin/xenstore-read", "/usr/bin/xl", "/usr/sbin/xl"]
    assert ps.hypervisor_files(art, within) == ps.hypervisor_files(art) == [
        "/boot/xen-4.17-amd64.gz", "/boot/xen.efi"]
    assert list(ps.files(art, within)) == art.files


def test_an_artifact_outside_the_run_is_walked_afresh() -> None:
    # a package of another run, whose entries may have changed since, gets no listing
    art = _package("xen-utils", {"/usr/sbin/xl": EntryType.FILE})
    other = _package("hello", {"/usr/bin/hello": EntryType.FILE})
    within = ps.PackageSet.of(Run.of([other]))
    assert within.listing(art) is None
    art.entries["/usr/sbin/xenstore-ls"] = Entry("/usr/sbin/xenstore-ls", EntryType.FILE)
    assert ps.commands(art, within) == ["/usr/sbin/xenstore-ls", "/usr/sbin/xl"]

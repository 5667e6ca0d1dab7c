"""Every field the .deb and .rpm readers produce, on the fixtures recipes/packages.py builds.

The corpus has only gzip/xz debs and xz RPMs; these fixtures cover the other member and
payload compressions, maintainer scripts with interpreters, triggers, conffiles, symlinks
and hard links.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from xenlint.artifact import Artifact, Entry, EntryType, Kind
from xenlint.readers import read_path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DEBS = FIXTURES / "readers" / "deb"
RPMS = FIXTURES / "readers" / "rpm"

# deb variant -> (control.tar compression, data.tar compression) as ar member suffixes say
DEB_VARIANTS = {
    "gzip": ("gzip", "gzip"), "xz": ("xz", "xz"), "zstd": ("zstd", "zstd"),
    "none": ("none", "none"), "bzip2": ("gzip", "bzip2"), "lzma": ("xz", "lzma"),
}
RPM_VARIANTS = ("zstd", "bzip2")

PAYLOAD_FILES = [
    "/etc/xen/fixture.cfg", "/usr/bin/xl-demo", "/usr/lib/xenlint-fixture/helper",
    "/usr/lib/xenlint-fixture/helper-again", "/usr/sbin/xl-demo",
]
CFG = b"# fixture configuration\nmemory = 512\n"
HELPER = b"#!/bin/sh\nexit 0\n"



def assert_links(e: dict[str, Entry]) -> None:
    """The fixture's symlink and hard link, as every package format must show them."""
    link = e["/usr/sbin/xl-demo"]
    assert (link.type, link.link_target, link.size) == \
        (EntryType.SYMLINK, "../bin/xl-demo", len("../bin/xl-demo"))
    hard = e["/usr/lib/xenlint-fixture/helper-again"]
    assert (hard.type, hard.link_target, hard.size) == \
        (EntryType.HARDLINK, "/usr/lib/xenlint-fixture/helper", len(HELPER))

def one(path: Path) -> Artifact:
    [art] = read_path(path)
    assert art.error is None, art.error
    return art


def ar_names(path: Path) -> list[str]:
    """ar member names, parsed here independently of the reader."""
    data = path.read_bytes()
    assert data.startswith(b"!<arch>\n")
    names, pos = [], 8
    while pos < len(data):
        header = data[pos:pos + 60]
        size = int(header[48:58])
        names.append(header[:16].decode().strip().rstrip("/"))
        pos += 60 + size + (size & 1)
    return names


def test_every_variant_is_present() -> None:
    assert sorted(p.stem for p in DEBS.glob("*.deb")) == sorted(DEB_VARIANTS)
    assert sorted(p.stem for p in RPMS.glob("*.rpm")) == sorted(RPM_VARIANTS)


@pytest.mark.parametrize("variant", sorted(DEB_VARIANTS))
def test_deb_member_compression(variant: str) -> None:
    control, data = DEB_VARIANTS[variant]
    suffix = {"gzip": ".gz", "xz": ".xz", "zstd": ".zst", "bzip2": ".bz2", "lzma": ".lzma",
              "none": ""}
    path = DEBS / f"{variant}.deb"
    assert ar_names(path) == ["debian-binary", f"control.tar{suffix[control]}",
                              f"data.tar{suffix[data]}"]
    art = one(path)
    assert art.kind is Kind.DEB
    assert art.package is not None
    assert art.package.payload_compression == data
    assert art.meta.data_compression == data
    assert art.meta.control_compression == control


@pytest.mark.parametrize("variant", sorted(DEB_VARIANTS))
def test_deb_control_fields(variant: str) -> None:
    pkg = one(DEBS / f"{variant}.deb").package
    assert pkg is not None
    assert (pkg.name, pkg.version, pkg.epoch, pkg.architecture, pkg.flavor) == \
        ("xenlint-fixture", "1:4.17.0-1", "1", "amd64", "deb")
    assert pkg.pre_depends == ["dpkg (>= 1.19.1)"]
    # a relation continued over two lines comes back as one item per comma, as written
    assert pkg.depends == ["libc6 (>= 2.34)", "xen-hypervisor-4.17-amd64 | xen-hypervisor"]
    assert pkg.recommends == ["xen-utils-4.17"]
    assert pkg.suggests == ["xen-doc"]
    assert pkg.provides == ["xen-fixture (= 4.17)"]
    assert pkg.conflicts == ["xen-tools (<< 4.0)"]
    assert pkg.breaks == ["xen-utils-common (<< 4.17)"]
    assert pkg.fields["Section"] == "admin"
    assert pkg.conffiles == ["/etc/xen/fixture.cfg"]


@pytest.mark.parametrize("variant", sorted(DEB_VARIANTS))
def test_deb_scripts_and_triggers(variant: str) -> None:
    pkg = one(DEBS / f"{variant}.deb").package
    assert pkg is not None
    assert sorted(pkg.scripts) == ["postinst", "postrm", "prerm", "triggers"]
    assert pkg.scripts["postinst"].startswith("#!/bin/sh\nset -e\n")
    assert "update-grub || true" in pkg.scripts["postinst"]
    assert "rm -f /var/lib/xenlint-fixture" in pkg.scripts["postrm"]
    assert pkg.interpreters == {"postinst": "/bin/sh", "prerm": "/bin/sh", "postrm": "/bin/sh"}
    # comments in the triggers file are not triggers
    assert pkg.triggers == ["interest-noawait /usr/lib/xen-4.17",
                            "activate-noawait update-initramfs"]


@pytest.mark.parametrize("variant", sorted(DEB_VARIANTS))
def test_deb_entries(variant: str) -> None:
    art = one(DEBS / f"{variant}.deb")
    assert sorted(art.files) == sorted([*PAYLOAD_FILES,
                                        "/usr/share/doc/xenlint-fixture/copyright"])
    assert not any(p.startswith("/DEBIAN") for p in art.entries)
    e = art.entries
    assert e["/usr/share/doc/xenlint-fixture"].type is EntryType.DIRECTORY
    assert e["/usr/bin/xl-demo"].type is EntryType.FILE
    assert e["/usr/bin/xl-demo"].mode == 0o755 and e["/usr/bin/xl-demo"].executable
    assert e["/etc/xen/fixture.cfg"].mode == 0o644 and not e["/etc/xen/fixture.cfg"].executable
    assert e["/etc/xen/fixture.cfg"].size == len(CFG)
    assert_links(e)
    assert art.unsafe_paths == []
    assert art.children == []


@pytest.mark.parametrize("variant", sorted(DEB_VARIANTS))
def test_deb_lazy_contents(variant: str) -> None:
    art = one(DEBS / f"{variant}.deb")
    assert art.read("/etc/xen/fixture.cfg") == CFG
    # both names of a hard-link set give the bytes tar stored once
    got = art.read_many(["/usr/lib/xenlint-fixture/helper-again",
                         "/usr/lib/xenlint-fixture/helper", "/no/such/file"])
    assert got == {"/usr/lib/xenlint-fixture/helper-again": HELPER,
                   "/usr/lib/xenlint-fixture/helper": HELPER}
    assert art.read("/usr/sbin/xl-demo") is None  # a symlink has no bytes of its own


@pytest.mark.parametrize("variant", RPM_VARIANTS)
def test_rpm_header(variant: str) -> None:
    art = one(RPMS / f"{variant}.rpm")
    assert art.kind is Kind.RPM
    pkg = art.package
    assert pkg is not None
    assert (pkg.name, pkg.epoch, pkg.version, pkg.release, pkg.architecture, pkg.flavor) == \
        ("xenlint-fixture", "1", "4.17.0", "1", "noarch", "rpm")
    assert pkg.payload_compression == variant
    # Requires go under depends, as the spec writes them; rpmlib() internals are dropped,
    # and the /bin/sh the scriptlets each require is listed once
    assert pkg.depends == ["/bin/bash", "/bin/sh", "xen-hypervisor >= 4.17", "xenstore-utils"]
    assert pkg.recommends == ["xen-doc"]
    assert pkg.suggests == ["qemu-system-xen >= 7.2"]
    assert pkg.provides == ["xen-fixture = 4.17", "xenlint-fixture = 1:4.17.0-1"]
    assert pkg.conflicts == ["xen-tools < 4.0"]
    assert pkg.conffiles == ["/etc/xen/fixture.cfg"]
    assert pkg.fields["license"] == "Public Domain"


@pytest.mark.parametrize("variant", RPM_VARIANTS)
def test_rpm_scriptlets_and_triggers(variant: str) -> None:
    pkg = one(RPMS / f"{variant}.rpm").package
    assert pkg is not None
    trigger = "%triggerin -- xen-hypervisor"
    assert sorted(pkg.scripts) == ["%post", "%postun", trigger]
    assert "grub2-mkconfig -o /boot/grub2/grub.cfg" in pkg.scripts["%post"]
    assert pkg.scripts["%postun"].strip() == "rm -f /var/lib/xenlint-fixture"
    assert pkg.scripts[trigger].strip() == 'echo "xen-hypervisor changed"'
    assert pkg.interpreters == {"%post": "/bin/bash", "%postun": "/bin/sh", trigger: "/bin/sh"}
    assert pkg.triggers == [trigger]


@pytest.mark.parametrize("variant", RPM_VARIANTS)
def test_rpm_file_list(variant: str) -> None:
    art = one(RPMS / f"{variant}.rpm")
    assert sorted(art.files) == PAYLOAD_FILES
    e = art.entries
    assert e["/usr/bin/xl-demo"].mode == 0o755 and e["/usr/bin/xl-demo"].executable
    assert e["/etc/xen/fixture.cfg"].size == len(CFG)
    assert_links(e)
    assert e["/usr/lib/xenlint-fixture/helper"].type is EntryType.FILE
    assert art.meta.payload_compression == variant


@pytest.mark.parametrize("variant", RPM_VARIANTS)
def test_rpm_file_list_never_decompresses(variant: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The header alone gives the file list: opening the payload stream would fail here."""
    import xenlint.readers.rpm as rpm_reader

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("payload stream opened for file-list facts")

    monkeypatch.setattr(rpm_reader, "MemberStream", forbidden)
    art = one(RPMS / f"{variant}.rpm")
    assert sorted(art.files) == PAYLOAD_FILES
    assert art.package is not None and art.package.scripts


@pytest.mark.parametrize("variant", RPM_VARIANTS)
def test_rpm_lazy_contents(variant: str) -> None:
    art = one(RPMS / f"{variant}.rpm")
    got = art.read_many(["/etc/xen/fixture.cfg", "/usr/lib/xenlint-fixture/helper",
                         "/usr/lib/xenlint-fixture/helper-again"])
    # cpio carries a hard-link set's bytes on its last name; every name gets them
    assert got == {"/etc/xen/fixture.cfg": CFG, "/usr/lib/xenlint-fixture/helper": HELPER,
                   "/usr/lib/xenlint-fixture/helper-again": HELPER}


def test_control_field_names_match_in_any_case_as_dpkg_reads_them() -> None:
    from xenlint.readers.deb import package_from_control

    canonical = package_from_control(
        "Package: xen-utils\nVersion: 1:4.17-1\nArchitecture: amd64\n"
        "Depends: libc6 (>= 2.36),  xenstore-utils\nPre-Depends: dpkg\nProvides: xen-tools\n")
    odd = package_from_control(
        "package: xen-utils\nVERSION: 1:4.17-1\narchitecture: amd64\n"
        "depends: libc6 (>= 2.36),  xenstore-utils\npre-depends: dpkg\nPROVIDES: xen-tools\n")
    assert (odd.name, odd.version, odd.epoch, odd.architecture) == \
        ("xen-utils", "1:4.17-1", "1", "amd64")
    assert odd.depends == canonical.depends == ["libc6 (>= 2.36)", "xenstore-utils"]
    assert odd.pre_depends == ["dpkg"] and odd.provides == ["xen-tools"]
    assert list(odd.fields) == ["package", "VERSION", "architecture", "depends",
                                "pre-depends", "PROVIDES"]  # as the package writes them

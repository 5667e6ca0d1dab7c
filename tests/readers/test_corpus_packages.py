"""The .deb and .rpm readers against the facts MANIFEST.md lists for the shared corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from xenlint.artifact import Artifact, EntryType, Kind
from xenlint.readers import read_path

XEN_VER = "4.17.7+13-g2445b30a44-0+deb12u1"


def one(path: Path) -> Artifact:
    [art] = read_path(path)
    assert art.error is None, art.error
    return art


def deb(corpus: Path, name: str) -> Artifact:
    return one(corpus / "deb" / name)


def test_meta_package(corpus: Path) -> None:
    art = deb(corpus, f"xen-system-amd64_{XEN_VER}_amd64.deb")
    assert art.kind is Kind.DEB
    assert art.package is not None
    assert art.package.name == "xen-system-amd64"
    assert art.package.version == XEN_VER
    assert art.package.depends == ["xen-hypervisor-4.17-amd64", "xen-hypervisor-common",
                                   "xen-utils-4.17"]
    assert art.package.provides == ["xen-system"]
    assert not any("xen-doc" in r for r in art.package.depends + art.package.recommends
                   + art.package.suggests)
    assert sorted(art.files) == [f"/usr/share/doc/xen-system-amd64/{f}" for f in
                                 ("changelog.Debian.gz", "changelog.gz", "copyright")]
    assert art.package.scripts == {}
    assert art.package.payload_compression == "xz"


def test_hypervisor_package(corpus: Path) -> None:
    art = deb(corpus, f"xen-hypervisor-4.17-amd64_{XEN_VER}_amd64.deb")
    assert art.package is not None
    for f in ("/boot/xen-4.17-amd64.gz", "/boot/xen-4.17-amd64.efi", "/boot/xen-4.17-amd64.config"):
        assert f in art.entries
    assert art.entries["/boot/xen-4.17-amd64.gz"].size == 1178795
    assert "xen-hypervisor" in art.package.provides
    assert art.package.depends == []
    assert art.package.recommends == ["xen-utils-4.17", "xen-hypervisor-common"]
    assert "update-grub" in art.package.scripts["postinst"]
    assert "update-grub" in art.package.scripts["postrm"]


def test_utils_common(corpus: Path) -> None:
    art = deb(corpus, f"xen-utils-common_{XEN_VER}_amd64.deb")
    assert art.package is not None
    assert "/etc/init.d/xen" in art.entries and "/etc/init.d/xendomains" in art.entries
    assert not any(p.startswith("/etc/init.d/xencommons") for p in art.entries)
    assert not any("/systemd/system/" in p for p in art.files)
    man = [p for p in art.files if p.startswith("/usr/share/man/")]
    assert len(man) == 18
    wrapper = art.entries["/usr/sbin/xenstored"]
    assert wrapper.type is EntryType.SYMLINK
    assert wrapper.link_target == "../lib/xen-common/bin/xen-utils-wrapper"
    assert "update-rc.d xen defaults" in art.package.scripts["postinst"]
    assert "xenstore-utils" in ", ".join(art.package.depends)
    assert art.package.suggests == ["xen-doc"]
    assert "/etc/xen/scripts/vif-bridge" in art.entries
    assert art.entries["/etc/xen/scripts/block"].executable


def test_utils_versioned(corpus: Path) -> None:
    art = deb(corpus, f"xen-utils-4.17_{XEN_VER}_amd64.deb")
    assert art.package is not None
    non_dirs = [e for e in art.entries.values() if e.type is not EntryType.DIRECTORY]
    assert len(non_dirs) == 82
    assert "/usr/lib/xen-4.17/bin/xl" in art.entries
    assert "/usr/lib/xen-4.17/bin/libxl-save-helper" in art.entries
    assert not any(p.startswith("/usr/share/man/") for p in art.files)
    assert "qemu-system-xen (>> 1:7.0+dfsg-6~)" in art.package.recommends
    assert f"xen-utils-common (>= {XEN_VER})" in art.package.depends


def test_xenstore_utils(corpus: Path) -> None:
    art = deb(corpus, f"xenstore-utils_{XEN_VER}_amd64.deb")
    assert art.package is not None
    bins = sorted(p for p in art.files if p.startswith("/usr/bin/xenstore"))
    assert len(bins) == 10
    assert art.entries["/usr/bin/xenstore-control"].type is EntryType.SYMLINK
    man = {p.rsplit("/", 1)[1] for p in art.files if "/man/" in p}
    assert man == {f"{n}.1.gz" for n in ("xenstore", "xenstore-chmod", "xenstore-ls",
                                         "xenstore-read", "xenstore-write")}
    assert art.package.breaks == ["xen-utils-common (<= 4.11.1~pre+1.733450b39b-1~)"]


def test_qemu_epoch_and_path(corpus: Path) -> None:
    art = deb(corpus, "qemu-system-xen_1%3a7.2+dfsg-7+deb12u18+b3_amd64.deb")
    assert art.package is not None
    assert art.package.version == "1:7.2+dfsg-7+deb12u18+b3"
    assert art.package.epoch == "1"
    assert "/usr/libexec/xen-qemu-system-i386" in art.entries
    assert art.package.scripts == {}


def test_libxenmisc_control_members(corpus: Path) -> None:
    art = deb(corpus, f"libxenmisc4.17_{XEN_VER}_amd64.deb")
    assert {"shlibs", "triggers"} <= set(art.meta.control_members)
    assert "/usr/lib/x86_64-linux-gnu/libxenlight.so.4.17.0" in art.entries
    data = art.read("/usr/lib/x86_64-linux-gnu/libxenlight.so.4.17.0")
    assert data is not None and b"/usr/libexec/xen-qemu-system-i386" in data


def test_grub_common_xen_generator(corpus: Path) -> None:
    art = deb(corpus, "grub-common_2.06-13+deb12u2_amd64.deb")
    assert "/etc/grub.d/20_linux_xen" in art.entries
    text = art.read("/etc/grub.d/20_linux_xen")
    # MANIFEST.md says 341 lines; `dpkg-deb --fsys-tarfile | tar -xO` gives 379, as we do.
    assert text is not None and text.count(b"\n") == 379
    assert b"for i in /boot/xen*" in text


def test_kernel_package_files(corpus: Path) -> None:
    art = deb(corpus, "linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.deb")
    rel = "6.1.0-56-cloud-amd64"
    assert art.entries[f"/boot/vmlinuz-{rel}"].size == 14186432
    assert f"/boot/config-{rel}" in art.entries
    kdir = f"/lib/modules/{rel}/kernel/"
    kos = [p for p in art.files if p.startswith(kdir) and p.endswith(".ko")]
    assert len(kos) == 1121
    assert f"/lib/modules/{rel}/modules.dep" not in art.entries
    assert f"/lib/modules/{rel}/modules.builtin" in art.entries


RPMS = {
    "xen-system-amd64-4.17.7+13_g2445b30a44-1.x86_64.rpm": ("gzip", 4),  # 3 files + their dir
    "xen-utils-common-4.17.7+13_g2445b30a44-1.x86_64.rpm": ("gzip", 134),
    "xenstore-utils-4.17.7+13_g2445b30a44-1.x86_64.rpm": ("gzip", 33),
    "qemu-system-xen-7.2+dfsg-8.x86_64.rpm": ("gzip", None),
    "xen-tools-badqemu-4.17.0-1.x86_64.rpm": ("xz", 13),
}


@pytest.mark.parametrize("name", sorted(RPMS))
def test_rpm_headers(corpus: Path, name: str) -> None:
    art = one(corpus / "rpm" / name)
    compression, count = RPMS[name]
    assert art.kind is Kind.RPM
    assert art.package is not None
    assert art.package.payload_compression == compression
    if count is not None:
        assert len(art.entries) == count


def test_rpm_meta_has_no_requires(corpus: Path) -> None:
    art = one(corpus / "rpm" / "xen-system-amd64-4.17.7+13_g2445b30a44-1.x86_64.rpm")
    assert art.package is not None
    assert art.package.name == "xen-system-amd64"
    assert art.package.version == "4.17.7+13_g2445b30a44"
    assert art.package.release == "1"
    assert art.package.depends == []


def test_rpm_badqemu(corpus: Path) -> None:
    art = one(corpus / "rpm" / "xen-tools-badqemu-4.17.0-1.x86_64.rpm")
    assert art.package is not None
    assert art.package.depends == ["/bin/sh", "xen-hypervisor"]
    assert "xen-tools = 4.17.0" in art.package.provides
    assert "/usr/bin/qemu-system-i386" in art.entries
    assert not any(p.startswith("/usr/share/man") for p in art.entries)
    assert art.package.scripts == {}
    init = art.read("/etc/init.d/xencommons")
    assert init is not None and b"Default-Start: 2 3 4 5" in init


def test_rpm_scriptlets_and_no_payload_for_file_list(corpus: Path) -> None:
    art = one(corpus / "rpm" / "xen-utils-common-4.17.7+13_g2445b30a44-1.x86_64.rpm")
    assert art.package is not None
    assert {"%pre", "%post", "%preun", "%postun"} <= set(art.package.scripts)
    assert "update-rc.d" in art.package.scripts["%post"]
    assert "/etc/init.d/xen" in art.entries
    # the file list came from the header alone
    assert art.captured_since(0) == {}
    assert not any(r.startswith("udev") or r.startswith("xenstore-utils")
                   for r in art.package.depends)


def test_rpm_qemu_lost_epoch(corpus: Path) -> None:
    art = one(corpus / "rpm" / "qemu-system-xen-7.2+dfsg-8.x86_64.rpm")
    assert art.package is not None
    assert art.package.epoch is None
    assert (art.package.version, art.package.release) == ("7.2+dfsg", "8")
    assert "/usr/libexec/xen-qemu-system-i386" in art.entries

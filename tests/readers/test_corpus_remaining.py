"""The corpus .debs test_corpus_packages.py does not cover, against MANIFEST.md's facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from xenlint.artifact import Artifact, EntryType, Kind
from xenlint.readers import read_path

XEN_VER = "4.17.7+13-g2445b30a44-0+deb12u1"
LIBDIR = "/usr/lib/x86_64-linux-gnu"


def deb(corpus: Path, name: str) -> Artifact:
    [art] = read_path(corpus / "deb" / name)
    assert art.error is None, art.error
    assert art.kind is Kind.DEB and art.package is not None
    return art


def test_hypervisor_common_grub_defaults(corpus: Path) -> None:
    art = deb(corpus, f"xen-hypervisor-common_{XEN_VER}_amd64.deb")
    assert art.package is not None
    assert "/etc/default/grub.d/xen.cfg" in art.package.conffiles
    assert art.package.depends == [] and art.package.pre_depends == []
    for script in ("postinst", "postrm"):
        assert "update-grub" in art.package.scripts[script]
    cfg = art.read("/etc/default/grub.d/xen.cfg")
    assert cfg is not None and b"GRUB_DEFAULT" in cfg and b"XEN_OVERRIDE_GRUB_DEFAULT" in cfg


@pytest.mark.parametrize(("name", "real", "link"), [
    ("libxenstore4", "libxenstore.so.4.0", "libxenstore.so.4"),
    ("libxengnttab1", "libxengnttab.so.1.2", "libxengnttab.so.1"),
])
def test_shared_library_packages(corpus: Path, name: str, real: str, link: str) -> None:
    art = deb(corpus, f"{name}_{XEN_VER}_amd64.deb")
    assert art.entries[f"{LIBDIR}/{real}"].type is EntryType.FILE
    soname = art.entries[f"{LIBDIR}/{link}"]
    assert (soname.type, soname.link_target) == (EntryType.SYMLINK, real)
    data = art.read(f"{LIBDIR}/{real}")
    assert data is not None and data.startswith(b"\x7fELF")
    assert "shlibs" in art.meta.control_members


def test_libxenstore_control_members(corpus: Path) -> None:
    art = deb(corpus, f"libxenstore4_{XEN_VER}_amd64.deb")
    assert {"shlibs", "symbols", "triggers"} <= set(art.meta.control_members)


def test_grub_xen_host_images(corpus: Path) -> None:
    art = deb(corpus, "grub-xen-host_2.06-13+deb12u2_amd64.deb")
    assert art.package is not None
    images = sorted(p for p in art.files if p.startswith("/usr/lib/grub-xen/"))
    assert images == [f"/usr/lib/grub-xen/grub-{n}.bin"
                      for n in ("i386-xen", "i386-xen_pvh", "x86_64-xen")]
    assert art.package.depends == ["grub-xen-bin (= 2.06-13+deb12u2)"]


def test_xen_doc_is_html_only(corpus: Path) -> None:
    art = deb(corpus, f"xen-doc_{XEN_VER}_amd64.deb")
    assert art.package is not None
    assert art.package.architecture == "amd64"
    assert art.package.depends == []
    assert any(p.startswith("/usr/share/doc/xen/html/") and p.endswith(".html")
               for p in art.files)
    assert "/usr/share/doc-base/xen-doc.xen-doc-html" in art.entries
    assert not any(p.startswith("/usr/share/man/") for p in art.files)


def test_kernel_meta_package(corpus: Path) -> None:
    art = deb(corpus, "linux-image-cloud-amd64_6.1.192-2_amd64.deb")
    assert art.package is not None
    assert art.package.version == "6.1.192-2"
    assert art.package.depends == ["linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)"]
    assert art.package.provides == ["linux-latest-modules-6.1.0-56-cloud-amd64",
                                    "virtualbox-guest-modules", "wireguard-modules (= 1.0.0)"]
    # MANIFEST's "2 regular files": one file and the doc directory's symlink (dpkg-deb -c)
    assert sorted(art.files) == ["/usr/share/bug/linux-image-cloud-amd64/presubj",
                                 "/usr/share/doc/linux-image-cloud-amd64"]
    doc = art.entries["/usr/share/doc/linux-image-cloud-amd64"]
    assert (doc.type, doc.link_target) == (EntryType.SYMLINK, "linux-image-6.1.0-56-cloud-amd64")
    assert art.children == []


def test_every_corpus_package_reads(corpus: Path) -> None:
    """Every .deb and .rpm in the corpus: read, named, and its payload compression known."""
    packages = sorted([*(corpus / "deb").glob("*.deb"), *(corpus / "rpm").glob("*.rpm")])
    assert len(packages) >= 20
    for path in packages:
        [art] = read_path(path)
        assert art.error is None, (path.name, art.error)
        assert art.package is not None and art.package.name and art.package.version
        assert art.package.payload_compression in ("gzip", "xz", "zstd", "bzip2", "lzma", "none")
        assert art.files, path.name

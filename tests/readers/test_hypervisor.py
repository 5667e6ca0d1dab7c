"""The hypervisor reader: xen.gz, xen.efi, xen-*.config, alone, nested in a package, and
broken."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from xenlint.artifact import Artifact, Kind
from xenlint.readers import read_path
from xenlint.readers.hypervisor import multiboot2, version_from_strings

HV = FIXTURES / "readers" / "hypervisor"


def one(path: Path) -> Artifact:
    [art] = read_path(path)
    return art


@pytest.mark.parametrize(("name", "fmt", "mb2"), [
    ("xen-4.17-amd64.gz", "elf", True), ("xen-nomb2.gz", "elf", False),
    ("xen-syms", "elf", True), ("xen-4.17-amd64.efi", "pe", True),
    ("xen-4.17-amd64.config", "kconfig", None)])
def test_fixture_images(name: str, fmt: str, mb2: bool | None) -> None:
    art = one(HV / name)
    assert art.error is None and art.kind is Kind.HYPERVISOR
    info = art.hypervisor
    assert info is not None
    assert (info.format, info.version, info.arch, info.multiboot2) == \
        (fmt, "4.17.7", "x86_64", mb2)


def test_config_options_read_with_the_kconfig_parser() -> None:
    info = one(HV / "xen-4.17-amd64.config").hypervisor
    assert info is not None and info.config is not None
    assert info.config["CONFIG_SCHED_DEFAULT"] == '"credit2"'
    assert info.config["CONFIG_PV"] == "y"


def test_package_children_get_their_sibling_config() -> None:
    [deb] = read_path(next(HV.glob("xen-hypervisor-*.deb")))
    kids = {c.path.rsplit("!", 1)[1]: c.hypervisor for c in deb.children}
    assert set(kids) == {f"/boot/xen-4.17-amd64.{s}" for s in ("gz", "efi", "config")}
    gz = kids["/boot/xen-4.17-amd64.gz"]
    assert gz is not None and gz.config is not None and gz.config["CONFIG_HVM"] == "y"
    # this image's changeset is "unavailable": its version comes from the config's header
    assert (gz.version, gz.version_source, gz.extra_version) == \
        ("4.17.7", "sibling config", ".7")


def test_version_needs_both_strings_to_agree() -> None:
    block = b"\0date\0Debian\0%s\0gcc 12\0.7\0<denied>\0"
    assert version_from_strings(block % b"4.17.7+13-g1-0+deb12u1") == ("4.17.7", ".7")
    # a changeset that does not carry the same extra version vouches for nothing
    assert version_from_strings(block % b"4.18.0-1") == (None, ".7")
    assert version_from_strings(block % b"unavailable") == (None, ".7")
    assert version_from_strings(b"no xen here") == (None, None)


def test_multiboot2_needs_a_valid_checksum() -> None:
    good = (0xE85250D6).to_bytes(4, "little") + bytes(4) + (16).to_bytes(4, "little") + \
        ((-(0xE85250D6 + 16)) & 0xFFFFFFFF).to_bytes(4, "little")
    assert multiboot2(bytes(8) + good)
    assert not multiboot2(bytes(8) + good[:12] + b"\0\0\0\0")
    assert not multiboot2(bytes(4) + good)  # not 8-byte aligned
    assert not multiboot2(bytes(32768) + good)  # past where a loader looks


def test_hostile_images_get_one_line(tmp_path: Path) -> None:
    gz = (HV / "xen-4.17-amd64.gz").read_bytes()
    (tmp_path / "trunc.gz").write_bytes(gz[: len(gz) // 2])
    efi = (HV / "xen-4.17-amd64.efi").read_bytes()
    (tmp_path / "trunc.efi").write_bytes(efi[:700])
    elf = bytearray(gzip.decompress(gz))
    elf[0x20:0x24] = b"\xff\xff\xff\x7f"  # section headers far past the end
    (tmp_path / "badshoff").write_bytes(bytes(elf))
    for name, says in (("trunc.gz", "corrupt or truncated"), ("trunc.efi", "is truncated"),
                       ("badshoff", "corrupt ELF")):
        art = one(tmp_path / name)
        assert art.error is not None and says in art.error, (name, art.error)
        assert "\n" not in art.error


def test_a_pe_without_xen_strings_is_not_read_as_xen(tmp_path: Path) -> None:
    efi = (HV / "xen-4.17-amd64.efi").read_bytes().replace(b"<denied>", b"<DENIED>")
    (tmp_path / "other.efi").write_bytes(efi)
    assert one(tmp_path / "other.efi").error == "is not a format xenlint reads"


@pytest.mark.corpus
def test_corpus_hypervisor_package(corpus: Path) -> None:
    [deb] = read_path(next((corpus / "deb").glob("xen-hypervisor-4.17-amd64_*.deb")))
    kids = {c.path.rsplit("!", 1)[1]: c for c in deb.children}
    gz, efi = kids["/boot/xen-4.17-amd64.gz"], kids["/boot/xen-4.17-amd64.efi"]
    cfg = kids["/boot/xen-4.17-amd64.config"]
    assert all(k.error is None and k.kind is Kind.HYPERVISOR for k in (gz, efi, cfg))
    assert gz.hypervisor is not None and efi.hypervisor is not None
    assert cfg.hypervisor is not None and cfg.hypervisor.config is not None
    assert (gz.hypervisor.format, gz.hypervisor.version, gz.hypervisor.arch,
            gz.hypervisor.multiboot2) == ("elf", "4.17.7", "x86_64", True)
    assert gz.hypervisor.build_id == "151b373fd64b321593bf987fd923cd10dabadac4"
    assert (efi.hypervisor.format, efi.hypervisor.version, efi.hypervisor.arch) == \
        ("pe", "4.17.7", "x86_64")
    assert cfg.hypervisor.version == "4.17.7"
    # MANIFEST.md: CONFIG_SCHED_DEFAULT="credit2", CONFIG_XEN_SHSTK=y
    assert cfg.hypervisor.config["CONFIG_SCHED_DEFAULT"] == '"credit2"'
    assert gz.hypervisor.config == cfg.hypervisor.config
    assert cfg.hypervisor.config["CONFIG_XEN_SHSTK"] == "y"

"""Kernel readers on the committed fixtures (fixtures/recipes/kernel_images.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xenlint.artifact import Artifact, Kind
from xenlint.readers import read_path

KDIR = Path(__file__).resolve().parents[2] / "fixtures" / "readers" / "kernel"
RELEASE = "6.1.0-0-fixture-amd64"
COMPRESSIONS = ("gzip", "bzip2", "lzma", "xz", "lzo", "lz4", "zstd")


def one(path: Path) -> Artifact:
    [art] = read_path(path)
    assert art.error is None, art.error
    return art


@pytest.mark.parametrize("comp", COMPRESSIONS)
def test_bzimage_every_compression(comp: str) -> None:
    art = one(KDIR / f"bzImage-{comp}")
    k = art.kernel
    assert art.kind is Kind.KERNEL_IMAGE and k is not None
    assert (k.format, k.compression, k.release, k.arch) == \
        ("bzImage", comp, RELEASE, "x86_64")
    assert (k.boot_protocol, k.setup_sects, k.payload_offset) == ("2.15", 4, 256)
    assert k.decompressed_size == (KDIR / f"vmlinux-{RELEASE}").stat().st_size
    notes = k.xen_notes
    assert notes["GUEST_OS"] == "linux" and notes["ENTRY"] == 0xFFFFFFFF8304E1C0
    assert notes["PHYS32_ENTRY"] == 0x1000850 and notes["L1_MFN_VALID"] == [1, 1]
    assert k.ikconfig is True
    assert art.config is not None
    assert art.config["CONFIG_XEN"] == "y" and art.config["CONFIG_XEN_DOM0"] == "n"
    assert art.config == one(KDIR / f"config-{RELEASE}").config


def test_bzimage_without_xen() -> None:
    k = one(KDIR / "bzImage-noxen").kernel
    assert k is not None
    assert k.xen_notes == {} and k.ikconfig is False
    assert k.setup_sects == 4  # the header says 0, which boot.rst defines as 4
    assert k.build_id == bytes(range(20)).hex()


@pytest.mark.parametrize(("name", "comp"), [(f"vmlinux-{RELEASE}", "none"),
                                            (f"vmlinux-{RELEASE}.xz", "xz")])
def test_vmlinux(name: str, comp: str) -> None:
    k = one(KDIR / name).kernel
    assert k is not None
    assert (k.format, k.compression, k.release, k.arch) == \
        ("elf", comp, RELEASE, "x86_64")
    assert k.xen_notes["FEATURES"] == "!writable_page_tables|pae_pgdir_above_4gb"


@pytest.mark.parametrize(("name", "comp", "container"), [
    ("Image", "none", None), ("Image.gz", "gzip", None),
    ("vmlinuz-zboot.efi", "gzip", "efi-zboot"),
])
def test_arm64(name: str, comp: str, container: str | None) -> None:
    art = one(KDIR / name)
    k = art.kernel
    assert k is not None
    assert (k.format, k.arch, k.compression, k.release) == \
        ("arm64-image", "arm64", comp, "6.1.0-0-fixture-arm64")
    assert k.container == container
    assert art.config == {"CONFIG_XEN": "y", "CONFIG_ARM64": "y"}


def test_config() -> None:
    art = one(KDIR / f"config-{RELEASE}")
    assert art.kind is Kind.KERNEL_CONFIG and art.config is not None
    assert art.config["CONFIG_LOCALVERSION"] == '""'
    assert art.config["CONFIG_XEN_DOM0"] == "n"
    assert art.kernel is not None
    assert art.kernel.to_json() == {"release": RELEASE, "config_arch": "x86", "version": "6.1.0"}


@pytest.mark.parametrize(("name", "modname", "depends"), [
    ("xen-blkfront.ko", "xen_blkfront", []), ("xen-blkfront.ko.xz", "xen_blkfront", []),
    ("xen-netfront.ko.zst", "xen_netfront", []),
    ("xen-scsifront.ko.gz", "xen_scsifront", ["scsi_mod"]),
])
def test_modules(name: str, modname: str, depends: list[str]) -> None:
    art = one(KDIR / name)
    m = art.module
    assert art.kind is Kind.KERNEL_MODULE and m is not None
    assert m.name == modname and m.depends == depends
    assert m.vermagic == f"{RELEASE} SMP preempt mod_unload modversions"
    assert m.release == RELEASE and m.intree is True and m.signed is False
    assert m.alias and all(a.startswith("xen") for a in m.alias)


def test_kernel_deb_children() -> None:
    art = one(KDIR / f"linux-image-{RELEASE}_6.1.0-0_amd64.deb")
    kinds = sorted(c.kind.value for c in art.children)
    assert kinds == ["kernel-config", "kernel-image", "module-tree"]
    assert all(c.error is None for c in art.children)
    by_kind = {c.kind: c for c in art.children}
    img = by_kind[Kind.KERNEL_IMAGE]
    assert img.kernel is not None and img.kernel.compression == "xz"
    tree = by_kind[Kind.MODULE_TREE]
    assert tree.module is not None and tree.kernel is not None
    assert tree.kernel.to_json() == {"release": RELEASE}
    assert tree.module.modules == ["xen-blkfront", "xen-netfront"]
    assert tree.module.builtin == ["ext4", "xenbus"]
    assert tree.module.builtin_modinfo == ["ext4", "xenbus"]
    cfg = by_kind[Kind.KERNEL_CONFIG]
    assert cfg.config is not None and cfg.config["CONFIG_XEN_PVH"] == "y"


def test_kernel_rpm_children() -> None:
    art = one(KDIR / f"kernel-fixture-{RELEASE}.x86_64.rpm")
    by_kind = {c.kind: c for c in art.children}
    assert set(by_kind) == {Kind.KERNEL_IMAGE, Kind.KERNEL_CONFIG, Kind.MODULE_TREE}
    assert all(c.error is None for c in art.children)
    tree = by_kind[Kind.MODULE_TREE].module
    assert tree is not None
    assert tree.path == f"/usr/lib/modules/{RELEASE}"
    assert tree.modules == ["xen-blkfront", "xen-scsifront"]  # .ko.xz stems
    assert tree.has_modules_dep is True
    assert tree.dep == {"xen-blkfront": [], "xen-scsifront": ["xen-blkfront"]}
    img = by_kind[Kind.KERNEL_IMAGE].kernel
    assert img is not None and img.compression == "zstd"


def test_root_tree_kernel(tmp_path: Path) -> None:
    """A root tree (chroot) with a kernel yields the same three children."""
    boot = tmp_path / "boot"
    boot.mkdir()
    (boot / f"vmlinuz-{RELEASE}").write_bytes((KDIR / "bzImage-lz4").read_bytes())
    (boot / f"config-{RELEASE}").write_bytes((KDIR / f"config-{RELEASE}").read_bytes())
    mdir = tmp_path / "lib" / "modules" / RELEASE / "kernel" / "drivers" / "net"
    mdir.mkdir(parents=True)
    (mdir / "xen-netfront.ko.zst").write_bytes((KDIR / "xen-netfront.ko.zst").read_bytes())
    (mdir.parents[2] / "modules.builtin").write_text("kernel/fs/ext4/ext4.ko\n")
    (tmp_path / "etc").mkdir()
    [art] = read_path(tmp_path)
    assert art.kind is Kind.DIRECTORY and art.error is None
    by_kind = {c.kind: c for c in art.children}
    assert set(by_kind) == {Kind.KERNEL_IMAGE, Kind.KERNEL_CONFIG, Kind.MODULE_TREE}
    tree = by_kind[Kind.MODULE_TREE]
    assert tree.module is not None
    assert tree.module.modules == ["xen-netfront"] and tree.module.builtin == ["ext4"]
    k = by_kind[Kind.KERNEL_IMAGE].kernel
    assert k is not None and k.compression == "lz4"
    assert k.xen_notes["PHYS32_ENTRY"] == 0x1000850


def _error(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    [art] = read_path(path)
    assert art.error is not None, art
    assert "\n" not in art.error
    return art.error


def test_broken_kernels_give_one_line(tmp_path: Path) -> None:
    vmlinux = (KDIR / f"vmlinux-{RELEASE}").read_bytes()
    assert "is truncated" in _error(tmp_path, "v1", vmlinux[:6000])
    bz = (KDIR / "bzImage-xz").read_bytes()
    assert "outside the file" in _error(tmp_path, "bz", bz[:-10])
    assert "truncated inside its header" in _error(tmp_path, "bz2", bz[:0x220])
    config = (KDIR / f"config-{RELEASE}").read_bytes()
    assert "is not text" in _error(tmp_path, "config-x", config + b"\x01\x02junk\n")


def test_compression_nested_too_deep(tmp_path: Path) -> None:
    import gzip

    data = (KDIR.parent / "initramfs" / "initrd-gzip.img").read_bytes()
    for _ in range(6):
        data = gzip.compress(data, mtime=0)
    assert "nests deeper than 4 levels" in _error(tmp_path, "initrd.img", data)

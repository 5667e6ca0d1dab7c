"""Kernel images, configs and modules of the shared corpus against MANIFEST.md §1 and §3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from xenlint.artifact import Artifact, KernelInfo, Kind
from xenlint.modnames import canonical
from xenlint.readers import read_path

RELEASE = "6.1.0-56-cloud-amd64"
KERNEL_DEB = "deb/linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.deb"
VERMAGIC = f"{RELEASE} SMP preempt mod_unload modversions"

# MANIFEST §3: the Xen notes of this vmlinux (readelf -n)
XEN_NOTES: dict[str, Any] = {
    "GUEST_OS": "linux", "GUEST_VERSION": "2.6", "XEN_VERSION": "xen-3.0",
    "VIRT_BASE": 0xFFFFFFFF80000000, "ENTRY": 0xFFFFFFFF8304E1C0,
    "FEATURES": "!writable_page_tables|pae_pgdir_above_4gb", "PAE_MODE": "yes",
    "LOADER": "generic", "HV_START_LOW": 0xFFFF800000000000, "PADDR_OFFSET": 0,
    "PHYS32_ENTRY": 0x1000850,
}
PRESENT_NOTES = ("SUPPORTED_FEATURES", "L1_MFN_VALID", "SUSPEND_CANCEL", "INIT_P2M",
                 "MOD_START_PFN")
CONFIG = {
    "CONFIG_XEN": "y", "CONFIG_XEN_PV": "y", "CONFIG_XEN_PVHVM": "y", "CONFIG_XEN_PVH": "y",
    "CONFIG_XEN_DOM0": "n", "CONFIG_XEN_BLKDEV_FRONTEND": "m",
    "CONFIG_XEN_BLKDEV_BACKEND": "m", "CONFIG_XEN_NETDEV_FRONTEND": "m",
    "CONFIG_XEN_NETDEV_BACKEND": "m", "CONFIG_XEN_SCSI_FRONTEND": "m",
    "CONFIG_XEN_SCSI_BACKEND": "m", "CONFIG_XEN_PCIDEV_FRONTEND": "m",
    "CONFIG_XEN_PCIDEV_BACKEND": "m", "CONFIG_HVC_XEN": "y", "CONFIG_XEN_BALLOON": "y",
    "CONFIG_XENFS": "m", "CONFIG_XEN_GNTDEV": "m", "CONFIG_XEN_PRIVCMD": "m",
    "CONFIG_XEN_SAVE_RESTORE": "y", "CONFIG_XEN_512GB": "y", "CONFIG_XEN_FBDEV_FRONTEND": "y",
    "CONFIG_XEN_WDT": "m", "CONFIG_TCG_XEN": "m", "CONFIG_PARAVIRT": "y",
    "CONFIG_HYPERVISOR_GUEST": "y", "CONFIG_KERNEL_LZ4": "y", "CONFIG_MICROCODE": "n",
    "CONFIG_IKCONFIG": "n", "CONFIG_MODULE_SIG": "y", "CONFIG_MODULE_COMPRESS_NONE": "y",
    "CONFIG_EXT4_FS": "y", "CONFIG_VIRTIO_BLK": "m", "CONFIG_VIRTIO_NET": "m",
}
XEN_MODULES = ("xen-blkfront", "xen-netfront", "xen-blkback", "xen-netback", "xen-scsifront",
               "xen-scsiback", "xen-pcifront", "xen-pciback", "xen-evtchn", "xen-gntdev",
               "xen-gntalloc", "xen-privcmd", "xenfs", "xen-tpmfront", "xen_wdt")


def one(path: Path) -> Artifact:
    [art] = read_path(path)
    assert art.error is None, art.error
    return art


@pytest.fixture(scope="module")
def kernel_deb(corpus: Path) -> Artifact:
    return one(corpus / KERNEL_DEB)


def child(art: Artifact, kind: Kind) -> Artifact:
    found = [c for c in art.children if c.kind is kind]
    assert len(found) == 1, [(c.path, c.kind, c.error) for c in art.children]
    assert found[0].error is None, found[0].error
    return found[0]


def check_notes(kernel: KernelInfo) -> None:
    notes = kernel.xen_notes
    for name, value in XEN_NOTES.items():
        assert notes[name] == value, name
    for name in PRESENT_NOTES:
        assert name in notes
    assert notes["SUPPORTED_FEATURES"] & (1 << 11)  # XENFEAT_dom0, reference §2.1
    assert not any(n.startswith("XEN_ELFNOTE_") for n in notes)


def test_bzimage_in_kernel_package(kernel_deb: Artifact) -> None:
    img = child(kernel_deb, Kind.KERNEL_IMAGE)
    assert img.path.endswith(f"!/boot/vmlinuz-{RELEASE}")
    k = img.kernel
    assert k is not None
    assert (k.format, k.compression, k.release, k.arch) == \
        ("bzImage", "lz4", RELEASE, "x86_64")
    assert (k.boot_protocol, k.setup_sects) == ("2.15", 39)
    assert (k.payload_offset, k.payload_length) == (716, 14063308)
    assert k.ikconfig is False and img.config is None
    check_notes(k)
    # the scan stops after .notes (23 MB into the 53 MB vmlinux)
    assert 0 < img.meta.payload_bytes_scanned < 30_000_000


def test_config_in_kernel_package(kernel_deb: Artifact, corpus: Path) -> None:
    cfg = child(kernel_deb, Kind.KERNEL_CONFIG)
    bare = one(corpus / "kernel" / f"config-{RELEASE}")
    assert cfg.config == bare.config
    assert cfg.kernel is not None and bare.kernel is not None
    assert cfg.kernel.to_json() == bare.kernel.to_json() == {
        "release": RELEASE, "config_arch": "x86", "version": "6.1.192"}


def test_module_tree_in_kernel_package(kernel_deb: Artifact) -> None:
    tree = child(kernel_deb, Kind.MODULE_TREE)
    assert tree.kernel is not None and tree.kernel.to_json() == {"release": RELEASE}
    m = tree.module
    assert m is not None
    assert m.path == f"/lib/modules/{RELEASE}"
    ko = [p for p in kernel_deb.files if p.startswith(f"/lib/modules/{RELEASE}/kernel/")
          and p.endswith(".ko")]
    assert len(ko) == 1121
    assert len(m.modules) == len({p.rsplit("/", 1)[1][:-3] for p in ko})
    names = {canonical(n) for n in m.modules}
    assert all(canonical(x) in names for x in XEN_MODULES)
    assert "xen-blkfront" in m.modules  # spelled as on disk
    # ext4 is built in (CONFIG_EXT4_FS=y), so modules.builtin names it
    assert "ext4" in m.builtin and "ext4" in m.builtin_modinfo
    assert m.has_modules_dep is False  # depmod runs in postinst


def test_config_file(corpus: Path) -> None:
    art = one(corpus / "kernel" / f"config-{RELEASE}")
    assert art.kind is Kind.KERNEL_CONFIG
    assert art.config is not None
    for option, value in CONFIG.items():
        assert art.config[option] == value, option
    assert art.config["CONFIG_LOCALVERSION"].startswith('"')  # strings keep their quotes
    assert len(art.config) > 4000


def test_vmlinux_xz(corpus: Path) -> None:
    art = one(corpus / "kernel" / f"vmlinux-{RELEASE}.xz")
    assert art.kind is Kind.KERNEL_IMAGE
    k = art.kernel
    assert k is not None
    assert (k.format, k.compression, k.release, k.arch) == \
        ("elf", "xz", RELEASE, "x86_64")
    assert k.build_id == "3b43fad5034874490492495d552c0af6a5fab235"
    assert k.version_string.startswith(f"Linux version {RELEASE} (debian-kernel@")
    check_notes(k)
    assert art.meta.payload_bytes_scanned < 53_243_444


@pytest.mark.parametrize(("name", "modname", "aliases", "description"), [
    ("xen-blkfront", "xen_blkfront", {"xen:vbd", "xenblk", "block-major-202-*"},
     "Xen virtual block device frontend"),
    ("xen-netfront", "xen_netfront", {"xen:vif", "xennet"}, "Xen virtual network device frontend"),
    ("xen-blkback", "xen_blkback", {"xen-backend:vbd"}, None),
    ("xen-netback", "xen_netback", {"xen-backend:vif"}, None),
])
def test_module_file(corpus: Path, name: str, modname: str, aliases: set[str],
                     description: str | None) -> None:
    art = one(corpus / "kernel" / f"{name}.ko")
    assert art.kind is Kind.KERNEL_MODULE
    m = art.module
    assert m is not None
    assert m.name == modname
    assert set(m.alias) == aliases
    assert m.depends == []
    assert m.vermagic == VERMAGIC
    assert m.intree is True and m.signed is True
    if description:
        assert m.description == description

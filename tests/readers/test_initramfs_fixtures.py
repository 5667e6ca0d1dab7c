"""initramfs reader on the committed fixtures (fixtures/recipes/initramfs_images.py), and
its one-line diagnoses on broken images."""

from __future__ import annotations

from pathlib import Path

import pytest

from xenlint.artifact import Artifact, EntryType, InitramfsInfo, Kind
from xenlint.limits import Limits
from xenlint.readers import read_path

IDIR = Path(__file__).resolve().parents[2] / "fixtures" / "readers" / "initramfs"
RELEASE = "6.1.0-0-fixture-amd64"
MODDIR = f"/usr/lib/modules/{RELEASE}/kernel"


def read(name: str) -> tuple[Artifact, InitramfsInfo]:
    [art] = read_path(IDIR / name)
    assert art.error is None, art.error
    assert art.kind is Kind.INITRAMFS and art.initramfs is not None
    return art, art.initramfs


@pytest.mark.parametrize(("name", "comp"), [("initrd-gzip.img", "gzip"),
                                            ("initrd-bzip2.img", "bzip2")])
def test_single_segment(name: str, comp: str) -> None:
    art, f = read(name)
    [seg] = f.segments
    assert (seg.offset, seg.compression, seg.format, seg.files) == \
        (0, comp, "newc", 22)
    assert f.modules == ["xen-blkfront", "xen-netfront"]
    assert f.builtin_modules == ["ext4", "xenbus"]
    assert f.kernel_releases == [RELEASE]
    assert f.generator == "initramfs-tools"
    assert f.settings["MODULES"] == "most"
    assert f.listed_modules == ["xen-blkfront", "xen-netfront"]
    assert art.entries["/lib"].type is EntryType.SYMLINK
    assert art.entries["/lib"].link_target == "usr/lib"
    assert art.entries[f"{MODDIR}/drivers/block/xen-blkfront.ko"].size > 0


def test_early_cpio_then_xz() -> None:
    art, f = read("initrd-early-xz.img")
    early, main = f.segments
    assert (early.offset, early.compression, early.files) == (0, "none", 5)
    assert early.length < 1024
    assert (main.offset, main.compression, main.files) == (1024, "xz", 22)
    assert f.early_microcode is True
    assert "/kernel/x86/microcode/GenuineIntel.bin" in art.entries


@pytest.mark.parametrize("comp", ["lz4", "lzma", "lzo", "zstd"])
def test_other_compressions(comp: str) -> None:
    _art, f = read(f"initrd-{comp}.img")
    [seg] = f.segments
    assert seg.compression == comp and seg.files == 20
    assert f.modules == ["xen-netfront"]
    assert f.settings["MODULES"] == "list"


def test_odc_format() -> None:
    _art, f = read("initrd-odc.img")
    [seg] = f.segments
    assert (seg.format, seg.compression, seg.files) == ("odc", "none", 22)
    assert f.modules == ["xen-blkfront", "xen-netfront"]


def test_two_early_segments_then_two_crc_archives() -> None:
    _art, f = read("initrd-crc-early2.img")
    segs = f.segments
    assert [s.offset for s in segs] == [0, 1024, 2048]
    assert [s.compression for s in segs] == ["none", "none", "zstd"]
    assert segs[2].format == "crc"
    assert segs[2].files == 44  # two archives back to back in one stream


def test_dracut_layout() -> None:
    art, f = read("initrd-dracut.img")
    assert f.generator == "dracut"
    assert f.modules == ["xen-blkfront", "xen-netfront"]  # from .ko.xz and .ko.zst
    s = f.settings
    assert s["hostonly"] == "yes"
    assert s["add_drivers"] == "xen-blkfront xen-netfront"
    assert s["version"] == "059-4"
    assert f.dracut_modules == ["systemd", "kernel-modules", "base"]
    assert art.read("/usr/lib/dracut/hostonly-files") == b"/etc/fstab\n"


def _broken(tmp_path: Path, data: bytes, limits: Limits | None = None) -> str:
    path = tmp_path / "initrd.img"
    path.write_bytes(data)
    [art] = read_path(path, limits)
    assert art.error is not None
    assert "\n" not in art.error
    return art.error


def test_truncated_and_corrupt(tmp_path: Path) -> None:
    good = (IDIR / "initrd-odc.img").read_bytes()
    assert "no trailer" in _broken(tmp_path, good[:3000]) or \
        "truncated" in _broken(tmp_path, good[:3000])
    header = bytearray(b"070701" + b"0" * 104)
    header[6 + 8 * 11: 14 + 8 * 11] = b"FFFFFFFF"  # namesize 4 GiB
    assert "name size" in _broken(tmp_path, bytes(header))
    header = bytearray(b"070701" + b"0" * 104)
    header[6 + 8 * 6: 14 + 8 * 6] = b"7FFFFFFF"  # filesize 2 GiB
    header[6 + 8 * 11: 14 + 8 * 11] = b"00000002"
    assert "max_member_bytes" in _broken(tmp_path, bytes(header) + b"a\0",
                                         Limits(max_member_bytes=1 << 20))
    assert "bad ino field" in _broken(tmp_path, b"070701" + b"Z" * 104)
    early = (IDIR / "initrd-early-xz.img").read_bytes()
    assert "neither cpio nor" in _broken(tmp_path, early[:1024] + b"JUNKJUNK" * 8)


def test_lzo_needs_no_external_program(tmp_path: Path) -> None:
    """libarchive without liblzo2 would run `lzop -d`; xenlint decodes lzop itself."""
    import os
    import subprocess
    import sys

    code = ("import sys; from xenlint.readers import read_path; "
            "arts = [read_path(p)[0] for p in sys.argv[1:]]; "
            "print([a.error for a in arts])")
    paths = [str(IDIR / "initrd-lzo.img"),
             str(IDIR.parent / "kernel" / "bzImage-lzo")]
    env = {**os.environ, "PATH": str(tmp_path),
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    res = subprocess.run([sys.executable, "-c", code, *paths], env=env, capture_output=True,
                         text=True, check=True)
    assert res.stdout.strip() == "[None, None]"


def test_debian_installer_ramdisk_is_recognised_by_its_own_markers() -> None:
    """The netboot layout: d-i's markers, USB storage and sd_mod for firmware sticks, no
    disk controller driver; with ahci and virtio_blk added, those two are disk drivers."""
    base = IDIR.parents[1] / "rules" / "initramfs-missing-xen-blkfront"
    [netboot] = read_path(base / "pass-installer-netboot-fetches-disk-drivers" / "initrd.gz")
    assert netboot.initramfs is not None
    assert netboot.initramfs.generator == "debian-installer"
    assert netboot.initramfs.disk_drivers == []
    assert "usb-storage" in netboot.initramfs.modules
    [disks] = read_path(base / "fail-installer-with-disk-drivers" / "initrd.gz")
    assert disks.initramfs is not None
    assert disks.initramfs.disk_drivers == ["ahci", "virtio_blk"]

"""The four corpus initramfs images against MANIFEST.md §4."""

from __future__ import annotations

from pathlib import Path

import pytest

from xenlint.artifact import Artifact, EntryType, InitramfsInfo, Kind
from xenlint.modnames import canonical
from xenlint.readers import read_path

RELEASE = "6.1.0-56-cloud-amd64"
KO_DIR = f"/usr/lib/modules/{RELEASE}/kernel"


def read(corpus: Path, flavour: str) -> Artifact:
    [art] = read_path(corpus / "initramfs" / f"initrd.img-{RELEASE}.{flavour}")
    assert art.error is None, art.error
    assert art.kind is Kind.INITRAMFS
    assert art.initramfs is not None
    return art


def has(facts: InitramfsInfo, module: str) -> bool:
    return canonical(module) in {canonical(m) for m in facts.modules}


def ko_count(art: Artifact) -> int:
    return sum(1 for p in art.files if p.endswith(".ko"))


def test_itools_most(corpus: Path) -> None:
    art = read(corpus, "itools-most")
    f = art.initramfs
    assert f is not None
    early, main = f.segments
    assert (early.offset, early.compression, early.format, early.files,
            early.length) == (0, "none", "newc", 5, 148112)
    assert (main.offset, main.compression, main.format, main.files) == \
        (148480, "zstd", "newc", 419)
    assert main.decompressed_bytes == 49633280
    assert "/kernel/x86/microcode/AuthenticAMD.bin" in art.entries
    assert f.early_microcode is True
    assert ko_count(art) == 189
    assert f"{KO_DIR}/drivers/block/xen-blkfront.ko" in art.entries
    assert f"{KO_DIR}/drivers/net/xen-netfront.ko" in art.entries
    for mod in ("xen-blkfront", "xen-netfront", "xen-scsifront", "xen-blkback", "virtio_blk",
                "virtio_net"):
        assert has(f, mod), mod
    assert not has(f, "xen-netback")
    assert f.kernel_releases == [RELEASE]
    assert f.generator == "initramfs-tools"
    assert f.settings["MODULES"] == "most" and f.settings["COMPRESS"] == "zstd"
    assert f.listed_modules == ["xen-blkfront", "xen-netfront"]
    assert "ext4" in f.builtin_modules


def test_itools_list_gzip(corpus: Path) -> None:
    art = read(corpus, "itools-list")
    f = art.initramfs
    assert f is not None
    [seg] = f.segments
    assert (seg.offset, seg.compression, seg.format, seg.files) == \
        (0, "gzip", "newc", 144)
    assert seg.decompressed_bytes == 11697664
    assert f.modules == ["fan"]
    assert not has(f, "xen-blkfront") and not has(f, "xen-netfront")
    assert f.settings["MODULES"] == "list" and f.settings["COMPRESS"] == "gzip"
    assert f.early_microcode is False
    assert f.generator == "initramfs-tools"


def test_itools_list_lz4(corpus: Path) -> None:
    art = read(corpus, "itools-list-lz4")
    f = art.initramfs
    assert f is not None
    [seg] = f.segments
    assert (seg.compression, seg.files, seg.decompressed_bytes) == \
        ("lz4", 147, 11795968)
    assert sorted(f.modules) == ["fan", "xen-netfront"]
    assert has(f, "xen_netfront") and not has(f, "xen-blkfront")
    assert f.listed_modules == ["xen-netfront"]
    assert f.settings["COMPRESS"] == "lz4"


def test_dracut(corpus: Path) -> None:
    art = read(corpus, "dracut")
    f = art.initramfs
    assert f is not None
    [seg] = f.segments
    assert (seg.offset, seg.compression, seg.format, seg.files) == \
        (0, "xz", "newc", 910)
    assert seg.decompressed_bytes == 69982720
    assert ko_count(art) == 389
    for mod in ("xen-blkfront", "xen-netfront", "xen-scsifront", "xen_wdt", "virtio_blk"):
        assert has(f, mod), mod
    assert not has(f, "xen-blkback") and not has(f, "xen-netback")
    assert f.generator == "dracut"
    s = f.settings
    assert s["hostonly"] == "no"
    assert s["build_parameters"] == "--force --kver '6.1.0-56-cloud-amd64'"
    assert s["version"] == "059-4"
    assert f.dracut_modules[:2] == ["systemd", "systemd-initrd"]
    assert len(f.dracut_modules) == 20 and "kernel-modules" in f.dracut_modules
    assert f.early_microcode is False


@pytest.mark.parametrize("flavour", ["itools-most", "dracut"])
def test_lazy_read_of_a_member(corpus: Path, flavour: str) -> None:
    art = read(corpus, flavour)
    path = "/usr/lib/initrd-release" if flavour == "dracut" else "/conf/arch.conf"
    data = art.read(path)
    assert data is not None and len(data) == art.entries[path].size


@pytest.mark.parametrize("name", [f"initramfs/initrd.img-{RELEASE}.dracut",
                                  f"kernel/vmlinux-{RELEASE}.xz"])
def test_peak_memory_stays_low(corpus: Path, name: str) -> None:
    """The 70 MB dracut cpio and the 53 MB vmlinux stream through; neither is held."""
    import subprocess
    import sys

    # A forked child inherits its parent's peak RSS until exec, so the reader runs as a
    # grandchild of a small wrapper, whose RUSAGE_CHILDREN then sees only the reader.
    reader = ("import sys; from xenlint.readers import read_path; "
              "[a] = read_path(sys.argv[1]); assert a.error is None, a.error")
    wrapper = ("import resource, subprocess, sys; "
               "subprocess.run([sys.executable, '-c', sys.argv[1], sys.argv[2]], check=True); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    res = subprocess.run([sys.executable, "-c", wrapper, reader, str(corpus / name)],
                         check=True, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[2])
    peak_mb = int(res.stdout.strip()) / 1024
    assert peak_mb < 150, f"peak RSS {peak_mb:.0f} MB"


def test_dracut_hard_link_set(corpus: Path) -> None:
    """GNU cpio stores a hard-link set's bytes on its last name; the others link to it."""
    art = read(corpus, "dracut")
    unit = "/usr/lib/systemd/system/emergency.service"
    entry = art.entries[unit]
    assert entry.type is EntryType.HARDLINK
    assert entry.link_target == "/usr/lib/systemd/system/rescue.service"
    data = art.read(unit)
    assert data is not None and len(data) == entry.size == 690
    assert data == art.read(entry.link_target)

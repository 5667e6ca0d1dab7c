"""`xenlint inspect` text shows the kernel and ramdisk slots' lists (kernel_view.py)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from xenlint.cli import main

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "readers"


def test_inspect_text_kernel_and_initramfs() -> None:
    res = CliRunner().invoke(main, ["inspect", str(FIX / "kernel" / "bzImage-lz4"),
                                    str(FIX / "initramfs" / "initrd-early-xz.img"),
                                    str(FIX / "kernel" / "bzImage-noxen")])
    assert res.exit_code == 0, res.output
    assert "ENTRY=0xffffffff8304e1c0" in res.output
    assert "PHYS32_ENTRY=0x1000850" in res.output
    assert "xen notes: none" in res.output  # bzImage-noxen
    assert "segments: none newc at 0 (5 files); xz newc at 1024 (22 files)" in res.output
    assert "modules: 2 (xen: xen-blkfront, xen-netfront)" in res.output
    assert "settings: MODULES=most" in res.output

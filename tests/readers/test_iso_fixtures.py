"""ISO 9660 reader on fixtures/readers/iso/installer.iso (fixtures/recipes/iso_images.py)."""

from __future__ import annotations

from pathlib import Path

from xenlint.artifact import Kind
from xenlint.commands.inspect.view import artifact_to_dict
from xenlint.readers import read_path

ISO = Path(__file__).resolve().parents[2] / "fixtures" / "readers" / "iso" / "installer.iso"


def test_iso_children_and_facts() -> None:
    [art] = read_path(ISO)
    assert art.error is None and art.kind is Kind.ISO
    assert art.iso is not None
    assert art.iso.to_json() == {"volume_id": "XENLINT_TEST", "el_torito": True,
                                 "kernels": ["/install.amd/vmlinuz"],
                                 "ramdisks": ["/install.amd/initrd.gz"]}
    assert "/README.txt" in art.entries
    assert art.read("/README.txt") == b"xenlint ISO fixture\n"
    kinds = {c.path.rsplit("!", 1)[1]: c for c in art.children}
    kernel = kinds["/install.amd/vmlinuz"]
    assert kernel.kind is Kind.KERNEL_IMAGE and kernel.kernel is not None
    assert kernel.kernel.release == "6.1.0-0-fixture-amd64"
    assert kernel.kernel.xen_notes["GUEST_OS"] == "linux"
    initrd = kinds["/install.amd/initrd.gz"]
    assert initrd.kind is Kind.INITRAMFS and initrd.initramfs is not None
    assert initrd.initramfs.generator == "initramfs-tools"
    out = artifact_to_dict(art)
    assert out["iso"]["volume_id"] == "XENLINT_TEST"
    assert {c["kind"] for c in out["children"]} == {"kernel-image", "initramfs"}


def test_iso_depth_limit() -> None:
    from xenlint.limits import Limits

    [art] = read_path(ISO, Limits(max_depth=0))
    assert art.error is None
    assert all(c.error and "max_depth" in c.error for c in art.children)


def test_iso_member_too_large_to_open_is_reported() -> None:
    from xenlint.limits import Limits

    [art] = read_path(ISO, Limits(max_held_bytes=1024))
    errors = {c.path.rsplit("!", 1)[1]: c.error for c in art.children}
    assert "more than max_held_bytes (1024)" in (errors["/install.amd/vmlinuz"] or "")

"""Kernel images: x86 bzImage, arm64 Image (plain, gzip'd, EFI zboot) and vmlinux ELF.

The bzImage boot-protocol header gives the version string and where the compressed
payload lies; the payload is decompressed as a stream and fed to `KernelScan`, which
stops once the ELF notes, the banner and any IKCONFIG have gone by.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import replace
from typing import TypeVar

from xenlint.artifact import Artifact, KernelInfo, Kind
from xenlint.limits import ArtifactError
from xenlint.readers import ReadContext, Source, reader
from xenlint.readers.compressed import inner_format
from xenlint.readers.kconfig import parse_config
from xenlint.readers.lowlevel.archive import SliceReader, sniff_compression
from xenlint.readers.lowlevel.blocks import file_blocks
from xenlint.readers.lowlevel.elfnotes import check_sections, check_segments
from xenlint.readers.lowlevel.kscan import KernelScan, is_elf
from xenlint.readers.lowlevel.lzop import decompress

NESTED = (
    "/boot/vmlinuz*", "/boot/vmlinux*", "/boot/bzImage*", "/boot/Image*", "/boot/kernel-*",
    "/usr/lib/modules/*/vmlinuz", "/lib/modules/*/vmlinuz", "*/debian-installer/*/linux",
    "/install*/vmlinuz", "/isolinux/vmlinuz*", "/casper/vmlinuz*", "/live/vmlinuz*",
    "/images/pxeboot/vmlinuz*", "*/loader/linux",
)
HDRS = b"HdrS"
ARM64_MAGIC = b"ARM\x64"
ZBOOT_MAGIC = b"zimg"
SECTOR = 512
ZBOOT_TYPES = {"gzip": "gzip", "lzma": "lzma", "xz": "xz", "lz4": "lz4", "lzo": "lzo",
               "zstd": "zstd", "bzip2": "bzip2"}


def _u(data: bytes, off: int, size: int) -> int:
    if off + size > len(data):
        raise ArtifactError(f"is truncated inside its header (needs byte {off + size})")
    return int.from_bytes(data[off:off + size], "little")


def is_bzimage(head: bytes) -> bool:
    return len(head) >= 0x210 and head[0x202:0x206] == HDRS


def is_arm64_image(head: bytes) -> bool:
    return len(head) >= 0x40 and head[0x38:0x3C] == ARM64_MAGIC


def is_zboot(head: bytes) -> bool:
    return head[:2] == b"MZ" and head[4:8] == ZBOOT_MAGIC


def is_kernel_elf(head: bytes) -> bool:
    """An ELF executable whose first PT_LOAD sits in a kernel's upper-half address space."""
    if not is_elf(head) or len(head) < 0x34:
        return False
    cls, data = head[4], head[5]
    if cls not in (1, 2) or data not in (1, 2):
        return False
    end = "<" if data == 1 else ">"
    try:
        if cls == 2:
            e_type, = struct.unpack_from(end + "H", head, 16)
            phoff, = struct.unpack_from(end + "Q", head, 32)
            phentsize, phnum = struct.unpack_from(end + "HH", head, 54)
        else:
            e_type, = struct.unpack_from(end + "H", head, 16)
            phoff, = struct.unpack_from(end + "I", head, 28)
            phentsize, phnum = struct.unpack_from(end + "HH", head, 42)
        if e_type not in (2, 3) or phoff >= len(head):
            return False
        for i in range(min(phnum, 64)):
            off = phoff + i * phentsize
            p_type, = struct.unpack_from(end + "I", head, off)
            if p_type != 1:
                continue
            if cls == 2:
                vaddr, = struct.unpack_from(end + "Q", head, off + 16)
                return bool(vaddr >= 0xFFFF000000000000)
            vaddr, = struct.unpack_from(end + "I", head, off + 8)
            return bool(vaddr >= 0xC0000000)
    except (struct.error, OverflowError):
        return False
    return False


T = TypeVar("T")


def _either(header: T | None, payload: T | None) -> T | None:
    """What the header says, else what the payload says."""
    return header if header is not None else payload


def _finish(art: Artifact, scan: KernelScan, kernel: KernelInfo) -> Artifact:
    found = scan.facts()
    art.kernel = replace(
        kernel,
        release=_either(kernel.release, found.release),
        version_string=_either(kernel.version_string, found.version_string),
        arch=_either(kernel.arch, found.arch),
        ikconfig=found.ikconfig,
        ikconfig_error=found.ikconfig_error,
        xen_notes=_either(kernel.xen_notes, found.xen_notes) or {},
        build_id=_either(kernel.build_id, found.build_id),
    )
    art.meta = replace(art.meta, payload_bytes_scanned=scan.bytes_seen)
    if scan.ikconfig is not None:
        art.config = parse_config(scan.ikconfig)
    return art


def _scan(blocks: Iterator[bytes], elf: bool) -> KernelScan:
    scan = KernelScan(elf=elf)
    scan.run(blocks)
    return scan


def _payload_blocks(source: Source, ctx: ReadContext, start: int, length: int,
                    label: str) -> Iterator[bytes]:
    with source.open() as f:
        yield from decompress(SliceReader(f, start, length), ctx, label)


def _bzimage_header(head: bytes, size: int) -> tuple[KernelInfo, int | None]:
    """The header's facts, and where the payload starts in the file (None: the boot
    protocol is too old to say)."""
    setup_sects = _u(head, 0x1F1, 1) or 4
    version = _u(head, 0x206, 2)
    hdr = KernelInfo("bzImage", None, boot_protocol=f"{version >> 8}.{version & 0xFF}",
                     setup_sects=setup_sects)
    ptr = _u(head, 0x20E, 2)
    setup_end = (setup_sects + 1) * SECTOR
    if ptr and ptr + 0x200 < min(setup_end, len(head)):
        raw = head[ptr + 0x200: min(setup_end, len(head), ptr + 0x200 + 512)]
        text = raw.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
        hdr = replace(hdr, version_string=text, release=text.split()[0] if text else None)
    if version >= 0x20C:
        hdr = replace(hdr, arch="x86_64" if _u(head, 0x236, 2) & 1 else "x86")
    if version < 0x208:
        return hdr, None
    off, length = _u(head, 0x248, 4), _u(head, 0x24C, 4)
    start = setup_end + off
    if start + length > size or length == 0:
        raise ArtifactError(f"has a bzImage payload (offset {off}, length {length}) "
                            "outside the file")
    return replace(hdr, payload_offset=off, payload_length=length), start


@reader("bzimage", sniff=lambda head, source: is_bzimage(head), priority=20, nested=NESTED)
def read_bzimage(source: Source, ctx: ReadContext) -> Artifact:
    size = source.size
    with source.open() as f:
        head = f.read(0x8000)
    kernel, start = _bzimage_header(head, size)
    art = Artifact(source.display, Kind.KERNEL_IMAGE)
    if start is None or kernel.payload_length is None:
        art.kernel = kernel
        art.error = f"uses boot protocol {kernel.boot_protocol}, too old to locate the payload"
        return art
    with source.open() as f:
        f.seek(start)
        magic = f.read(16)
    comp = sniff_compression(magic)
    if comp is None and is_elf(magic):
        comp = "none"
    if comp is None:
        raise ArtifactError(f"has a bzImage payload in an unknown compression "
                            f"(magic {magic[:4].hex()})")
    length = kernel.payload_length
    with source.open() as f:
        f.seek(start + length - 4)
        kernel = replace(kernel, compression=comp,
                         decompressed_size=int.from_bytes(f.read(4), "little"))
    # The kernel's build appends the vmlinux size (le32) to every payload but gzip's (which
    # ends in ISIZE anyway); xz, zstd and lz4 decoders reject it as trailing garbage.
    if comp not in ("gzip", "none") and length > 4:
        length -= 4
    blocks = _payload_blocks(source, ctx, start, length, "kernel payload")
    return _finish(art, _scan(blocks, elf=True), kernel)


@reader("vmlinux", sniff=lambda head, source: is_kernel_elf(head), priority=20, nested=NESTED)
def read_vmlinux(source: Source, ctx: ReadContext) -> Artifact:
    art = Artifact(source.display, Kind.KERNEL_IMAGE)

    def blocks() -> Iterator[bytes]:
        with source.open() as f:
            yield from file_blocks(f, 0)

    scan = _scan(blocks(), elf=True)
    if scan.notes is not None and scan.notes.layout is not None:
        check_segments(scan.notes.layout, source.size)
    with source.open() as f:
        check_sections(f, source.size)
    return _finish(art, scan, KernelInfo("elf", "none"))


def _arm64_kernel(head: bytes, compression: str | None, container: str | None = None
                  ) -> KernelInfo:
    flags = _u(head, 24, 8)
    return KernelInfo("arm64-image", compression, arch="arm64", container=container,
                      text_offset=_u(head, 8, 8), image_size=_u(head, 16, 8),
                      endian="big" if flags & 1 else "little")


@reader("arm64-image", sniff=lambda head, source: is_arm64_image(head), priority=20,
        nested=NESTED)
def read_arm64(source: Source, ctx: ReadContext) -> Artifact:
    kernel = _arm64_kernel(source.head(64), "none")

    def blocks() -> Iterator[bytes]:
        with source.open() as f:
            yield from file_blocks(f, 0)

    return _finish(Artifact(source.display, Kind.KERNEL_IMAGE), _scan(blocks(), elf=False),
                   kernel)


@reader("efi-zboot", sniff=lambda head, source: is_zboot(head), priority=19, nested=NESTED)
def read_zboot(source: Source, ctx: ReadContext) -> Artifact:
    size = source.size
    head = source.head(64)
    off, length = _u(head, 8, 4), _u(head, 12, 4)
    ctype = head[24:56].split(b"\0", 1)[0].decode("ascii", "replace")
    if off + length > size or length == 0:
        raise ArtifactError(f"has an EFI zboot payload (offset {off}, length {length}) "
                            "outside the file")
    with source.open() as f:
        f.seek(off)
        magic = f.read(16)
    comp = ZBOOT_TYPES.get(ctype) or sniff_compression(magic) or "none"
    inner = bytearray()
    for block in _payload_blocks(source, ctx, off, length, "zboot payload"):
        inner += block
        if len(inner) >= 64:
            break
    kernel = (_arm64_kernel(bytes(inner), comp, "efi-zboot") if is_arm64_image(bytes(inner))
              else KernelInfo("arm64-image", comp, container="efi-zboot"))
    blocks = _payload_blocks(source, ctx, off, length, "zboot payload")
    return _finish(Artifact(source.display, Kind.KERNEL_IMAGE), _scan(blocks, elf=False),
                   kernel)


def _decompressed(source: Source, ctx: ReadContext) -> Iterator[bytes]:
    with source.open() as f:
        yield from decompress(f, ctx, "kernel")


@inner_format(is_kernel_elf, "vmlinux")
def _read_compressed_elf(source: Source, ctx: ReadContext, compression: str) -> Artifact:
    return _finish(Artifact(source.display, Kind.KERNEL_IMAGE),
                   _scan(_decompressed(source, ctx), elf=True),
                   KernelInfo("elf", compression))


@inner_format(is_arm64_image, "arm64-image")
def _read_compressed_arm64(source: Source, ctx: ReadContext, compression: str) -> Artifact:
    from xenlint.readers.compressed import peek

    kernel = _arm64_kernel(peek(source, ctx, 64), compression)
    return _finish(Artifact(source.display, Kind.KERNEL_IMAGE),
                   _scan(_decompressed(source, ctx), elf=False), kernel)

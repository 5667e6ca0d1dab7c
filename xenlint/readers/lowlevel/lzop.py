"""lzop streams (kernel payloads and initramfs made with lzo), decoded in-process.

libarchive here is built without liblzo2 and would run an external `lzop -d`, and
xenlint never runs programs at read time. The lzop container is parsed here and each
LZO1X block is decoded by lzallright; blocks are bounded as the kernel's own unlzo
bounds them (256 KiB), so a hostile file cannot make a block allocate more.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from typing import BinaryIO

from libarchive.exception import ArchiveError

from xenlint.limits import ArtifactError, LimitExceeded
from xenlint.readers import ReadContext
from xenlint.readers.lowlevel.archive import decompress as archive_decompress
from xenlint.readers.lowlevel.archive import open_stream

MAGIC = b"\x89LZO\x00\r\n\x1a\n"
BLOCK_MAX = 256 * 1024  # lib/decompress_unlzo.c: LZO_BLOCK_SIZE
F_ADLER32_D, F_ADLER32_C, F_H_EXTRA_FIELD = 0x1, 0x2, 0x40
F_CRC32_D, F_CRC32_C, F_H_FILTER = 0x100, 0x200, 0x800
MAX_EXTRA = 1 << 16


def _read(f: BinaryIO | io.RawIOBase, n: int, label: str) -> bytes:
    data = f.read(n) or b""
    if len(data) < n:
        raise ArtifactError(f"{label} is truncated (lzop stream ends early)")
    return bytes(data)


def _u(f: BinaryIO | io.RawIOBase, fmt: str, label: str) -> int:
    value: int = struct.unpack(">" + fmt, _read(f, struct.calcsize(fmt), label))[0]
    return value


def _header(f: BinaryIO | io.RawIOBase, label: str) -> int:
    """Skip one lzop file header; returns its flags."""
    if _read(f, 9, label) != MAGIC:
        raise ArtifactError(f"{label} is not an lzop stream")
    version = _u(f, "H", label)
    _u(f, "H", label)  # lib version
    if version >= 0x0940:
        _u(f, "H", label)  # version needed to extract
    method = _u(f, "B", label)
    if method not in (1, 2, 3):
        raise ArtifactError(f"{label} uses lzop method {method}, not LZO1X")
    if version >= 0x0940:
        _u(f, "B", label)  # level
    flags = _u(f, "I", label)
    if flags & F_H_FILTER:
        _u(f, "I", label)
    _read(f, 12 if version >= 0x0940 else 8, label)  # mode, mtime (low[, high])
    name_len = _u(f, "B", label)
    _read(f, name_len + 4, label)  # name, header checksum
    if flags & F_H_EXTRA_FIELD:
        extra = _u(f, "I", label)
        if extra > MAX_EXTRA:
            raise ArtifactError(f"{label} has an lzop header extra field of {extra} bytes")
        _read(f, extra + 4, label)
    return flags


def lzop_blocks(f: BinaryIO | io.RawIOBase, label: str) -> Iterator[bytes]:
    """Decoded blocks of one or more concatenated lzop streams."""
    try:
        from lzallright import LZOCompressor, LZOError
    except ImportError:  # pragma: no cover - declared dependency
        raise ArtifactError(f"{label} is lzo-compressed and the lzallright package is "
                            "missing") from None
    while True:
        flags = _header(f, label)
        while True:
            dst_len = _u(f, "I", label)
            if dst_len == 0:
                break
            src_len = _u(f, "I", label)
            if dst_len > BLOCK_MAX or not 0 < src_len <= dst_len:
                raise ArtifactError(f"{label} has a corrupt lzop block "
                                    f"({src_len} -> {dst_len} bytes)")
            skip = 4 * (bool(flags & F_ADLER32_D) + bool(flags & F_CRC32_D))
            if src_len < dst_len:
                skip += 4 * (bool(flags & F_ADLER32_C) + bool(flags & F_CRC32_C))
            _read(f, skip, label)
            data = _read(f, src_len, label)
            if src_len == dst_len:
                yield data
                continue
            try:
                out = LZOCompressor.decompress(data, output_size_hint=dst_len)
            except LZOError as exc:
                raise ArtifactError(f"{label} has a corrupt lzo block ({exc.args[0]})") from None
            if len(out) != dst_len:
                raise ArtifactError(f"{label} has an lzo block of the wrong size")
            yield out
        more = f.read(len(MAGIC)) or b""
        if more != MAGIC:
            return
        f.seek(-len(MAGIC), io.SEEK_CUR)


def _check_layers(stream: BinaryIO | io.RawIOBase, ctx: ReadContext, label: str) -> None:
    """libarchive peels compression inside compression by itself (gzip in gzip in ...); each
    extra layer counts as a level of nesting against max_depth."""
    try:
        with open_stream(stream, "raw") as arc:
            next(iter(arc), None)
            layers = sum(1 for n in arc.filter_names if n not in (b"none", "none"))
    except ArchiveError:
        return  # archive_decompress reports it with its own message
    if layers > 1 and ctx.depth + layers - 1 > ctx.limits.max_depth:
        raise LimitExceeded(f"{label} nests deeper than {ctx.limits.max_depth} levels "
                            f"(max_depth): {layers} compression layers")


def decompress(stream: BinaryIO | io.RawIOBase, ctx: ReadContext, label: str,
               limit: int | None = None) -> Iterator[bytes]:
    """archive.decompress, except that lzop streams are decoded in-process."""
    pos = stream.tell()
    head = stream.read(len(MAGIC)) or b""
    stream.seek(pos)
    if head != MAGIC:
        _check_layers(stream, ctx, label)
        stream.seek(pos)
        yield from archive_decompress(stream, ctx, label, limit)
        return
    cap = limit if limit is not None else ctx.limits.max_member_bytes
    seen = 0
    for block in lzop_blocks(stream, label):
        seen += len(block)
        if seen > cap:
            raise LimitExceeded(f"{label} decompresses to more than {cap} bytes "
                                "(max_member_bytes); possible decompression bomb")
        ctx.budget.add_bytes(len(block))
        yield block

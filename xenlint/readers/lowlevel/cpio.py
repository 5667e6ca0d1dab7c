"""Our own cpio header parser (newc 070701, crc 070702, odc 070707), with bounded fields.

The initramfs reader needs exact byte positions to find where one concatenated archive
ends and the next segment starts (as unmkinitramfs does), which libarchive hides, so
headers are parsed here and file data is skipped unless a caller asks for it.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import dataclass

from xenlint.artifact import EntryType
from xenlint.limits import ArtifactError, LimitExceeded
from xenlint.readers import ReadContext
from xenlint.readers.lowlevel.blocks import ByteStream

MAGICS = {b"070701": "newc", b"070702": "crc", b"070707": "odc"}
TRAILER = "TRAILER!!!"
NEWC_HEADER = 110
ODC_HEADER = 76
# Linux and cpio both cap names at PATH_MAX.
MAX_NAME = 4096

_TYPES = {
    stat.S_IFDIR: EntryType.DIRECTORY, stat.S_IFLNK: EntryType.SYMLINK,
    stat.S_IFCHR: EntryType.CHAR, stat.S_IFBLK: EntryType.BLOCK,
    stat.S_IFIFO: EntryType.FIFO, stat.S_IFSOCK: EntryType.SOCKET,
    stat.S_IFREG: EntryType.FILE,
}


def is_cpio(head: bytes) -> bool:
    return head[:6] in MAGICS


@dataclass(frozen=True, slots=True)
class CpioHeader:
    format: str
    offset: int  # of the header, within the stream being parsed
    name: str
    mode: int
    size: int
    nlink: int
    ino: int

    @property
    def type(self) -> EntryType:
        return _TYPES.get(stat.S_IFMT(self.mode), EntryType.FILE)


_DIGITS = {16: frozenset(b"0123456789abcdefABCDEF"), 8: frozenset(b"01234567")}


def _number(field: bytes, base: int, what: str, offset: int) -> int:
    # digits only: int() would also take a sign, spaces, "0x" or "_" (a negative mode or
    # size from "-0000001" is a lie the kernel's own parser never accepts)
    if not field or not set(field) <= _DIGITS[base]:
        raise ArtifactError(f"has a corrupt cpio header at offset {offset} "
                            f"(bad {what} field)")
    return int(field, base)


def _pad4(n: int) -> int:
    return (4 - n % 4) % 4


def read_header(stream: ByteStream, ctx: ReadContext) -> tuple[CpioHeader, int]:
    """Parse the header at the stream position; returns it and the data padding to skip after."""
    offset = stream.pos
    magic = stream.peek(6)
    fmt = MAGICS.get(magic)
    if not magic:
        raise ArtifactError(f"ends at offset {offset} inside a cpio archive (no trailer)")
    if fmt is None:
        raise ArtifactError(f"has no cpio header at offset {offset} (bad magic)")
    if fmt == "odc":
        raw = stream.read(ODC_HEADER)
        if len(raw) < ODC_HEADER:
            raise ArtifactError(f"is truncated inside a cpio header at offset {offset}")
        ino = _number(raw[12:18], 8, "ino", offset)
        mode = _number(raw[18:24], 8, "mode", offset)
        nlink = _number(raw[36:42], 8, "nlink", offset)
        namesize = _number(raw[59:65], 8, "namesize", offset)
        size = _number(raw[65:76], 8, "filesize", offset)
        name_pad = data_pad = 0
    else:
        raw = stream.read(NEWC_HEADER)
        if len(raw) < NEWC_HEADER:
            raise ArtifactError(f"is truncated inside a cpio header at offset {offset}")
        fields = [raw[6 + 8 * i: 14 + 8 * i] for i in range(13)]
        ino = _number(fields[0], 16, "ino", offset)
        mode = _number(fields[1], 16, "mode", offset)
        nlink = _number(fields[4], 16, "nlink", offset)
        size = _number(fields[6], 16, "filesize", offset)
        namesize = _number(fields[11], 16, "namesize", offset)
        name_pad = _pad4(NEWC_HEADER + namesize)
        data_pad = _pad4(size)
    if not 1 <= namesize <= MAX_NAME:
        raise ArtifactError(f"has a corrupt cpio header at offset {offset} "
                            f"(name size {namesize})")
    if size > ctx.limits.max_member_bytes:
        raise LimitExceeded(f"has a cpio member at offset {offset} claiming {size} bytes "
                            f"(max_member_bytes {ctx.limits.max_member_bytes})")
    raw_name = stream.read(namesize)
    if len(raw_name) < namesize:
        raise ArtifactError(f"is truncated inside a cpio name at offset {offset}")
    if stream.skip(name_pad) < name_pad:
        raise ArtifactError(f"is truncated after a cpio name at offset {offset}")
    name = raw_name.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    return CpioHeader(fmt, offset, name, mode, size, nlink, ino), data_pad


class CpioMember:
    """A member while the stream is positioned on its data."""

    def __init__(self, header: CpioHeader, stream: ByteStream, ctx: ReadContext,
                 archive: int = 0) -> None:
        self.header = header
        # which archive of the image it came from: inode numbers are only unique within one
        self.archive = archive
        self._stream = stream
        self._ctx = ctx
        self.consumed = 0

    def read(self, cap: int | None = None) -> bytes:
        """The member's data (at most `cap` bytes held, default max_held_bytes)."""
        cap = self._ctx.limits.max_held_bytes if cap is None else cap
        size = self.header.size
        if size > cap:
            raise LimitExceeded(f"cpio member {self.header.name} is larger than {cap} bytes "
                                "held in memory (max_held_bytes)")
        data = self._stream.read(size - self.consumed)
        self.consumed += len(data)
        if self.consumed < size:
            raise ArtifactError(f"is truncated inside cpio member {self.header.name}")
        return data


def iter_archive(stream: ByteStream, ctx: ReadContext,
                 archive: int = 0) -> Iterator[CpioMember]:
    """The members of one cpio archive, up to (not including) its trailer.

    Data the consumer does not read is skipped. Ends at the trailer; the stream is then
    positioned just after the trailer entry.
    """
    while True:
        header, data_pad = read_header(stream, ctx)
        if header.name == TRAILER:
            stream.skip(header.size + data_pad)
            return
        ctx.budget.add_member()
        member = CpioMember(header, stream, ctx, archive)
        yield member
        left = header.size - member.consumed
        if stream.skip(left) < left:
            raise ArtifactError(f"is truncated inside cpio member {header.name}")
        stream.skip(data_pad)

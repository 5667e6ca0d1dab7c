"""initramfs / initrd images: concatenated cpio segments, uncompressed or compressed.

Segments are found the way unmkinitramfs finds them: an uncompressed cpio (early
microcode) runs to its trailer, NUL padding follows, and whatever starts with a
compression magic is decompressed to the end of the file as the main archive, which
may itself hold several cpio archives back to back. One streaming pass records every
entry and keeps only the few small files the facts read (generator settings,
modules.builtin, and what `capture.want()` declared); file data is skipped otherwise.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import BinaryIO

from xenlint import capture
from xenlint.artifact import Artifact, Entry, EntryType, Kind, Segment
from xenlint.limits import ArtifactError, normalize_member
from xenlint.readers import ReadContext, Source, reader
from xenlint.readers.compressed import inner_format
from xenlint.readers.lowlevel.archive import SliceReader, sniff_compression
from xenlint.readers.lowlevel.blocks import ByteStream, file_blocks
from xenlint.readers.lowlevel.cpio import MAGICS as CPIO_MAGICS
from xenlint.readers.lowlevel.cpio import MAX_NAME, CpioMember, is_cpio, iter_archive
from xenlint.readers.lowlevel.lzop import decompress
from xenlint.readers.ramdisk_survey import KEEP_RE, derive_facts

# initrds inside packages, installer trees and ISO images
NESTED = (
    "/boot/initrd*", "/boot/initramfs*", "*/initrd.img*", "*/initrd.gz", "*/initrd.xz",
    "*/initrd.lz", "*/initrd.zst", "*/initrd", "/isolinux/initrd*", "/casper/initrd*",
    "/live/initrd*", "/images/pxeboot/initrd*", "*/loader/initrd",
)
# padding between segments is skipped up to this much; more zeros is not an initramfs
MAX_PADDING = 1 << 20

OnMember = Callable[[CpioMember], None]


class _Found(Exception):
    """Raised by a lazy load once every requested path has been read."""


def _sniff(head: bytes, source: Source) -> bool:
    return is_cpio(head)


def _skip_file_zeros(f: BinaryIO, pos: int, size: int) -> int:
    """The offset of the first non-NUL byte at or after `pos` (or `size`)."""
    while pos < size:
        f.seek(pos)
        chunk = f.read(min(1 << 16, size - pos))
        stripped = chunk.lstrip(b"\0")
        pos += len(chunk) - len(stripped)
        if stripped:
            break
    return pos


def _archives(stream: ByteStream, ctx: ReadContext, on_member: OnMember,
              several: bool, archives: list[int]) -> tuple[int, str]:
    """Parse cpio archive(s) from the stream; returns (member count, format).
    `archives` is a one-element counter of archives seen in the whole image."""
    count = 0
    fmt = ""
    while True:
        fmt = fmt or CPIO_MAGICS.get(stream.peek(6), "")
        archives[0] += 1
        for member in iter_archive(stream, ctx, archives[0]):
            count += 1
            on_member(member)
        if not several:
            return count, fmt
        stream.skip_zeros(MAX_PADDING)
        if stream.at_end() or not is_cpio(stream.peek(6)):
            return count, fmt


def scan_segments(f: BinaryIO, size: int, ctx: ReadContext,
                  on_member: OnMember) -> list[Segment]:
    """Walk every segment of the image, calling `on_member` for each cpio member."""
    segments: list[Segment] = []
    archives = [0]
    pos = _skip_file_zeros(f, 0, size)
    while pos < size:
        f.seek(pos)
        head = f.read(16)
        if is_cpio(head):
            stream = ByteStream(file_blocks(f, pos, size - pos))
            count, fmt = _archives(stream, ctx, on_member, False, archives)
            segments.append(Segment(pos, "none", fmt, count, stream.pos))
            pos = _skip_file_zeros(f, pos + stream.pos, size)
            continue
        comp = sniff_compression(head)
        if comp is None:
            raise ArtifactError(f"has data at offset {pos} that is neither cpio nor a "
                                "known compression")
        label = f"segment at offset {pos}"
        stream = ByteStream(decompress(SliceReader(f, pos, size - pos), ctx, label))
        try:
            count, fmt = _archives(stream, ctx, on_member, True, archives)
            # the kernel stops at the end of the last archive too; what follows is noted
            trailing = not stream.at_end()
        finally:
            stream.close()
        segments.append(Segment(pos, comp, fmt, count, size - pos,
                                decompressed_bytes=stream.pos,
                                trailing_data=trailing))
        break
    if not segments:
        raise ArtifactError("holds no cpio archive")
    return segments


def _resolve_links(art: Artifact, link_sets: dict[tuple[int, int], list[str]]
                   ) -> dict[str, str]:
    """Turn the empty names of each hard-link set into HARDLINK entries pointing at the
    name that carries the bytes; returns {link name: data name} for lazy reads."""
    links: dict[str, str] = {}
    for names in link_sets.values():
        holders = [p for p in names if p in art.entries and art.entries[p].size > 0]
        if len(names) < 2 or not holders:
            continue
        holder = holders[-1]
        for p in names:
            e = art.entries.get(p)
            if p != holder and e is not None and e.size == 0:
                art.entries[p] = Entry(p, EntryType.HARDLINK, e.mode,
                                       art.entries[holder].size, holder)
                links[p] = holder
                data = art.captured(holder)
                if data is not None:
                    art.capture(p, data)
    return links


def read_initramfs(source: Source, ctx: ReadContext) -> Artifact:
    art = Artifact(source.display, Kind.INITRAMFS)
    size = source.size

    # hard-link sets (nlink > 1, same inode in one archive): GNU cpio puts the bytes on the
    # last name only, the kernel's gen_init_cpio on the first; the others become HARDLINKs
    link_sets: dict[tuple[int, int], list[str]] = {}

    def record(member: CpioMember) -> None:
        h = member.header
        path, unsafe = normalize_member(h.name)
        if h.type is EntryType.FILE and h.nlink > 1:
            link_sets.setdefault((member.archive, h.ino), []).append(path)
        if unsafe:
            art.unsafe_paths.append(h.name)
        etype = h.type
        link = None
        if etype is EntryType.SYMLINK:
            link = member.read(MAX_NAME).split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        elif (etype is EntryType.FILE and h.size <= capture.CAPTURE_MAX_BYTES
              and (KEEP_RE.match(path) or capture.wanted(path, h.size))):
            art.capture(path, member.read())
        if path != "/":
            art.entries[path] = Entry(path, etype, h.mode & 0o7777, h.size, link)

    with source.open() as f:
        segments = scan_segments(f, size, ctx, record)
    links = _resolve_links(art, link_sets)

    def load(paths: set[str]) -> Mapping[str, bytes]:
        want = {links.get(p, p) for p in paths}
        got: dict[str, bytes] = {}

        def pick(member: CpioMember) -> None:
            path = normalize_member(member.header.name)[0]
            if path in want and member.header.type is EntryType.FILE and member.header.size:
                got[path] = member.read()
                if len(got) == len(want):
                    raise _Found

        with source.open() as f2, contextlib.suppress(_Found):
            scan_segments(f2, size, ctx, pick)
        return {p: got[links.get(p, p)] for p in paths if links.get(p, p) in got}

    art.set_loader(load)
    art.initramfs = derive_facts(art, segments)
    art.meta = replace(art.meta, compression=segments[-1].compression)
    return art


reader("initramfs", sniff=_sniff, priority=30, nested=NESTED)(read_initramfs)


@inner_format(is_cpio, "initramfs")
def _read_compressed(source: Source, ctx: ReadContext, compression: str) -> Artifact:
    return read_initramfs(source, ctx)

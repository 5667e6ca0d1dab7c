"""Streaming helpers over libarchive: members of tar/cpio/iso streams, and raw decompression.

Nothing here writes to disk; every byte that comes out of a decompressor is counted
against the artifact's `Budget` and the per-member cap.
"""

from __future__ import annotations

import ctypes
import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, BinaryIO, cast

from libarchive import ffi
from libarchive.exception import ArchiveError
from libarchive.read import ArchiveRead

from xenlint import capture
from xenlint.artifact import Artifact, Entry, EntryType, Kind
from xenlint.limits import ArtifactError, LimitExceeded, normalize_member
from xenlint.readers import ReadContext, is_nested_candidate, read_member

# libarchive's filter names -> the names xenlint reports
COMPRESSION_NAMES = {
    "gzip": "gzip", "xz": "xz", "zstd": "zstd", "bzip2": "bzip2", "lzma": "lzma",
    "lz4": "lz4", "lzop": "lzo", "lzip": "lzip", "compress (.Z)": "compress",
}

# (magic, name) for compressed streams, longest first where prefixes overlap
MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x02\x21\x4c\x18", "lz4"),
    (b"\x04\x22\x4d\x18", "lz4"),
    (b"\x89LZO\x00\r\n\x1a\n", "lzo"),
    (b"\x1f\x8b", "gzip"),
    (b"\x1f\x9e", "gzip"),
    (b"BZh", "bzip2"),
    (b"\x5d\x00\x00", "lzma"),
)


def sniff_compression(head: bytes) -> str | None:
    for magic, name in MAGICS:
        if head.startswith(magic):
            return name
    return None


class SliceReader(io.RawIOBase):
    """A read-only window [start, start+length) onto a seekable file, for libarchive."""

    def __init__(self, f: BinaryIO, start: int, length: int) -> None:
        self._f = f
        self._start = start
        self._length = length
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        n = min(len(buf), self._length - self._pos)
        if n <= 0:
            return 0
        self._f.seek(self._start + self._pos)
        # libarchive hands a ctypes char array: slice-assigning into it copies byte by byte
        # (~60x slower than the read); a byte-format view lets the file read straight into it
        f = cast(io.BufferedIOBase, self._f)  # every file and BytesIO we slice has readinto
        got = f.readinto(memoryview(buf).cast("B")[:n]) or 0
        self._pos += got
        return got

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}[whence]
        self._pos = max(0, min(self._length, base + offset))
        return self._pos

    def tell(self) -> int:
        return self._pos


def _entry_type(ae: Any) -> EntryType:
    if ae.isdir:
        return EntryType.DIRECTORY
    if ae.issym:
        return EntryType.SYMLINK
    if ae.islnk:
        return EntryType.HARDLINK
    if ae.ischr:
        return EntryType.CHAR
    if ae.isblk:
        return EntryType.BLOCK
    if ae.isfifo:
        return EntryType.FIFO
    if ae.issock:
        return EntryType.SOCKET
    return EntryType.FILE


class Member:
    """One archive member while its stream is positioned on it."""

    def __init__(self, ae: Any, entry: Entry, raw_name: str, unsafe: bool, ctx: ReadContext,
                 charged: int = 0):
        self._ae = ae
        self.entry = entry
        self.raw_name = raw_name
        self.unsafe = unsafe
        self._ctx = ctx
        # bytes of this member already counted against the artifact's budget (its size, at
        # the header: the stream decompresses them whether or not anyone reads them)
        self._charged = charged

    def blocks(self) -> Iterator[bytes]:
        """The member's bytes, block by block, counted against the limits."""
        limit = self._ctx.limits.max_member_bytes
        seen = 0
        blocks = self._ae.get_blocks(1 << 16)
        while True:
            try:
                block = next(blocks)
            except StopIteration:
                return
            except ArchiveError as exc:
                raise ArtifactError(f"member {self.entry.path} is corrupt or truncated "
                                    f"({_archive_msg(exc)})") from None
            seen += len(block)
            if seen > limit:
                raise LimitExceeded(
                    f"member {self.entry.path} decompresses to more than {limit} bytes "
                    "(max_member_bytes); possible decompression bomb"
                )
            if seen > self._charged:  # a format that did not say the size up front
                self._ctx.budget.add_bytes(seen - self._charged)
                self._charged = seen
            yield block

    def read(self) -> bytes:
        """The whole member, if it fits the in-memory cap."""
        cap = self._ctx.limits.max_held_bytes
        out = bytearray()
        for block in self.blocks():
            out += block
            if len(out) > cap:
                raise LimitExceeded(
                    f"member {self.entry.path} is larger than {cap} bytes held in memory "
                    "(max_held_bytes)"
                )
        return bytes(out)


# libarchive runs an external program (`lzop -d`, `lrzip -d`, `grzip -d`) for any filter it
# was built without, and "all" enables those fallbacks. xenlint never starts processes while
# reading untrusted input, so only the in-process decoders are enabled (lzo: see lzop.py).
IN_PROCESS_FILTERS = ("gzip", "bzip2", "xz", "lzma", "zstd", "lz4", "compress")


@contextmanager
def open_stream(
    stream: BinaryIO | io.RawIOBase, format_name: str, block_size: int = 1 << 16
) -> Iterator[Any]:
    """libarchive over a Python stream, with only in-process decompression filters."""
    buf = ctypes.create_string_buffer(block_size)
    buf_p = ctypes.cast(buf, ctypes.c_void_p)

    def read_func(_archive_p: Any, _context: Any, ptrptr: Any) -> int:
        length = stream.readinto(buf)  # type: ignore[union-attr]
        ctypes.cast(ptrptr, ctypes.POINTER(ctypes.c_void_p))[0] = buf_p
        return length or 0

    def seek_func(_archive_p: Any, _context: Any, offset: int, whence: int) -> int:
        stream.seek(offset, whence)
        return stream.tell()

    read_cb = ffi.READ_CALLBACK(read_func)
    seek_cb = ffi.SEEK_CALLBACK(seek_func)
    archive_p = ffi.read_new()
    try:
        for name in IN_PROCESS_FILTERS:
            ffi.get_read_filter_function(name)(archive_p)
        ffi.get_read_format_function(format_name)(archive_p)
        if stream.seekable():
            ffi.read_set_seek_callback(archive_p, seek_cb)
        ffi.read_open(archive_p, None, ffi.NO_OPEN_CB, read_cb, ffi.NO_CLOSE_CB)
        yield ArchiveRead(archive_p)
    finally:
        ffi.read_free(archive_p)


@contextmanager
def _reader(stream: BinaryIO | io.RawIOBase, format_name: str) -> Iterator[Any]:
    try:
        with open_stream(stream, format_name) as arc:
            yield arc
    except ArchiveError as exc:
        raise ArtifactError(f"is corrupt or truncated ({_archive_msg(exc)})") from None


def _filter_name(n: bytes | str) -> str:
    name = n.decode("ascii", "replace") if isinstance(n, bytes) else n
    return COMPRESSION_NAMES.get(name, name)


def _archive_msg(exc: Any) -> str:
    # libarchive-c's str() appends a pointer address; the bare msg may be None
    msg = getattr(exc, "msg", None) or "unreadable archive header"
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    return str(msg).strip().splitlines()[0] if str(msg).strip() else "archive error"


def _text(name: str | bytes | None) -> str:
    """libarchive-c hands back bytes when a name does not decode; keep them as data."""
    if isinstance(name, bytes):
        return name.decode("utf-8", "surrogateescape")
    return name or ""


class MemberStream:
    """Iterates the members of an archive stream; `.compression` is known after the first."""

    def __init__(self, stream: BinaryIO | io.RawIOBase, ctx: ReadContext,
                 format_name: str = "all") -> None:
        self._stream = stream
        self._ctx = ctx
        self._format = format_name
        self.compression: str | None = None
        self.format: str | None = None

    def __iter__(self) -> Iterator[Member]:
        with _reader(self._stream, self._format) as arc:
            it = iter(arc)
            while True:
                try:
                    ae = next(it)
                except StopIteration:
                    return
                except ArchiveError as exc:
                    raise ArtifactError(
                        f"is corrupt or truncated ({_archive_msg(exc)})"
                    ) from None
                if self.compression is None:
                    names = [_filter_name(n) for n in arc.filter_names]
                    self.compression = names[0] if names else "none"
                    self.format = arc.format_name
                self._ctx.budget.add_member()
                raw = _text(ae.pathname)
                path, unsafe = normalize_member(raw)
                etype = _entry_type(ae)
                link = _text(ae.linkpath) if etype in (EntryType.SYMLINK,
                                                        EntryType.HARDLINK) else None
                if etype is EntryType.HARDLINK and link:
                    link = normalize_member(link)[0]
                size = ae.size or 0
                if etype is EntryType.SYMLINK and link:
                    # tar stores 0; report what lstat (and cpio, and rpm) give: the target length
                    size = len(link.encode("utf-8", "surrogateescape"))
                entry = Entry(path, etype, (ae.mode or 0) & 0o7777, size, link or None)
                cap = self._ctx.limits.max_member_bytes
                if etype is EntryType.FILE and size > cap:
                    # refuse on the header's word: skipping the member would still
                    # decompress all of it (a bomb costs time even when nobody reads it)
                    raise LimitExceeded(
                        f"member {path} claims {size} bytes (max_member_bytes {cap}); "
                        "possible decompression bomb"
                    )
                # Skipping a member still decompresses it: its bytes count against
                # max_artifact_bytes whether or not a fact reads them, so a package of
                # many unread bomb members is stopped as surely as one that is read.
                charged = size if etype is EntryType.FILE else 0
                self._ctx.budget.add_bytes(charged)
                member = Member(ae, entry, raw, unsafe, self._ctx, charged)
                try:
                    yield member
                except GeneratorExit:
                    return


def decompress(stream: BinaryIO | io.RawIOBase, ctx: ReadContext, label: str,
               limit: int | None = None) -> Iterator[bytes]:
    """Decompress a raw stream (any compression libarchive knows, or none), block by block."""
    cap = limit if limit is not None else ctx.limits.max_member_bytes
    seen = 0
    with _reader(stream, "raw") as arc:
        try:
            for ae in arc:
                for block in ae.get_blocks(1 << 16):
                    seen += len(block)
                    if seen > cap:
                        raise LimitExceeded(
                            f"{label} decompresses to more than {cap} bytes "
                            "(max_member_bytes); possible decompression bomb"
                        )
                    ctx.budget.add_bytes(len(block))
                    yield block
                break
        except ArchiveError as exc:
            raise ArtifactError(f"{label} is corrupt or truncated ({_archive_msg(exc)})") from None


def hardlink_sets(entries: Mapping[str, Entry]) -> dict[str, tuple[str, ...]]:
    """Each path of a hard-link set -> every path of that set.

    Archives store a set's bytes once: tar with its first member, RPM's cpio with its last.
    A lazy read must serve any name of the set from whichever member carries the bytes.
    """
    groups: dict[str, list[str]] = {}
    for e in entries.values():
        if e.type is EntryType.HARDLINK and e.link_target:
            groups.setdefault(e.link_target, [e.link_target]).append(e.path)
    return {p: tuple(g) for g in groups.values() for p in g}


def take_wanted(member: Member, want: set[str], got: dict[str, bytes],
                sets: Mapping[str, tuple[str, ...]]) -> bool:
    """Keep `member`'s bytes for every wanted name they serve; True once all are served."""
    e = member.entry
    if e.type not in (EntryType.FILE, EntryType.HARDLINK):
        return False
    group = sets.get(e.path, (e.path,))
    names = [p for p in group if p in want and p not in got]
    # a size-0 member of a set is a placeholder: the bytes travel with another name
    if names and (e.size > 0 or len(group) == 1):
        data = member.read()
        for p in names:
            got[p] = data
    return want <= got.keys()


def keep_member(art: Artifact, m: Member, ctx: ReadContext) -> None:
    """During a first pass: capture the member if facts want it, open it if it nests.

    A nested candidate too large to hold becomes an error child: a kernel or ramdisk the
    rules cannot see must not pass silently.
    """
    e = m.entry
    candidate = is_nested_candidate(e.path)
    nested = candidate and e.size <= ctx.limits.max_held_bytes
    if candidate and not nested:
        art.children.append(Artifact(
            f"{art.path}!{e.path}", Kind.FILE,
            error=f"is {e.size} bytes, more than max_held_bytes "
                  f"({ctx.limits.max_held_bytes}); not opened"))
    keep = capture.wanted(e.path, e.size)
    if not (nested or keep):
        return
    data = m.read()
    if keep:
        art.capture(e.path, data)
    if nested:
        child = read_member(f"{art.path}!{e.path}", data, ctx)
        if child is not None:
            art.children.append(child)

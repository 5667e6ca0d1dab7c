"""Multi-block xz streams decoded on every core, served in order.

dpkg-deb writes data.tar.xz with a multi-threaded xz, which cuts the stream into
independent blocks and lists each block's compressed and uncompressed size in the stream's
index (at the end of the file). libarchive decodes such a file on one core. Here the
index is read first (with python-xz's parsers of the xz container), each block is wrapped
as a one-block xz stream of its own, and a thread pool decodes them with the stdlib's lzma,
which releases the GIL while it decodes. The caller reads the uncompressed bytes in order,
as it would read libarchive's output. Blocks are decoded ahead of the reader while what
is held ahead stays within a byte budget (the most one member may hold), and at least
`threads` blocks are always under way: the blocks of one file take unequal times (a block
of an already-compressed kernel image takes three times as long as the next), and a
window of a fixed few blocks leaves a core idle behind the slow one.

Anything this does not handle as expected (one block, a damaged index, a block larger than
the caller lets us hold) makes `parallel_xz` answer None, and the caller keeps the
sequential libarchive path, whose diagnoses the rest of the readers already give.
"""

from __future__ import annotations

import io
import lzma
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, BinaryIO

from xz.common import (
    XZError,
    create_xz_header,
    create_xz_index_footer,
    parse_xz_footer,
    parse_xz_header,
    parse_xz_index,
    round_up,
)

from xenlint.limits import ArtifactError

# what the reader is given: a file, or a window onto a member of one
Seekable = BinaryIO | io.RawIOBase

HEADER = 12  # stream header and stream footer are 12 bytes each
# Streams and their padding are walked from the end; a file claiming more than this many
# is not what dpkg or xz writes, and falls back to the sequential path.
MAX_STREAMS = 64
MAX_BLOCKS = 100_000
# blocks decoding or decoded ahead of the reader, per thread, whatever their size: Debian's
# are 24 MiB (three times xz -6's dictionary), so the byte budget binds first on them
AHEAD_PER_THREAD = 8


@dataclass(frozen=True, slots=True)
class Block:
    offset: int  # of the block header, from the start of the xz file
    unpadded: int  # block header + compressed data + check, as the index records it
    size: int  # uncompressed
    check: int  # the stream's check type, which the block's own check follows


def xz_blocks(f: Seekable, length: int) -> list[Block] | None:
    """The blocks of every stream in an xz file of `length` bytes, in file order, read
    from the streams' indexes; None when the file does not parse as xz that way. The
    file is left where it was, for a caller that falls back to reading it in order."""
    where = f.tell()
    try:
        return _blocks(f, length)
    except (XZError, ValueError, OSError):
        return None
    finally:
        f.seek(where)


def _blocks(f: Seekable, length: int) -> list[Block] | None:
    streams: list[list[Block]] = []
    end = length
    while end > 0:
        if len(streams) >= MAX_STREAMS:
            return None
        f.seek(end - 4)
        if f.read(4) == b"\0\0\0\0":  # stream padding, in multiples of four bytes
            end -= 4
            continue
        if end < 2 * HEADER:
            return None
        f.seek(end - HEADER)
        check, index_size = parse_xz_footer(f.read(HEADER))
        index_start = end - HEADER - index_size
        if index_start < HEADER:
            return None
        f.seek(index_start)
        records = parse_xz_index(f.read(index_size))
        if len(records) > MAX_BLOCKS:
            return None
        blocks_size = sum(round_up(unpadded) for unpadded, _ in records)
        start = index_start - blocks_size - HEADER
        if start < 0:
            return None
        f.seek(start)
        if parse_xz_header(f.read(HEADER)) != check:
            return None
        blocks: list[Block] = []
        offset = start + HEADER
        for unpadded, size in records:
            blocks.append(Block(offset, unpadded, size, check))
            offset += round_up(unpadded)
        streams.append(blocks)
        end = start
    return [b for stream in reversed(streams) for b in stream]


def _decode(block: Block, body: bytes, label: str) -> bytes:
    """One block, framed as a one-block xz stream of its own, decoded to exactly the
    size its index records. The frame goes in as three pieces: joining them would copy
    the block once more."""
    dec = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    footer = create_xz_index_footer(block.check, [(block.unpadded, block.size)])
    try:
        dec.decompress(create_xz_header(block.check), max_length=0)
        out = dec.decompress(body, max_length=block.size + 1)
        out += dec.decompress(footer, max_length=1)
    except lzma.LZMAError as exc:
        raise ArtifactError(f"is corrupt or truncated ({label}: {exc})") from None
    if len(out) != block.size or not dec.eof:
        raise ArtifactError(f"is corrupt or truncated ({label}: does not decode to the "
                            f"{block.size} bytes its index records)")
    return out


class ParallelXzReader(io.RawIOBase):
    """The uncompressed bytes of `blocks` of the xz file `f`, decoded `threads` at a time
    and read in order. Decoded blocks not yet read add up to at most `ahead_bytes`, or
    to `threads` blocks when those are larger, and number at most `AHEAD_PER_THREAD`
    per thread (an index may list 100,000 tiny blocks). The compressed bytes are read
    here, in the caller's thread, so `f` needs no locking."""

    def __init__(self, f: Seekable, blocks: list[Block], threads: int,
                 ahead_bytes: int) -> None:
        self._f = f
        self._todo = list(enumerate(blocks))
        self._todo.reverse()  # popped from the end, in file order
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="xz")
        self._ahead: deque[tuple[int, Future[bytes]]] = deque()  # (uncompressed size, decode)
        self._threads = threads
        self._most = AHEAD_PER_THREAD * threads
        self._ahead_bytes = ahead_bytes
        self._held = 0  # uncompressed bytes of the blocks in _ahead
        self._current = memoryview(b"")
        self._pos = 0
        # libarchive calls readinto through a C callback, which no exception crosses: a
        # block that fails to decode ends the stream here, and the caller raises this
        self.failure: ArtifactError | None = None
        self._fill()

    def _fill(self) -> None:
        while self._todo:
            i, block = self._todo[-1]
            if len(self._ahead) >= self._threads and (
                    self._held + block.size > self._ahead_bytes
                    or len(self._ahead) >= self._most):
                return
            self._todo.pop()
            self._f.seek(block.offset)
            body = self._f.read(round_up(block.unpadded))
            self._ahead.append(
                (block.size, self._pool.submit(_decode, block, body, f"xz block {i + 1}")))
            self._held += block.size

    @property
    def ahead(self) -> tuple[int, int]:
        """(blocks, uncompressed bytes) decoding or decoded and not yet read."""
        return len(self._ahead), self._held

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        while self._pos >= len(self._current):
            if not self._ahead or self.failure is not None:
                return 0
            size, decoding = self._ahead.popleft()
            self._held -= size
            try:
                self._current = memoryview(decoding.result())
            except ArtifactError as exc:
                self.failure = exc
                return 0
            self._pos = 0
            self._fill()
        n = min(len(buf), len(self._current) - self._pos)
        memoryview(buf).cast("B")[:n] = self._current[self._pos:self._pos + n]
        self._pos += n
        return n

    def close(self) -> None:
        for _size, decoding in self._ahead:
            decoding.cancel()
        self._ahead.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._current = memoryview(b"")
        super().close()


def usable_threads() -> int:
    """The cores this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def parallel_xz(f: Seekable, length: int, *, max_block: int) -> ParallelXzReader | None:
    """A reader of the uncompressed bytes of the xz file `f` (`length` bytes, seekable)
    that decodes its blocks on every usable core; None when that would not help (one core,
    one block), when a block is larger than `max_block` bytes (the most one may hold in
    memory), or when the file is not a multi-block xz this can read. On None the caller
    keeps its sequential path, which streams and enforces the limits as always; the bytes
    read here are counted by the caller like the sequential path's. `max_block` is also
    the budget of decoded bytes held ahead of the caller."""
    threads = min(usable_threads(), 8)
    if threads < 2:
        return None
    blocks = xz_blocks(f, length)
    if blocks is None or len(blocks) < 2 or max(b.size for b in blocks) > max_block:
        return None
    return ParallelXzReader(f, blocks, threads, ahead_bytes=max_block)

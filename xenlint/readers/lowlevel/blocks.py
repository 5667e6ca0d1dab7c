"""A sequential byte stream over blocks (a file or a decompressor), with cheap skipping.

Parsers that only need headers (cpio, kernel payloads) read a few bytes and skip the
rest; nothing here holds more than the current block plus what the caller asks for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

BLOCK = 1 << 16


def file_blocks(f: BinaryIO, start: int, length: int | None = None) -> Iterator[bytes]:
    """Blocks of `f` from `start`, for at most `length` bytes."""
    f.seek(start)
    left = length
    while left is None or left > 0:
        n = BLOCK if left is None else min(BLOCK, left)
        block = f.read(n)
        if not block:
            return
        if left is not None:
            left -= len(block)
        yield block


class ByteStream:
    """Reads and skips over an iterator of blocks; `pos` counts bytes consumed."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        self._it = blocks
        self._buf = b""
        self._off = 0
        self.pos = 0

    def _avail(self) -> int:
        return len(self._buf) - self._off

    def _more(self) -> bool:
        for block in self._it:
            if block:
                self._buf = self._buf[self._off:] + block
                self._off = 0
                return True
        return False

    def peek(self, n: int) -> bytes:
        while self._avail() < n and self._more():
            pass
        return self._buf[self._off:self._off + n]

    def read(self, n: int) -> bytes:
        """Up to `n` bytes; fewer only at the end of the stream."""
        out = self.peek(n)
        self._off += len(out)
        self.pos += len(out)
        return out

    def skip(self, n: int) -> int:
        """Drop `n` bytes without keeping them; returns how many could be skipped."""
        done = 0
        while done < n:
            if self._avail() == 0:
                self._buf, self._off = b"", 0
                if not self._more():
                    break
            step = min(n - done, self._avail())
            self._off += step
            done += step
        self.pos += done
        return done

    def skip_zeros(self, limit: int) -> int:
        """Skip NUL padding (at most `limit` bytes); returns how many were skipped."""
        done = 0
        while done < limit:
            if self._avail() == 0 and not self._more():
                break
            chunk = self._buf[self._off:self._off + (limit - done)]
            stripped = len(chunk) - len(chunk.lstrip(b"\0"))
            self._off += stripped
            done += stripped
            if stripped < len(chunk):
                break
        self.pos += done
        return done

    def at_end(self) -> bool:
        return self._avail() == 0 and not self._more()

    def close(self) -> None:
        close = getattr(self._it, "close", None)
        if close is not None:
            close()

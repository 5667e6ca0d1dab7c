"""A whole file under one compression (initrd.gz, vmlinux.xz, foo.ko.zst, config.gz).

The first 64 KiB of decompressed output say what is inside; the reader for that
format then streams the rest itself, so nothing large is ever held decompressed.
"""

from __future__ import annotations

from collections.abc import Callable

from xenlint.artifact import Artifact
from xenlint.limits import ArtifactError
from xenlint.readers import ReadContext, Source, reader
from xenlint.readers.lowlevel.archive import sniff_compression
from xenlint.readers.lowlevel.lzop import decompress

PEEK_BYTES = 1 << 16

# (name, test of the decompressed head, read function) registered by the format modules
Inner = tuple[str, Callable[[bytes], bool], Callable[[Source, ReadContext, str], Artifact]]
_INNER: list[Inner] = []


def inner_format(test: Callable[[bytes], bool], name: str) -> Callable[
        [Callable[[Source, ReadContext, str], Artifact]],
        Callable[[Source, ReadContext, str], Artifact]]:
    """Register what a compressed file may hold; `fn(source, ctx, compression)` reads it."""

    def register(fn: Callable[[Source, ReadContext, str], Artifact]
                 ) -> Callable[[Source, ReadContext, str], Artifact]:
        _INNER.append((name, test, fn))
        return fn

    return register


def peek(source: Source, ctx: ReadContext, n: int = PEEK_BYTES) -> bytes:
    """The first `n` decompressed bytes of a compressed source (fewer if it is shorter)."""
    out = bytearray()
    with source.open() as f:
        blocks = decompress(f, ctx, "compressed stream", limit=max(n, 1 << 24))
        for block in blocks:
            out += block
            if len(out) >= n:
                break
        close = getattr(blocks, "close", None)
        if close is not None:
            close()
    return bytes(out[:n])


def decompress_held(source: Source, ctx: ReadContext, label: str) -> bytes:
    """The whole decompressed content, for formats read in one piece (configs, modules),
    capped at max_held_bytes."""
    out = bytearray()
    with source.open() as f:
        for block in decompress(f, ctx, label, limit=ctx.limits.max_held_bytes):
            out += block
    return bytes(out)


def _inner(source: Source, ctx: ReadContext) -> Inner | None:
    head = peek(source, ctx)
    return next((i for i in _INNER if i[1](head)), None)


def _sniff(head: bytes, source: Source) -> bool:
    if sniff_compression(head) is None:
        return False
    from xenlint.limits import ArtifactError, LimitExceeded, Limits

    try:
        return _inner(source, ReadContext.top(Limits(), source.display)) is not None
    except LimitExceeded:
        return True  # the read reports it (e.g. compression nested too deep)
    except ArtifactError:
        # known magic, stream cut or corrupt: ours to report ("is not a format xenlint
        # reads" would hide that a truncated initrd.gz or vmlinux.xz is truncated)
        return True
    except Exception:
        return False


@reader("compressed", sniff=_sniff, priority=40)
def read_compressed(source: Source, ctx: ReadContext) -> Artifact:
    comp = sniff_compression(source.head(16)) or "none"
    found = _inner(source, ctx)
    if found is None:
        raise ArtifactError(f"is {comp}-compressed data of a format xenlint does not read")
    return found[2](source, ctx, comp)

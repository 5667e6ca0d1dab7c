"""Streaming helpers for repository indexes: decompress with libarchive, split lines/XML."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

from xenlint.limits import ArtifactError, Limits
from xenlint.readers import ReadContext
from xenlint.readers.lowlevel.archive import decompress, sniff_compression

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

_STDLIB: dict[str, Callable[[Path, str], IO[bytes]]] = {
    "gzip": gzip.open, "xz": lzma.open, "lzma": lzma.open, "bzip2": bz2.open}  # type: ignore[dict-item]

# Index files are bigger than any member we hold: a full Debian Packages file is ~60 MiB.
INDEX_LIMIT = 2 * 1024 * 1024 * 1024


def blocks(path: Path, limits: Limits) -> Iterator[bytes]:
    """The decompressed bytes of an index file (gz, xz, zst, bz2 or plain)."""
    ctx = ReadContext.top(limits.with_overrides(max_artifact_bytes=INDEX_LIMIT), str(path))
    if path.stat().st_size == 0:
        return
    try:
        with path.open("rb") as f:
            yield from decompress(f, ctx, str(path), limit=INDEX_LIMIT)
    except ArtifactError:
        # libarchive's raw reader refuses a compressed *empty* index (an empty Contents
        # file is common); the stdlib tells that case apart from real corruption
        with path.open("rb") as f:
            opener = _STDLIB.get(sniff_compression(f.read(8)) or "")
        if opener is None:
            raise
        try:
            with opener(path, "rb") as z:
                empty = z.read(1) == b""
        except (OSError, EOFError, lzma.LZMAError, zlib.error):
            empty = False
        if not empty:
            raise


def lines(path: Path, limits: Limits) -> Iterator[bytes]:
    for chunk in line_blocks(path, limits):
        for part in chunk.split(b"\n"):
            yield part + b"\n"


def line_blocks(path: Path, limits: Limits) -> Iterator[bytes]:
    """The decompressed bytes of an index file in runs of whole lines, each without its
    last newline: for a caller that splits millions of lines itself."""
    tail = b""
    for block in blocks(path, limits):
        data = tail + block
        cut = data.rfind(b"\n")
        if cut < 0:
            tail = data
            continue
        tail = data[cut + 1:]
        yield data[:cut]
    if tail:
        yield tail


def xml_elements(path: Path, limits: Limits, tag: str) -> Iterator[ET.Element]:
    """Each complete `tag` element (namespace-free local name) of an XML index, streaming;
    elements are cleared after use so memory stays flat on a large primary.xml."""
    # imported here: only RPM repositories have XML indexes
    import xml.etree.ElementTree as ET

    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("end",))

    def ended() -> Iterator[ET.Element]:
        for event in parser.read_events():
            el = cast(tuple[str, object], event)[1]  # typeshed types events too loosely
            if isinstance(el, ET.Element) and local(el.tag) == tag:
                yield el
                el.clear()

    for block in blocks(path, limits):
        parser.feed(block)
        yield from ended()
    parser.close()
    yield from ended()


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]

"""Streaming helpers for repository indexes: decompress with libarchive, split lines/XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import cast

from xenlint.limits import Limits
from xenlint.readers import ReadContext
from xenlint.readers.archive import decompress

# Index files are bigger than any member we hold: a full Debian Packages file is ~60 MiB.
INDEX_LIMIT = 2 * 1024 * 1024 * 1024


def blocks(path: Path, limits: Limits) -> Iterator[bytes]:
    """The decompressed bytes of an index file (gz, xz, zst, bz2 or plain)."""
    ctx = ReadContext.top(limits.with_overrides(max_artifact_bytes=INDEX_LIMIT), str(path))
    with path.open("rb") as f:
        yield from decompress(f, ctx, str(path), limit=INDEX_LIMIT)


def lines(path: Path, limits: Limits) -> Iterator[bytes]:
    tail = b""
    for block in blocks(path, limits):
        parts = (tail + block).split(b"\n")
        tail = parts.pop()
        for part in parts:
            yield part + b"\n"
    if tail:
        yield tail


def xml_elements(path: Path, limits: Limits, tag: str) -> Iterator[ET.Element]:
    """Each complete `tag` element (namespace-free local name) of an XML index, streaming;
    elements are cleared after use so memory stays flat on a large primary.xml."""
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("end",))
    for block in blocks(path, limits):
        parser.feed(block)
        yield from _ended(parser, tag)
    parser.close()
    yield from _ended(parser, tag)


def _ended(parser: ET.XMLPullParser[ET.Element], tag: str) -> Iterator[ET.Element]:
    for event in parser.read_events():
        el = cast(tuple[str, object], event)[1]  # typeshed types events too loosely
        if isinstance(el, ET.Element) and local(el.tag) == tag:
            yield el
            el.clear()


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]

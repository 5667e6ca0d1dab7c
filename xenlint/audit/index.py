"""Streaming helpers for repository indexes: decompress with libarchive, split lines/XML,
each under the index limits (Limits.max_index_*): a hostile index is refused with a
one-line diagnosis naming the file, not held in memory or parsed for minutes."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from xenlint.audit.timer import ArtifactTimeout, time_limit
from xenlint.limits import ArtifactError, LimitExceeded, Limits
from xenlint.readers import ReadContext
from xenlint.readers.lowlevel.archive import decompress, sniff_compression

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

_STDLIB: dict[str, Callable[[Path, str], IO[bytes]]] = {
    "gzip": gzip.open, "xz": lzma.open, "lzma": lzma.open, "bzip2": bz2.open}  # type: ignore[dict-item]

T = TypeVar("T")


class IndexWarning(str):
    """What an index parse says of an index it could read all the same (text that is not
    UTF-8): carried beside its errors, but shown as a warning, failing nothing."""


class IndexTimeout(ArtifactTimeout):
    """The time limit ran out while `path` was parsed: raised where the index is known,
    turned into an ArtifactError naming it by `timed`."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(str(path))
        self.path = str(path)


def timed(seconds: float, label: str, fn: Callable[[], T]) -> T:
    """fn() under the per-item `--timeout`, as a package's read is: an index parse past
    it is a read error naming the index being parsed (or `label`, the files of the
    parse, when the limit fired between two of them)."""
    try:
        with time_limit(seconds) as timer:
            out = fn()
        if not timer.fired:
            return out
        where = label
    except IndexTimeout as exc:
        where = exc.path
    except ArtifactTimeout:
        where = label
    raise ArtifactError(f"{where}: took longer than {seconds:g} s to parse (--timeout)")


def named_timeout(path: Path | str) -> Callable[[ArtifactTimeout], IndexTimeout]:
    """What a loop over one index raises when the timer fires in it: the timeout, naming
    the index (unless an inner loop named one already)."""
    def name(exc: ArtifactTimeout) -> IndexTimeout:
        return exc if isinstance(exc, IndexTimeout) else IndexTimeout(path)
    return name


def blocks(path: Path, limits: Limits) -> Iterator[bytes]:
    """The decompressed bytes of an index file (gz, xz, zst, bz2 or plain), at most
    max_index_bytes of them."""
    cap = limits.max_index_bytes
    # the reader's own caps sit above ours, so that the index's is the one reported
    above = cap + (1 << 20)
    ctx = ReadContext.top(limits.with_overrides(max_artifact_bytes=above), str(path))
    if path.stat().st_size == 0:
        return
    seen = 0
    try:
        with path.open("rb") as f:
            for block in decompress(f, ctx, str(path), limit=above):
                seen += len(block)
                if seen > cap:
                    raise LimitExceeded(f"{path}: decompresses to more than {cap} bytes "
                                        "(max_index_bytes); possible decompression bomb")
                yield block
    except LimitExceeded:
        raise
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


def line_too_long(path: Path | str, cap: int, line: int) -> LimitExceeded:
    return LimitExceeded(f"{path}: a line longer than {cap} bytes (max_index_line_bytes) "
                         f"at line {line}; not read")


def lines(path: Path, limits: Limits) -> Iterator[bytes]:
    for chunk in line_blocks(path, limits):
        for part in chunk.split(b"\n"):
            yield part + b"\n"


def line_blocks(path: Path, limits: Limits) -> Iterator[bytes]:
    """The decompressed bytes of an index file in runs of whole lines, each without its
    last newline: for a caller that splits millions of lines itself. No line is longer
    than max_index_line_bytes."""
    cap = limits.max_index_line_bytes
    held: list[bytes] = []  # the start of a line that no block has ended yet
    held_len = 0
    before = 0  # lines yielded so far
    for block in blocks(path, limits):
        cut = block.rfind(b"\n")
        if cut < 0:
            held.append(block)
            held_len += len(block)
            if held_len > cap:
                raise line_too_long(path, cap, before + 1)
            continue
        data = b"".join([*held, block[:cut]]) if held else block[:cut]
        rest = block[cut + 1:]
        held, held_len = ([rest], len(rest)) if rest else ([], 0)
        if len(data) > cap:  # only then can a line in it be too long
            _check_lines(data, cap, path, before)
        before += data.count(b"\n") + 1
        yield data
    if held:
        data = b"".join(held)
        if len(data) > cap:
            raise line_too_long(path, cap, before + 1)
        yield data


def _check_lines(data: bytes, cap: int, path: Path, before: int) -> None:
    for n, line in enumerate(data.split(b"\n"), before + 1):
        if len(line) > cap:
            raise line_too_long(path, cap, n)


class _XmlStream:
    """expat handlers that build each `tag` element (an ElementTree, through the C
    TreeBuilder) and count what limits bound: nesting, elements, entries and the
    elements and bytes of one entry. Entity declarations are refused outright:
    repodata never has any, and they are what billion-laughs expansion is made of."""

    def __init__(self, path: Path, limits: Limits, tag: str) -> None:
        self.path, self.limits, self.tag = path, limits, tag
        self.depth = 0
        self.elements = 0
        self.entries = 0
        self.builder: ET.TreeBuilder | None = None
        self.entry_depth = 0
        self.entry_elements = 0
        self.entry_bytes = 0
        self.done: list[ET.Element] = []

    def refuse(self, what: str) -> ArtifactError:
        return LimitExceeded(f"{self.path}: {what}")

    def start(self, name: str, attrs: dict[str, str]) -> None:
        import xml.etree.ElementTree as ET

        self.depth += 1
        self.elements += 1
        lim = self.limits
        if self.depth > lim.max_index_xml_depth:
            raise self.refuse(f"XML nested deeper than {lim.max_index_xml_depth} elements "
                              "(max_index_xml_depth); not read")
        if self.elements > lim.max_index_xml_elements:
            raise self.refuse(f"more than {lim.max_index_xml_elements} XML elements "
                              "(max_index_xml_elements); not read")
        if self.builder is None:
            if local(name) != self.tag:
                return
            self.entries += 1
            if self.entries > lim.max_index_paragraphs:
                raise self.refuse(f"more than {lim.max_index_paragraphs} <{self.tag}> "
                                  "entries (max_index_paragraphs); not read")
            self.builder = ET.TreeBuilder()
            self.entry_depth, self.entry_elements, self.entry_bytes = self.depth, 0, 0
        self.entry_elements += 1
        if self.entry_elements > lim.max_members:
            raise self.refuse(f"a <{self.tag}> entry of more than {lim.max_members} "
                              f"elements (max_members) at entry {self.entries}; not read")
        self._grow(len(name) + sum(len(k) + len(v) for k, v in attrs.items()))
        self.builder.start(_qname(name), {_qname(k): v for k, v in attrs.items()})

    def end(self, name: str) -> None:
        self.depth -= 1
        if self.builder is None:
            return
        el = self.builder.end(_qname(name))
        if self.depth < self.entry_depth:
            self.done.append(el)
            self.builder = None

    def text(self, data: str) -> None:
        if self.builder is not None:
            self._grow(len(data))
            self.builder.data(data)

    def _grow(self, n: int) -> None:
        self.entry_bytes += n
        cap = 2 * self.limits.max_index_field_bytes  # as a Debian paragraph
        if self.entry_bytes > cap:
            raise self.refuse(f"a <{self.tag}> entry longer than {cap} bytes (twice "
                              f"max_index_field_bytes) at entry {self.entries}; not read")

    def entity(self, *_args: Any) -> None:
        raise self.refuse("declares an XML entity; entity expansion is refused")

    def external(self, *_args: Any) -> int:
        raise self.refuse("refers to an external XML entity; refused")


def _qname(name: str) -> str:
    """expat's `uri}local` (namespace_separator "}") as ElementTree's `{uri}local`."""
    return "{" + name if "}" in name else name


def xml_elements(path: Path, limits: Limits, tag: str) -> Iterator[ET.Element]:
    """Each complete `tag` element (namespace-free local name) of an XML index, streaming.
    The stdlib's expat parser is driven directly (no new dependency: defusedxml wraps the
    same parser), so that its handlers can count depth, elements and bytes as they come
    and refuse entity declarations before any expansion."""
    # imported here: only RPM repositories have XML indexes
    from xml.parsers import expat

    stream = _XmlStream(path, limits, tag)
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.StartElementHandler = stream.start
    parser.EndElementHandler = stream.end
    parser.CharacterDataHandler = stream.text
    parser.EntityDeclHandler = stream.entity
    parser.UnparsedEntityDeclHandler = stream.entity
    parser.ExternalEntityRefHandler = stream.external
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    cap = limits.max_index_field_bytes
    # expat holds an unfinished token (a tag, an attribute, a run of text) whole, in C:
    # more than `cap` bytes with no `>` would be more than any entry may hold anyway
    since_gt = 0
    try:
        for block in blocks(path, limits):
            gt = block.rfind(b">")
            since_gt = since_gt + len(block) if gt < 0 else len(block) - gt - 1
            if since_gt > cap:
                raise stream.refuse(f"more than {cap} bytes without a `>` (one XML tag or "
                                    "text longer than max_index_field_bytes); not read")
            parser.Parse(block, False)
            yield from stream.done
            stream.done.clear()
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise ArtifactError(f"{path}: is not well-formed XML ({exc})") from None
    yield from stream.done
    stream.done.clear()


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]

"""Property tests for our cpio parser: what a newc/odc writer puts in comes back out, and
mangled archives fail with ArtifactError only."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from xenlint.limits import ArtifactError, Limits
from xenlint.readers import ReadContext
from xenlint.readers.lowlevel.blocks import ByteStream, file_blocks
from xenlint.readers.lowlevel.cpio import iter_archive

NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-/", min_size=1, max_size=40)
MEMBERS = st.lists(st.tuples(NAMES, st.binary(max_size=300), st.sampled_from([0o100644,
                   0o100755, 0o040755, 0o120777])), max_size=12)


def _newc(members: list[tuple[str, bytes, int]], magic: bytes = b"070701") -> bytes:
    out = bytearray()
    for ino, (name, data, mode) in enumerate([*members, ("TRAILER!!!", b"", 0)]):
        raw = name.encode() + b"\0"
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(raw), 0]
        out += magic + b"".join(b"%08X" % f for f in fields) + raw
        out += b"\0" * (-len(out) % 4) + data
        out += b"\0" * (-len(out) % 4)
    return bytes(out)


def _odc(members: list[tuple[str, bytes, int]]) -> bytes:
    out = bytearray()
    for ino, (name, data, mode) in enumerate([*members, ("TRAILER!!!", b"", 0)]):
        raw = name.encode() + b"\0"
        out += (b"070707" + b"%06o" % 0 + b"%06o" % ino + b"%06o" % mode + b"%06o" % 0 * 2
                + b"%06o" % 1 + b"%06o" % 0 + b"%011o" % 0 + b"%06o" % len(raw)
                + b"%011o" % len(data) + raw + data)
    return bytes(out)


def _parse(data: bytes) -> list[tuple[str, bytes, int]]:
    ctx = ReadContext.top(Limits(), "t")
    stream = ByteStream(file_blocks(io.BytesIO(data), 0))
    got = []
    for m in iter_archive(stream, ctx):
        got.append((m.header.name, m.read(), m.header.mode))
    return got


@given(MEMBERS, st.sampled_from(["newc", "crc", "odc"]))
@settings(max_examples=150, deadline=None)
def test_roundtrip(members: list[tuple[str, bytes, int]], fmt: str) -> None:
    data = _odc(members) if fmt == "odc" else _newc(members, b"070702" if fmt == "crc"
                                                      else b"070701")
    assert _parse(data) == members


@given(MEMBERS, st.data())
@settings(max_examples=200, deadline=None)
def test_mangled_archives_fail_cleanly(members: list[tuple[str, bytes, int]],
                                       data: st.DataObject) -> None:
    raw = bytearray(_newc(members))
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    try:
        _parse(bytes(raw[:cut]))
    except ArtifactError as exc:
        assert "\n" not in str(exc)

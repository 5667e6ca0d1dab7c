"""Property-based tests for every parser of our own: arbitrary bytes never raise anything
but the one-line errors (ArtifactError / LimitExceeded, or a parse error for the
languages), and round trips hold where the format has one.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import struct

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from xenlint.artifact import Entry, EntryType
from xenlint.limits import (
    ArtifactError,
    Budget,
    LimitExceeded,
    Limits,
    member_problem,
    normalize_member,
    resolve_link,
)
from xenlint.readers import ReadContext, Source, read_member, readers
from xenlint.readers.deb import AR_MAGIC, ar_members

SMALL = Limits(max_member_bytes=1 << 16, max_artifact_bytes=1 << 18, max_members=200,
               max_held_bytes=1 << 15, max_depth=4, max_header_entries=256,
               max_header_bytes=1 << 14)
FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def ctx() -> ReadContext:
    return ReadContext.top(SMALL, "prop")


def reader(name: str):  # type: ignore[no-untyped-def]
    return next(r for r in readers() if r.name == name)


def read_or_error(name: str, data: bytes) -> None:
    """A reader on arbitrary bytes (that its sniff accepts) may only fail with one line."""
    spec = reader(name)
    src = Source("prop", data=data)
    if not spec.sniff(src.head(), src):
        return
    try:
        art = spec.read(src, ctx())
        art.read_many(art.files[:20])
    except ArtifactError:
        pass


# --- member names ----------------------------------------------------------------------

names = st.lists(st.sampled_from(["a", "b", ".", "..", "", "etc", "x y", "\udcff", "é"]),
                 max_size=8).map("/".join)


@given(st.one_of(names, st.text(max_size=60)))
def test_normalize_member_is_clamped_and_idempotent(name: str) -> None:
    path, unsafe = normalize_member(name)
    assert path.startswith("/")
    parts = path.split("/")[1:]
    assert path == "/" or all(p not in ("", ".", "..") for p in parts)
    again, _ = normalize_member(path)
    assert again == path
    stripped = name[2:] if name.startswith("./") else name
    climbs = ".." in stripped.split("/")
    assert unsafe == (stripped.startswith("/") or climbs)
    if not unsafe:
        # a safe name means what posixpath says it means, rooted at /
        assert path == posixpath.normpath("/" + stripped) or (path == "/" and not parts[0])


@given(names, names)
def test_resolve_link_stays_inside(member: str, target: str) -> None:
    out = resolve_link(normalize_member(member)[0], target)
    assert out.startswith("/") and ".." not in out.split("/")


# --- links -----------------------------------------------------------------------------

entry_st = st.builds(
    lambda p, t, link: Entry(normalize_member(p)[0], t, 0o644, 0, link),
    names, st.sampled_from([EntryType.FILE, EntryType.SYMLINK, EntryType.HARDLINK,
                            EntryType.DIRECTORY]), st.one_of(st.none(), names))


@given(st.lists(entry_st, max_size=30), st.lists(names, max_size=3))
def test_member_problem_never_raises(entries: list[Entry], unsafe: list[str]) -> None:
    got = member_problem(unsafe, {e.path: e for e in entries})
    assert got is None or ("\n" not in got and got.startswith("has "))
    if unsafe:
        assert got is not None and "outside the package root" in got


@given(st.integers(min_value=1, max_value=60))
def test_symlink_cycles_of_any_length_are_found(n: int) -> None:
    ring = {f"/l{i}": Entry(f"/l{i}", EntryType.SYMLINK, 0o777, 0, f"l{(i + 1) % n}")
            for i in range(n)}
    got = member_problem([], ring)
    assert got is not None and "loops back" in got


@given(st.integers(min_value=1, max_value=30))
def test_symlink_chains_that_end_are_fine(n: int) -> None:
    chain = {f"/l{i}": Entry(f"/l{i}", EntryType.SYMLINK, 0o777, 0, f"l{i + 1}")
             for i in range(n)}
    chain[f"/l{n}"] = Entry(f"/l{n}", EntryType.FILE, 0o644, 1, None)
    assert member_problem([], chain) is None


# --- ar (deb.py) -----------------------------------------------------------------------

def ar_bytes(members: list[tuple[str, bytes]]) -> bytes:
    out = bytearray(AR_MAGIC)
    for name, data in members:
        out += f"{name:<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(data):<10}`\n".encode()
        out += data + (b"\n" if len(data) % 2 else b"")
    return bytes(out)


ar_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1,
                   max_size=15)


@given(st.lists(st.tuples(ar_names, st.binary(max_size=64)), max_size=6))
def test_ar_round_trip(members: list[tuple[str, bytes]]) -> None:
    blob = ar_bytes(members)
    f = io.BytesIO(blob)
    got = [(name, blob[start:start + n]) for name, start, n in ar_members(f, len(blob))]
    assert got == members


@FAST
@given(st.binary(max_size=400))
def test_ar_arbitrary_bytes(data: bytes) -> None:
    blob = AR_MAGIC + data
    try:
        for _name, start, n in ar_members(io.BytesIO(blob), len(blob)):
            assert start >= 0 and start + n <= len(blob)
    except ArtifactError:
        pass


@FAST
@given(st.lists(st.tuples(ar_names, st.binary(max_size=40)), min_size=1, max_size=4),
       st.data())
def test_ar_mutated_sizes(members: list[tuple[str, bytes]], data: st.DataObject) -> None:
    blob = bytearray(ar_bytes(members))
    field = 8 + 48  # the first member's size field
    blob[field:field + 10] = data.draw(st.binary(min_size=10, max_size=10))
    try:
        for _name, start, n in ar_members(io.BytesIO(bytes(blob)), len(blob)):
            assert start + n <= len(blob)
    except ArtifactError:
        pass


@FAST
@given(st.binary(max_size=600))
def test_deb_reader_arbitrary_payload(data: bytes) -> None:
    read_or_error("deb", ar_bytes([("debian-binary", b"2.0\n"), ("control.tar.gz", data),
                                   ("data.tar.xz", data[::-1])]))


# --- RPM header checks (rpm.py) -----------------------------------------------------------

def rpm_intro(nindex: int, hsize: int) -> bytes:
    return b"\x8e\xad\xe8\x01" + bytes(4) + struct.pack("!ii", nindex, hsize)


@FAST
@given(st.integers(-(2**31), 2**31 - 1), st.integers(-(2**31), 2**31 - 1),
       st.binary(max_size=300))
def test_rpm_header_counts(nindex: int, hsize: int, tail: bytes) -> None:
    data = b"\xed\xab\xee\xdb" + bytes(92) + rpm_intro(nindex, hsize) + tail
    read_or_error("rpm", data)


@FAST
@given(st.binary(max_size=800))
def test_rpm_arbitrary_bytes(data: bytes) -> None:
    read_or_error("rpm", b"\xed\xab\xee\xdb" + data)


@FAST
@given(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 8), st.integers(0, 400),
                          st.integers(0, 8)), max_size=12), st.binary(min_size=0, max_size=400))
def test_rpm_index_entries(entries: list[tuple[int, int, int, int]], store: bytes) -> None:
    """A well-sized header whose index entries (tag, type, offset, count) are nonsense."""
    index = b"".join(struct.pack("!IIiI", t, ty, off, n) for t, ty, off, n in entries)
    sig = rpm_intro(0, 0)
    main = rpm_intro(len(entries), len(store)) + index + store
    read_or_error("rpm", b"\xed\xab\xee\xdb" + bytes(92) + sig + main + b"\x1f\x8b")


# --- cpio (cpio.py, initramfs) -------------------------------------------------------------

def newc(name: bytes, data: bytes, *, fields: dict[int, bytes] | None = None) -> bytes:
    vals = [f"{v:08x}".encode() for v in (1, 0o100644, 0, 0, 1, 0, len(data), 0, 0, 0, 0,
                                          len(name) + 1, 0)]
    for i, raw in (fields or {}).items():
        vals[i] = raw
    head = b"070701" + b"".join(vals) + name + b"\0"
    head += b"\0" * ((4 - len(head) % 4) % 4)
    return head + data + b"\0" * ((4 - len(data) % 4) % 4)


TRAILER = newc(b"TRAILER!!!", b"")
cpio_names = st.text(alphabet="abcdefghij/._-", min_size=1, max_size=30).map(str.encode)


def cpio_members(blob: bytes) -> list[tuple[str, bytes]]:
    from xenlint.readers.lowlevel.blocks import ByteStream
    from xenlint.readers.lowlevel.cpio import iter_archive

    return [(m.header.name, m.read()) for m in
            iter_archive(ByteStream(iter([blob])), ctx())]


@given(st.lists(st.tuples(cpio_names, st.binary(max_size=50)), max_size=6))
def test_cpio_round_trip(members: list[tuple[bytes, bytes]]) -> None:
    assume(all(n != b"TRAILER!!!" for n, _ in members))
    blob = b"".join(newc(n, d) for n, d in members) + TRAILER
    assert cpio_members(blob) == [(n.decode(), d) for n, d in members]


@FAST
@given(st.binary(max_size=400))
def test_cpio_arbitrary_bytes(data: bytes) -> None:
    with contextlib.suppress(ArtifactError):
        cpio_members(b"070701" + data)


@FAST
@given(st.integers(0, 12), st.binary(min_size=8, max_size=8), cpio_names,
       st.binary(max_size=40))
# found by fuzz_initramfs: int() accepted a sign, so mode "-0000001" crashed S_IFMT
@example(1, b"-0000001", b"init", b"")
@example(6, b"-0000001", b"init", b"")
@example(6, b"0x000010", b"init", b"x")
def test_cpio_lying_header_field(i: int, raw: bytes, name: bytes, data: bytes) -> None:
    """Any one header field replaced by any 8 bytes: a member list or a one-line error."""
    blob = newc(name, data, fields={i: raw}) + TRAILER
    try:
        for got_name, got in cpio_members(blob):
            assert len(got) <= SMALL.max_held_bytes
            assert isinstance(got_name, str)
        from xenlint.readers.lowlevel.blocks import ByteStream
        from xenlint.readers.lowlevel.cpio import iter_archive

        for m in iter_archive(ByteStream(iter([blob])), ctx()):
            assert m.header.mode >= 0 and m.header.size >= 0
            assert m.header.type in EntryType
    except ArtifactError:
        pass


@FAST
@given(st.binary(max_size=600))
def test_initramfs_reader_arbitrary(data: bytes) -> None:
    read_or_error("initramfs", b"070701" + data)


# --- bzImage header (kernel.py) ------------------------------------------------------------

@FAST
@given(st.binary(min_size=0x260, max_size=0x1200), st.data())
def test_bzimage_header_fields(data: bytes, draw: st.DataObject) -> None:
    img = bytearray(data)
    img[0x202:0x206] = b"HdrS"
    for off, size in ((0x1F1, 1), (0x206, 2), (0x20E, 2), (0x248, 4), (0x24C, 4)):
        img[off:off + size] = draw.draw(st.integers(0, 256 ** size - 1)).to_bytes(size, "little")
    read_or_error("bzimage", bytes(img))


@FAST
@given(st.integers(0x206, 0x300))
def test_bzimage_truncated_anywhere(n: int) -> None:
    img = bytearray(0x1000)
    img[0x202:0x206] = b"HdrS"
    img[0x206:0x208] = (0x020F).to_bytes(2, "little")
    read_or_error("bzimage", bytes(img[:n]))


# --- ELF kernels and modules (kernel.py, module.py) ------------------------------------------

def elf(data: bytes, e_type: int) -> bytes:
    blob = bytearray(b"\x7fELF\x02\x01\x01" + bytes(9) + data)
    blob[16:18] = e_type.to_bytes(2, "little")
    blob[18:20] = (62).to_bytes(2, "little")
    return bytes(blob)


@FAST
@given(st.binary(min_size=64, max_size=700))
# found by this test: a program-header offset of 2**63 made the vmlinux sniff raise
# OverflowError from struct.unpack_from (read_source now contains it; the sniff should not)
@example(bytes(23) + b"\x80" + bytes(17) + b"\x01" + bytes(22))
def test_vmlinux_reader_arbitrary(data: bytes) -> None:
    read_or_error("vmlinux", elf(data, 2))


@FAST
@given(st.binary(min_size=64, max_size=700))
def test_module_reader_arbitrary(data: bytes) -> None:
    read_or_error("kernel-module", elf(data, 1))


# --- kernel config (kconfig.py) ------------------------------------------------------------

config_lines = st.one_of(
    st.builds(lambda k, v: f"CONFIG_{k}={v}", st.from_regex(r"[A-Z0-9_]{1,12}", fullmatch=True),
              st.sampled_from(["y", "m", "n", '"a string"', "0x10", "42"])),
    st.builds(lambda k: f"# CONFIG_{k} is not set",
              st.from_regex(r"[A-Z0-9_]{1,12}", fullmatch=True)),
    st.text(max_size=40).filter(lambda s: "\n" not in s and "\r" not in s),
)


@given(st.lists(config_lines, max_size=30))
def test_kconfig_parse_matches_the_lines(lines: list[str]) -> None:
    from xenlint.readers.kconfig import parse_config

    got = parse_config("\n".join(lines))
    for key, value in got.items():
        assert key.startswith("CONFIG_") and "\n" not in value
    for line in lines:
        if line.startswith("# CONFIG_") and line.endswith(" is not set"):
            key = line[2:-len(" is not set")]
            last = [ln for ln in lines if ln.startswith(key + "=") or ln == line][-1]
            if last == line:
                assert got.get(key) == "n"


@FAST
@given(st.binary(max_size=800))
def test_kconfig_reader_arbitrary(data: bytes) -> None:
    read_or_error("kconfig", b"CONFIG_XEN=y\n" + data)


# --- the rule condition language (condition.py) -------------------------------------------

COND_TOKENS = [*"ab._ ()[]'\"=!<>&|,019", "and", "or", "not", "in", "true", "false",
               "kernel.config", "package.name", "~", "==", "!=", "\n", "\\", "\udcff"]


@FAST
@given(st.lists(st.sampled_from(COND_TOKENS), max_size=25).map("".join))
def test_condition_parse_raises_only_its_own_error(text: str) -> None:
    from xenlint.lang.condition import ConditionError, parse

    try:
        parse(text)
    except ConditionError as exc:
        assert str(exc).strip() and "Traceback" not in str(exc)


# --- udev rules grammar (facts/udev.py) ---------------------------------------------------

UDEV_TOKENS = [*'ACTIONKERUN=+!,"*?\\ \n#{}[]:', "==", "+=", ":=", 'RUN+="/bin/x"',
               "\\\n", 'KERNEL=="xvd*"', ", ", "\t", "\udcff"]


@FAST
@given(st.lists(st.sampled_from(UDEV_TOKENS), max_size=30).map("".join))
def test_udev_parse_raises_only_value_error(text: str) -> None:
    from xenlint.facts.udev import parse

    try:
        rules = parse(text)
    except ValueError as exc:
        assert str(exc).startswith("line ")
    else:
        assert isinstance(rules, list)


# --- nesting depth --------------------------------------------------------------------------

def test_nesting_is_capped_at_max_depth(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader that opens its content as a nested member, 10 levels deep: the child at
    max_depth + 1 is an error artifact, not a recursion."""
    import xenlint.readers as registry
    from xenlint.artifact import Artifact, Kind

    def sniff(head: bytes, source: Source) -> bool:
        return head.startswith(b"DOLL")

    def read(source: Source, c: ReadContext) -> Artifact:
        assert source.data is not None
        art = Artifact(source.display, Kind.FILE)
        child = read_member(source.display + "!/inner", source.data[4:], c)
        if child is not None:
            art.children.append(child)
        return art

    monkeypatch.setattr(registry, "_READERS",
                        [registry.ReaderSpec("doll", sniff, read, 0), *registry._READERS])
    art = registry.read_source(Source("doll", data=b"DOLL" * 10 + b"x"),
                               ReadContext.top(Limits(), "doll"))
    assert art is not None
    depth, node = 0, art
    while node.children:
        node, depth = node.children[0], depth + 1
    assert depth == Limits().max_depth + 1
    assert node.error == f"nests deeper than {Limits().max_depth} levels (max_depth)"


def test_budget_counts_members() -> None:
    b = Budget(Limits(max_members=3), "x")
    for _ in range(3):
        b.add_member()
    with pytest.raises(LimitExceeded):
        b.add_member()


"""Debian binary packages: the ar container, control.tar and data.tar in any dpkg compression."""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Collection, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import replace
from typing import BinaryIO

from debian.deb822 import Deb822

from xenlint.artifact import Artifact, EntryType, Kind, Package
from xenlint.limits import ArtifactError
from xenlint.readers import ReadContext, Source, reader
from xenlint.readers.lowlevel.archive import (
    MemberStream,
    SliceReader,
    hardlink_sets,
    keep_member,
    take_wanted,
)
from xenlint.readers.lowlevel.xzblocks import parallel_xz

AR_MAGIC = b"!<arch>\n"
_AR_HEADER = struct.Struct("16s12s6s6s8s10s2s")
CONTROL_SCRIPTS = ("preinst", "postinst", "prerm", "postrm", "config", "triggers")
# what dpkg-deb accepts after control.tar / data.tar
DPKG_SUFFIXES = ("", ".gz", ".xz", ".zst", ".bz2", ".lzma")
RELATION_FIELDS = {
    "Depends": "depends", "Pre-Depends": "pre_depends", "Recommends": "recommends",
    "Suggests": "suggests", "Provides": "provides", "Conflicts": "conflicts", "Breaks": "breaks",
}


def _sniff(head: bytes, source: Source) -> bool:
    return head.startswith(AR_MAGIC) and b"debian-binary" in head[8:80]


def ar_members(f: BinaryIO, size: int) -> Iterator[tuple[str, int, int]]:
    """(name, offset, length) for each member of an ar archive, checked against the file size."""
    f.seek(0)
    if f.read(8) != AR_MAGIC:
        raise ArtifactError("is not an ar archive")
    pos = 8
    while pos < size:
        f.seek(pos)
        raw = f.read(_AR_HEADER.size)
        if len(raw) == 0:
            return
        if len(raw) < _AR_HEADER.size:
            raise ArtifactError("is truncated inside an ar member header")
        name, _mt, _uid, _gid, _mode, length, fmag = _AR_HEADER.unpack(raw)
        if fmag != b"`\n":
            raise ArtifactError(f"has a corrupt ar member header at offset {pos}")
        try:
            n = int(length.strip() or b"-1")
        except ValueError:
            raise ArtifactError(f"has a corrupt ar member size at offset {pos}") from None
        start = pos + _AR_HEADER.size
        member = name.decode("latin-1").strip().rstrip("/")
        if n < 0 or start + n > size:
            raise ArtifactError(f"is truncated: ar member {member!r} runs past the end")
        yield member, start, n
        pos = start + n + (n & 1)


def relations(value: str) -> list[str]:
    """A relation field split into its comma-separated items, whitespace folded."""
    return [re.sub(r"\s+", " ", item).strip() for item in value.split(",") if item.strip()]


def shebang(script: str) -> str | None:
    """The interpreter a maintainer script's `#!` line names (dpkg executes it directly)."""
    if not script.startswith("#!"):
        return None
    words = script[2:].split("\n", 1)[0].split()
    return words[0] if words else None


def package_from_fields(fields: Mapping[str, str], where: str = "a control file",
                        skip: Collection[str] = ()) -> Package:
    """A Package from deb822 fields: a control file, or a repository index paragraph
    (whose index-only fields, `skip`, are left out). Field names match in any case, as
    dpkg reads them."""
    # one pass over the paragraph: a Deb822 look-up costs about a microsecond, and an
    # archive index has tens of thousands of paragraphs
    items = [(k, str(v)) for k, v in fields.items()]
    folded = {k.lower(): v for k, v in items}
    name = folded.get("package")
    version = folded.get("version")
    if not name or not version:
        raise ArtifactError(f"has {where} without Package or Version")
    pkg = Package(name=name, version=version, architecture=folded.get("architecture", ""),
                  flavor="deb", fields={k: v for k, v in items if k not in skip})
    if ":" in version:
        pkg.epoch = version.split(":", 1)[0]
    for field_name, attr in RELATION_FIELDS.items():
        value = folded.get(field_name.lower())
        if value is not None:
            setattr(pkg, attr, relations(value))
    return pkg


def package_from_control(text: str) -> Package:
    return package_from_fields(Deb822(text))


@contextmanager
def _in_member(name: str) -> Iterator[None]:
    """Prefix a diagnosis with the ar member it concerns (control.tar.xz, data.tar.zst)."""
    try:
        yield
    except ArtifactError as exc:
        raise type(exc)(f"{name}: {exc}") from None


@reader("deb", sniff=_sniff, priority=10)
def read_deb(source: Source, ctx: ReadContext) -> Artifact:
    with source.open() as f:
        members = {name: (start, n) for name, start, n in ar_members(f, source.size)}
        control_name = next((m for m in members if m.startswith("control.tar")), None)
        data_name = next((m for m in members if m.startswith("data.tar")), None)
        if "debian-binary" not in members or control_name is None or data_name is None:
            raise ArtifactError("is not a Debian package (debian-binary, control.tar or "
                                "data.tar missing)")
        for name in (control_name, data_name):
            suffix = name.split(".tar", 1)[1]
            if suffix not in DPKG_SUFFIXES:
                raise ArtifactError(f"{name}: uses a compression dpkg does not know "
                                    f"({suffix!r})")
        with _in_member(control_name):
            control_files, control_compression = _read_control(f, members[control_name], ctx)
        if "control" not in control_files:
            raise ArtifactError("has no control file in control.tar")
        pkg = package_from_control(control_files["control"].decode("utf-8", "replace"))
        pkg.scripts = {k: v.decode("utf-8", "replace") for k, v in control_files.items()
                       if k in CONTROL_SCRIPTS}
        pkg.interpreters = {k: interp for k, v in pkg.scripts.items()
                            if (interp := shebang(v)) is not None}
        pkg.conffiles = control_files.get("conffiles", b"").decode("utf-8", "replace").split()
        if "triggers" in control_files:
            pkg.triggers = [ln.strip() for ln in
                            control_files["triggers"].decode("utf-8", "replace").splitlines()
                            if ln.strip() and not ln.lstrip().startswith("#")]
        art = Artifact(source.display, Kind.DEB, package=pkg)
        art.meta = replace(art.meta, control_members=sorted(control_files),
                           control_compression=control_compression)
        with _in_member(data_name), _data_tar(f, members[data_name], data_name,
                                              ctx) as (data, compression):
            _stream_data(art, data, ctx, first_pass=True, compression=compression)
        pkg.payload_compression = art.meta.data_compression

    def load(paths: set[str]) -> Mapping[str, bytes]:
        with source.open() as f2:
            members2 = {name: (s, ln) for name, s, ln in ar_members(f2, source.size)}
            with _data_tar(f2, members2[data_name], data_name, ctx) as (data, _):
                return _stream_data(art, data, ctx, first_pass=False, only=paths)

    art.set_loader(load)
    return art


def _read_control(f: BinaryIO, where: tuple[int, int],
                  ctx: ReadContext) -> tuple[dict[str, bytes], str]:
    """The top-level files of control.tar, and the compression libarchive found on it."""
    files: dict[str, bytes] = {}
    stream = MemberStream(SliceReader(f, *where), ctx)
    for m in stream:
        if m.entry.type.value == "file" and m.entry.path.count("/") == 1:
            files[m.entry.path[1:]] = m.read()
    return files, stream.compression or "none"


@contextmanager
def _data_tar(f: BinaryIO, where: tuple[int, int], name: str,
              ctx: ReadContext) -> Iterator[tuple[io.RawIOBase, str | None]]:
    """The data.tar member for libarchive, with the compression it was found to have
    when that is decoded here: an xz member cut into blocks (as dpkg-deb writes it) is
    decoded on every core, anything else goes to libarchive as it is."""
    window = SliceReader(f, *where)
    if name.endswith(".xz"):
        parallel = parallel_xz(window, where[1], max_block=ctx.limits.max_held_bytes)
        if parallel is not None:
            with closing(parallel):
                try:
                    yield parallel, "xz"
                except ArtifactError:
                    # libarchive saw the stream end early; say why it ended
                    if parallel.failure is not None:
                        raise parallel.failure from None
                    raise
                if parallel.failure is not None:
                    raise parallel.failure
            return
    yield window, None


def _stream_data(art: Artifact, stream: io.RawIOBase, ctx: ReadContext, *, first_pass: bool,
                 only: set[str] | None = None,
                 compression: str | None = None) -> dict[str, bytes]:
    got: dict[str, bytes] = {}
    links = hardlink_sets(art.entries) if not first_pass else {}
    members = MemberStream(stream, ctx)
    for m in members:
        e = m.entry
        if first_pass:
            if m.unsafe:
                art.unsafe_paths.append(m.raw_name)
            if e.type is EntryType.HARDLINK and e.link_target in art.entries:
                # tar stores a hard link with size 0; it has its target's size
                e = e._replace(size=art.entries[e.link_target].size)
            if e.path != "/":
                art.entries[e.path] = e
            if e.type.value != "file":
                continue
            keep_member(art, m, ctx)
        elif only is not None and take_wanted(m, only, got, links):
            break
    if first_pass:
        art.meta = replace(art.meta,
                           data_compression=compression or members.compression or "none")
    return got

"""RPM packages: header facts through rpmfile, the payload streamed only when bytes are needed."""

from __future__ import annotations

import hashlib
import io
import struct
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, BinaryIO, cast

from xenlint import capture
from xenlint.artifact import Artifact, Entry, EntryType, Kind, Package
from xenlint.limits import ArtifactError, LimitExceeded, normalize_member
from xenlint.readers import ReadContext, Source, is_nested_candidate, read_member, reader
from xenlint.readers.lowlevel.archive import (
    MemberStream,
    SliceReader,
    hardlink_sets,
    sniff_compression,
    take_wanted,
)

RPM_MAGIC = b"\xed\xab\xee\xdb"
HEADER_MAGIC = b"\x8e\xad\xe8"
LEAD_SIZE = 96
_INTRO = struct.Struct("!3sB4sii")

# RPMSENSE bits
_LESS, _GREATER, _EQUAL = 0x02, 0x04, 0x08
_RPMLIB = 1 << 24
_CONFIG = 1  # RPMFILE_CONFIG
_SHA256 = 8  # PGPHASHALGO_SHA256, the payload digest rpm >= 4.14 writes
# header fields kept as text: (name in Package.fields, rpmfile's tag name)
_FIELDS = (("summary", "summary"), ("description", "description"), ("license", "copyright"),
           ("group", "group"), ("url", "url"), ("sourcerpm", "sourcerpm"),
           ("buildhost", "buildhost"))
# RPMSENSE_TRIGGER* bits -> the spec section that declares the trigger
_TRIGGER_KINDS = ((1 << 25, "%triggerprein"), (1 << 16, "%triggerin"),
                  (1 << 17, "%triggerun"), (1 << 18, "%triggerpostun"))

SCRIPTLETS = {
    "prein": "%pre", "postin": "%post", "preun": "%preun", "postun": "%postun",
    "pretrans": "%pretrans", "posttrans": "%posttrans",
}
_S_IFMT = 0o170000
_TYPES = {0o040000: EntryType.DIRECTORY, 0o120000: EntryType.SYMLINK,
          0o020000: EntryType.CHAR, 0o060000: EntryType.BLOCK,
          0o010000: EntryType.FIFO, 0o140000: EntryType.SOCKET}


def _sniff(head: bytes, source: Source) -> bool:
    return head.startswith(RPM_MAGIC)


def _check_headers(f: BinaryIO, size: int, ctx: ReadContext) -> None:
    """Validate both header intros before rpmfile trusts their counts."""
    pos = LEAD_SIZE
    for which in ("signature", "main"):
        f.seek(pos)
        raw = f.read(_INTRO.size)
        if len(raw) < _INTRO.size:
            raise ArtifactError(f"is truncated in its {which} header")
        magic, _ver, _res, nindex, hsize = _INTRO.unpack(raw)
        if magic != HEADER_MAGIC:
            raise ArtifactError(f"has a corrupt {which} header (bad magic)")
        if not 0 <= nindex <= ctx.limits.max_header_entries:
            raise LimitExceeded(f"has a {which} header claiming {nindex} index entries "
                                f"(max_header_entries {ctx.limits.max_header_entries})")
        if not 0 <= hsize <= ctx.limits.max_header_bytes:
            raise LimitExceeded(f"has a {which} header claiming {hsize} data bytes "
                                f"(max_header_bytes {ctx.limits.max_header_bytes})")
        end = pos + _INTRO.size + 16 * nindex + hsize
        if end > size:
            raise ArtifactError(f"is truncated: its {which} header runs past the end of the file")
        pos = end
        if which == "signature":
            pos += (8 - pos % 8) % 8


def _text(v: Any) -> str:
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, list) and v:
        return _text(v[0])
    return "" if v is None else str(v)


def _list(h: Mapping[str, Any], key: str) -> list[Any]:
    v = h.get(key)
    if v is None:
        return []
    if isinstance(v, (list, tuple)):
        return list(v)
    return [v]


def _relations(h: Mapping[str, Any], prefix: str) -> list[str]:
    names = _list(h, f"{prefix}name") if prefix != "provide" else _list(h, "provides")
    versions = _list(h, f"{prefix}version")
    flags = _list(h, f"{prefix}flags")
    out: list[str] = []
    for i, name in enumerate(names):
        fl = int(flags[i]) if i < len(flags) else 0
        if fl & _RPMLIB or _text(name).startswith("rpmlib("):
            continue
        ver = _text(versions[i]) if i < len(versions) else ""
        op = _op(fl)
        text = f"{_text(name)} {op} {ver}" if op and ver else _text(name)
        # the same requirement recurs once per scriptlet needing it (Requires(post) ...)
        if text not in out:
            out.append(text)
    return out


def _op(flags: int) -> str:
    return ("<" if flags & _LESS else "") + (">" if flags & _GREATER else "") + \
           ("=" if flags & _EQUAL else "")


def _triggers(h: Mapping[str, Any], pkg: Package) -> None:
    """Triggers as the spec writes them (`%triggerin -- xen-hypervisor >= 4.17`), each with
    its script and interpreter under that same name."""
    names, versions = _list(h, "triggername"), _list(h, "triggerversion")
    flags, index = _list(h, "triggerflags"), _list(h, "triggerindex")
    scripts, progs = _list(h, "triggerscripts"), _list(h, "triggerscriptprog")
    groups: dict[int, list[str]] = {}
    kinds: dict[int, str] = {}
    for i, name in enumerate(names):
        fl = int(flags[i]) if i < len(flags) else 0
        idx = int(index[i]) if i < len(index) else i
        ver = _text(versions[i]) if i < len(versions) else ""
        op = _op(fl)
        groups.setdefault(idx, []).append(f"{_text(name)} {op} {ver}" if op and ver
                                          else _text(name))
        kinds[idx] = next((k for bit, k in _TRIGGER_KINDS if fl & bit), "%trigger")
    for idx, targets in groups.items():
        label = f"{kinds[idx]} -- {', '.join(targets)}"
        pkg.triggers.append(label)
        if idx < len(scripts):
            pkg.scripts[label] = _text(scripts[idx])
        if idx < len(progs) and _text(progs[idx]):
            pkg.interpreters[label] = _text(progs[idx])


def _package(h: Mapping[str, Any]) -> Package:
    name = _text(h.get("name"))
    if not name:
        raise ArtifactError("has an RPM header without a name")
    epoch = h.get("serial")
    pkg = Package(
        name=name, version=_text(h.get("version")), architecture=_text(h.get("arch")),
        epoch=None if epoch is None else str(epoch), release=_text(h.get("release")),
        flavor="rpm",
        depends=_relations(h, "require"), recommends=_relations(h, "recommend"),
        suggests=_relations(h, "suggest"), provides=_relations(h, "provide"),
        conflicts=_relations(h, "conflict"),
        payload_compression=_text(h.get("archive_compression")) or "gzip",
    )
    for tag, label in SCRIPTLETS.items():
        if h.get(tag):
            pkg.scripts[label] = _text(h[tag])
            prog = _text(h.get(f"{tag}prog"))
            if prog:
                pkg.interpreters[label] = prog
    _triggers(h, pkg)
    # rpmfile names tag 1014 (License) by its historic name, "copyright"
    pkg.fields = {name: _text(h.get(tag)) for name, tag in _FIELDS if h.get(tag)}
    return pkg


def _entries(h: Mapping[str, Any], art: Artifact, ctx: ReadContext) -> None:
    basenames = _list(h, "basenames")
    dirnames = _list(h, "dirnames")
    dirindexes = _list(h, "dirindexes")
    modes = _list(h, "filemodes")
    sizes = _list(h, "filesizes") or _list(h, "longfilesizes")
    links = _list(h, "filelinktos")
    flags = _list(h, "fileflags")
    inodes = _list(h, "fileinodes")
    if len(basenames) > ctx.limits.max_members:
        raise LimitExceeded(f"lists {len(basenames)} files (max_members {ctx.limits.max_members})")
    seen_inodes: dict[int, str] = {}
    for i, base in enumerate(basenames):
        di = int(dirindexes[i]) if i < len(dirindexes) else -1
        if not 0 <= di < len(dirnames):
            raise ArtifactError("has a corrupt file list (directory index out of range)")
        raw = _text(dirnames[di]) + _text(base)
        path, unsafe = normalize_member(raw)
        if (unsafe and not raw.startswith("/")) or ".." in raw.split("/"):
            art.unsafe_paths.append(raw)
        mode = int(modes[i]) if i < len(modes) else 0o100644
        etype = _TYPES.get(mode & _S_IFMT, EntryType.FILE)
        link = _text(links[i]) if i < len(links) else ""
        size = int(sizes[i]) if i < len(sizes) else 0
        if etype is EntryType.FILE and i < len(inodes) and size > 0:
            ino = int(inodes[i])
            if ino in seen_inodes:
                etype, link = EntryType.HARDLINK, seen_inodes[ino]
            else:
                seen_inodes[ino] = path
        art.entries[path] = Entry(path, etype, mode & 0o7777, size, link or None)
        if i < len(flags) and int(flags[i]) & _CONFIG and art.package:
            art.package.conffiles.append(path)


def _check_payload(f: BinaryIO, h: Mapping[str, Any], art: Artifact, start: int, size: int,
                   ctx: ReadContext) -> None:
    """Vet the payload without decompressing it (file-list facts never need its bytes).

    The header's sizes must fit the limits (a bomb rpmbuild made says so itself), the
    payload must start like a compression we know, and its bytes must match the header's
    SHA-256 payload digest (catches truncation and a payload swapped behind the header).
    """
    cap = ctx.limits.max_member_bytes
    for path, e in art.entries.items():
        if e.type is EntryType.FILE and e.size > cap:
            raise LimitExceeded(f"lists {path} at {e.size} bytes (max_member_bytes {cap}); "
                                "possible decompression bomb")
    f.seek(start)
    head = f.read(16)
    if not head:
        raise ArtifactError("is truncated: it has no payload after its header")
    if not head.startswith(b"0707") and sniff_compression(head) is None:
        declared = art.package.payload_compression if art.package else "?"
        raise ArtifactError(f"has a payload in a compression xenlint does not know "
                            f"(header says {declared!r})")
    digest = _text(h.get("payloaddigest")).lower()
    algo = _list(h, "payloaddigestalgo")
    if digest and algo and algo[0] == _SHA256 and len(digest) == 64:
        f.seek(start)
        if _sha256_rest(cast(io.BufferedIOBase, f)) != digest:
            raise ArtifactError("has a payload that does not match its header's SHA-256 digest "
                                "(truncated or altered)")


def _sha256_rest(f: io.BufferedIOBase) -> str:
    """SHA-256 from the current position to the end, reading into one reusable buffer (a
    third less CPU than hashing read() blocks; hashlib.file_digest ignores a BytesIO's
    position)."""
    sha = hashlib.sha256()
    view = memoryview(bytearray(1 << 20))
    while n := f.readinto(view):
        sha.update(view[:n])
    return sha.hexdigest()


@reader("rpm", sniff=_sniff, priority=10)
def read_rpm(source: Source, ctx: ReadContext) -> Artifact:
    # imported here: rpmfile pulls in zstandard, gzip and platform, which a run
    # over Debian packages never needs
    from rpmfile.errors import RPMError
    from rpmfile.headers import get_headers

    size = source.size
    with source.open() as f:
        _check_headers(f, size, ctx)
        f.seek(0)
        try:
            (_hstart, payload_start), h = get_headers(f)
        except (AssertionError, struct.error, ValueError, IndexError, KeyError, TypeError,
                OverflowError, RPMError) as exc:
            raise ArtifactError(f"has a corrupt RPM header ({type(exc).__name__})") from None
    try:
        art = Artifact(source.display, Kind.RPM, package=_package(h))
        _entries(h, art, ctx)
    except (ValueError, TypeError, IndexError, OverflowError) as exc:
        # rpmfile hands back "could not extract N" (a str) for a tag of an unknown type,
        # and a tag may hold bytes or a list where a number belongs
        raise ArtifactError("has a corrupt RPM header (a tag holds a value of the wrong "
                            f"type: {type(exc).__name__})") from None
    with source.open() as f:
        _check_payload(f, h, art, payload_start, size, ctx)
    art.meta = replace(art.meta, payload_offset=payload_start,
                       payload_compression=art.package.payload_compression
                       if art.package else None)

    def load(paths: set[str]) -> Mapping[str, bytes]:
        # One payload pass serves what was asked and everything facts declared they want.
        want = set(paths) | {p for p, e in art.entries.items()
                             if art.captured(p) is None and capture.wanted(p, e.size)}
        got: dict[str, bytes] = {}
        links = hardlink_sets(art.entries)
        with source.open() as f2:
            for m in MemberStream(SliceReader(f2, payload_start, size - payload_start), ctx,
                                  format_name="cpio"):
                if take_wanted(m, want, got, links):
                    break
        for p in want - paths:
            if p in got:
                art.capture(p, got.pop(p))
        return got

    art.set_loader(load)
    candidates = [p for p, e in art.entries.items()
                  if e.type is EntryType.FILE and is_nested_candidate(p)]
    nested = [p for p in candidates if art.entries[p].size <= ctx.limits.max_held_bytes]
    for p in candidates:
        if p not in nested:  # a kernel or ramdisk the rules cannot see must not pass silently
            art.children.append(Artifact(
                f"{art.path}!{p}", Kind.FILE,
                error=f"is {art.entries[p].size} bytes, more than max_held_bytes "
                      f"({ctx.limits.max_held_bytes}); not opened"))
    if nested:
        for p, data in art.read_many(nested).items():
            child = read_member(f"{art.path}!{p}", data, ctx)
            if child is not None:
                art.children.append(child)
    return art


# What a header blob from an rpmdb needs in front to be read like a package file: a lead
# (RPM magic, the rest unused), an empty signature header, the main header's magic.
_DB_PREFIX = RPM_MAGIC + bytes(LEAD_SIZE - 4) + HEADER_MAGIC + b"\x01" + bytes(12) + \
    HEADER_MAGIC + b"\x01" + bytes(4)


def installed_from_header(blob: bytes, where: str, ctx: ReadContext) -> Artifact:
    """An installed package from one rpmdb header blob (the Packages table of
    rpmdb.sqlite): identity, relations, scriptlets, triggers and the file list, read as
    a package file's main header is. `where` names it in diagnoses. The entries are the
    header's; the caller replaces them with what is on disk."""
    from rpmfile.errors import RPMError
    from rpmfile.headers import get_headers

    if len(blob) < 8:
        raise ArtifactError(f"{where}: has a truncated rpmdb header")
    nindex, hsize = struct.unpack_from("!ii", blob)
    if not 0 <= nindex <= ctx.limits.max_header_entries:
        raise LimitExceeded(f"{where}: has a header claiming {nindex} index entries "
                            f"(max_header_entries {ctx.limits.max_header_entries})")
    if not 0 <= hsize <= ctx.limits.max_header_bytes or 8 + 16 * nindex + hsize > len(blob):
        raise ArtifactError(f"{where}: has a truncated or oversized rpmdb header")
    try:
        _range, h = get_headers(io.BytesIO(_DB_PREFIX + blob))
        art = Artifact(where, Kind.INSTALLED, package=_package(h))
        _entries(h, art, ctx)
    except (AssertionError, struct.error, ValueError, IndexError, KeyError, TypeError,
            OverflowError, RPMError) as exc:
        raise ArtifactError(f"{where}: has a corrupt rpmdb header ({type(exc).__name__})") \
            from None
    return art

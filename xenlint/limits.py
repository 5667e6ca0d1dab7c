"""Caps on what any reader may decompress, hold or descend into, and member-path hygiene.

Every reader takes a `Limits`; the defaults are documented in docs/limits.md and each one
has a command-line flag (`--max-member-bytes`, ...), so one place decides how much a
hostile input may cost.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, replace

from xenlint.artifact import Entry, EntryType

MiB = 1024 * 1024
GiB = 1024 * MiB


class ArtifactError(Exception):
    """An input cannot be read. The message is the one-line diagnosis shown to the user."""


class LimitExceeded(ArtifactError):
    """An input would cost more than the configured limits allow."""


@dataclass(frozen=True, slots=True)
class Limits:
    # decompressed bytes from any one member (a file inside a package, one initramfs segment)
    max_member_bytes: int = 256 * MiB
    # decompressed bytes from one artifact, all members and nested children together,
    # read or skipped (skipping a member of a compressed stream decompresses it)
    max_artifact_bytes: int = 2 * GiB
    # members (archive entries) in one artifact
    max_members: int = 100_000
    # entries of a root tree walked on disk: a live system has hundreds of thousands, far
    # more than any archive, and each costs an Entry in memory
    max_root_entries: int = 2_000_000
    # bytes of one member held in memory at once (captured contents, nested images); the
    # largest member Debian ships that a reader opens is d-i's graphical netboot
    # initrd.gz, 73 MB, and installer ISOs hold initrds of the same size
    max_held_bytes: int = 128 * MiB
    # levels of nesting (package -> kernel image -> ... ); the top-level input is depth 0
    max_depth: int = 4
    # RPM header index entries and header data bytes
    max_header_entries: int = 65_536
    max_header_bytes: int = 32 * MiB
    # Repository indexes (Debian Packages, Sources and Contents; RPM primary and
    # filelists XML), read whole by an audit. Bookworm main's largest (Contents-all) is
    # 520 MB decompressed, its longest Packages line 76 KB, its largest paragraph 77 KB,
    # 64,000 paragraphs per architecture (docs/limits.md).
    # decompressed bytes of one index file
    max_index_bytes: int = 1 * GiB
    # bytes of one line of an index
    max_index_line_bytes: int = 1 * MiB
    # bytes of one field with its continuation lines (in XML, of one tag or run of
    # text); a paragraph (an XML <package>) with all its fields may hold twice that
    max_index_field_bytes: int = 8 * MiB
    # paragraphs of one Packages or Sources file (<package> entries of one XML index,
    # packages one Contents file names)
    max_index_paragraphs: int = 500_000
    # nesting of XML elements in repodata (createrepo_c writes 5 levels)
    max_index_xml_depth: int = 32
    # XML elements in one repodata file
    max_index_xml_elements: int = 20_000_000

    def with_overrides(self, **values: int | None) -> Limits:
        return replace(self, **{k: v for k, v in values.items() if v is not None})


class Budget:
    """Counts the decompressed bytes and members of one top-level artifact against its limits."""

    def __init__(self, limits: Limits, label: str) -> None:
        self.limits = limits
        self.label = label
        self.bytes = 0
        self.members = 0

    def add_bytes(self, n: int) -> None:
        self.bytes += n
        if self.bytes > self.limits.max_artifact_bytes:
            raise LimitExceeded(
                f"decompresses to more than {self.limits.max_artifact_bytes} bytes "
                "(max_artifact_bytes); possible decompression bomb"
            )

    def add_member(self) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise LimitExceeded(f"has more than {self.limits.max_members} members (max_members)")


def normalize_member(name: str) -> tuple[str, bool]:
    """Map an archive member name to an absolute path inside the artifact.

    Returns the path and whether the name was unsafe (absolute, or climbing out with `..`).
    The name is only data: `..` is resolved lexically and clamped at the root.
    """
    raw = name
    if raw.startswith("./"):
        raw = raw[2:]
    unsafe = raw.startswith("/")
    parts: list[str] = []
    for part in raw.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            unsafe = True
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts), unsafe


def resolve_link(member: str, target: str) -> str:
    """Where a symlink at `member` points, as an absolute path inside the artifact."""
    base = target if target.startswith("/") else posixpath.join(posixpath.dirname(member), target)
    return normalize_member(base)[0]


# Linux gives up resolving a path after 40 symlinks (ELOOP); so do we.
MAX_SYMLINK_HOPS = 40


def member_problem(unsafe_paths: list[str], entries: Mapping[str, Entry]) -> str | None:
    """The one-line diagnosis for hostile member names or links, or None if all is well.

    Names climbing out of the root, symlink chains that loop, and hard links to members
    that are not there all make an unpacker do something other than what the package
    says; the entries stay readable as data, but the run must fail.
    """
    if unsafe_paths:
        more = f" and {len(unsafe_paths) - 1} more" if len(unsafe_paths) > 1 else ""
        return (f"has member {unsafe_paths[0]!r}{more} outside the package root "
                "(absolute name or path traversal)")
    for path, e in entries.items():
        if e.type is EntryType.HARDLINK and e.link_target and e.link_target not in entries:
            return f"has hard link {path} to {e.link_target}, which is not in the archive"
    for path, e in entries.items():
        if e.type is EntryType.SYMLINK and _symlink_loops(path, entries):
            return f"has symlink {path} -> {e.link_target} that loops back on itself"
    return None


def _symlink_loops(start: str, entries: Mapping[str, Entry]) -> bool:
    seen = {start}
    path = start
    for _ in range(MAX_SYMLINK_HOPS):
        e = entries.get(path)
        if e is None or e.type is not EntryType.SYMLINK or not e.link_target:
            return False
        path = resolve_link(path, e.link_target)
        if path in seen:
            return True
        seen.add(path)
    return True

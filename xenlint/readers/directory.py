"""An unpacked root tree (a chroot, an image mounted elsewhere), read as one artifact.

Symlinks are recorded, never followed on disk: when contents are read through a link, the
link is resolved against the tree's own entries, clamped at the root, so nothing outside
ROOT is ever opened. Contents are read lazily and capped.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from xenlint.artifact import Artifact, Entry, EntryType, Kind, Package
from xenlint.limits import MAX_SYMLINK_HOPS, LimitExceeded, resolve_link
from xenlint.readers import ReadContext, Source, is_nested_candidate, read_source

ROOT_MARKERS = ("etc", "usr", "boot", "lib", "bin", "sbin", "var", "opt")
# kernel-made file systems of a live system (or a chroot with them mounted): nothing a
# package ships lives there, and walking them reads kernel state, not the root
VIRTUAL = ("proc", "sys", "dev", "run")


def is_root_tree(path: Path) -> bool:
    """A directory that looks like a filesystem root rather than a folder of packages."""
    return any((path / m).is_dir() and not (path / m).is_symlink() for m in ROOT_MARKERS)


def _type(mode: int) -> EntryType:
    if stat.S_ISDIR(mode):
        return EntryType.DIRECTORY
    if stat.S_ISLNK(mode):
        return EntryType.SYMLINK
    if stat.S_ISCHR(mode):
        return EntryType.CHAR
    if stat.S_ISBLK(mode):
        return EntryType.BLOCK
    if stat.S_ISFIFO(mode):
        return EntryType.FIFO
    if stat.S_ISSOCK(mode):
        return EntryType.SOCKET
    return EntryType.FILE


def _read_capped(path: Path, cap: int) -> bytes:
    # O_NOFOLLOW: the tree was walked without following links; a link swapped in since
    # must not lead the read outside ROOT
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as f:
        data = f.read(cap + 1)
    if len(data) > cap:
        raise LimitExceeded(f"member {path} is larger than {cap} bytes held in memory "
                            "(max_held_bytes)")
    return data


@dataclass(slots=True)
class Tree:
    """What a walk of ROOT found: every entry by its path inside ROOT, and where each
    regular file is on disk."""

    root: Path
    entries: dict[str, Entry] = field(default_factory=dict)
    disk: dict[str, Path] = field(default_factory=dict)

    def resolve(self, path: str, *, follow_last: bool = True) -> str | None:
        """`path` with every symlink on the way resolved inside ROOT (`..` stops at the
        root, an absolute target means ROOT's own /), or None for a loop."""
        parts = [p for p in path.split("/") if p]
        cur = "/"
        hops = 0
        while parts:
            name = parts.pop(0)
            nxt = cur.rstrip("/") + "/" + name
            e = self.entries.get(nxt)
            last = not parts
            if e is not None and e.type is EntryType.SYMLINK and e.link_target \
                    and (follow_last or not last):
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    return None
                parts = [p for p in resolve_link(nxt, e.link_target).split("/") if p] + parts
                cur = "/"
                continue
            cur = nxt
        return cur

    def read(self, paths: Iterable[str], cap: int) -> dict[str, bytes]:
        """Contents of regular files, links followed inside ROOT; absent ones are left out."""
        out: dict[str, bytes] = {}
        for p in paths:
            real = self.resolve(p)
            if real is not None and real in self.disk:
                out[p] = _read_capped(self.disk[real], cap)
        return out


def scan_tree(root: Path, ctx: ReadContext) -> Tree:
    tree = Tree(root)
    count = 0
    inodes: dict[tuple[int, int], str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if Path(dirpath) == root:
            dirnames[:] = [d for d in dirnames
                           if not (d in VIRTUAL and os.path.ismount(root / d))]
        dirnames.sort()
        for name in sorted(dirnames) + sorted(filenames):
            full = Path(dirpath) / name
            st = full.lstat()
            count += 1
            if count > ctx.limits.max_root_entries:
                raise LimitExceeded(f"has more than {ctx.limits.max_root_entries} entries "
                                    "(max_root_entries)")
            inner = "/" + full.relative_to(root).as_posix()
            etype = _type(st.st_mode)
            link = os.readlink(full) if etype is EntryType.SYMLINK else None
            if etype is EntryType.FILE and st.st_nlink > 1:
                key = (st.st_dev, st.st_ino)
                if key in inodes:
                    etype, link = EntryType.HARDLINK, inodes[key]
                else:
                    inodes[key] = inner
            tree.entries[inner] = Entry(inner, etype, st.st_mode & 0o7777, st.st_size, link)
            if etype in (EntryType.FILE, EntryType.HARDLINK):
                tree.disk[inner] = full
    return tree


def tree_artifact(tree: Tree, display: str, entries: dict[str, Entry], ctx: ReadContext, *,
                  kind: Kind = Kind.DIRECTORY, package: Package | None = None) -> Artifact:
    """An artifact of some of the tree's entries (all of it, or one installed package's),
    its contents read from disk on demand and its kernels, ramdisks and hypervisors
    opened as nested children."""
    art = Artifact(display, kind, package=package, entries=entries)

    def load(paths: set[str]) -> Mapping[str, bytes]:
        return tree.read(paths, ctx.limits.max_held_bytes)

    art.set_loader(load)
    for inner, e in entries.items():
        if e.type is not EntryType.FILE or not is_nested_candidate(inner):
            continue
        real = tree.resolve(inner)
        if real is None or real not in tree.disk:
            continue
        child = read_source(Source(f"{display}!{inner}", path=tree.disk[real]), ctx.child(),
                            required=False)
        if child is not None:
            art.children.append(child)
    return art


def read_root_tree(root: Path, display: str, ctx: ReadContext) -> Artifact:
    tree = scan_tree(root, ctx)
    return tree_artifact(tree, display, tree.entries, ctx)

"""An unpacked root tree (a chroot, an image mounted elsewhere), read as one artifact.

Symlinks are recorded, never followed; contents are read lazily and capped.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from xenlint.artifact import Artifact, Entry, EntryType, Kind
from xenlint.limits import LimitExceeded
from xenlint.readers import ReadContext, Source, is_nested_candidate, read_source

ROOT_MARKERS = ("etc", "usr", "boot", "lib", "bin", "sbin", "var", "opt")


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
    with path.open("rb") as f:
        data = f.read(cap + 1)
    if len(data) > cap:
        raise LimitExceeded(f"member {path} is larger than {cap} bytes held in memory "
                            "(max_held_bytes)")
    return data


def read_root_tree(root: Path, display: str, ctx: ReadContext) -> Artifact:
    art = Artifact(display, Kind.DIRECTORY)
    disk: dict[str, Path] = {}
    inodes: dict[tuple[int, int], str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames) + sorted(filenames):
            full = Path(dirpath) / name
            st = full.lstat()
            ctx.budget.add_member()
            inner = "/" + full.relative_to(root).as_posix()
            etype = _type(st.st_mode)
            link = os.readlink(full) if etype is EntryType.SYMLINK else None
            if etype is EntryType.FILE and st.st_nlink > 1:
                key = (st.st_dev, st.st_ino)
                if key in inodes:
                    etype, link = EntryType.HARDLINK, inodes[key]
                else:
                    inodes[key] = inner
            art.entries[inner] = Entry(inner, etype, st.st_mode & 0o7777, st.st_size, link)
            if etype in (EntryType.FILE, EntryType.HARDLINK):
                disk[inner] = full

    def load(paths: set[str]) -> Mapping[str, bytes]:
        return {p: _read_capped(disk[p], ctx.limits.max_held_bytes) for p in paths if p in disk}

    art.set_loader(load)
    for inner, full in disk.items():
        if art.entries[inner].type is EntryType.FILE and is_nested_candidate(inner):
            child = read_source(Source(f"{display}!{inner}", path=full), ctx.child(),
                                required=False)
            if child is not None:
                art.children.append(child)
    return art

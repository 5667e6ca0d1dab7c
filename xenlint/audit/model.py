"""What an audit works on: files to open (work items) and packages known from an index."""

from __future__ import annotations

import stat
from dataclasses import dataclass, field

from xenlint.artifact import Artifact

# Parts of the read errors that need not recur on the same files: a timeout (a busy
# machine), a crashed or vanished worker, a file that changed or could not be opened
# while it was read. A report holding one is never replayed (runmemo.py); every other
# read error (a pool file that is absent, bytes that do not parse or do not match the
# index) follows from the files, whose stat the replay's key covers.
TRANSIENT = ("(--timeout)", "crashed the reader process", "could not be analysed",
             "cannot be opened", "changed while it was read",
             "its parser crashed the worker process")


def recurs(message: str) -> bool:
    """Whether a read error would be met again on the same files."""
    return not any(part in message for part in TRANSIENT)


@dataclass(slots=True)
class AuditStats:
    """What an audit did (the summary table); a run memo stores it beside the report."""

    groups: list[tuple[str, int]] = field(default_factory=list)
    opened: int = 0  # files read by a reader in this run
    cached: int = 0  # views served from the cache
    from_index: int = 0  # packages judged from the repository index only
    # one line each: indexes read all the same (text not in UTF-8, decoded as apt does)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One file to turn into an artifact view: the unit of work an executor runs."""

    path: str
    # the artifact path shown in reports (the same as `path` for files found on disk)
    display: str
    # sha256 announced by a repository index; None means hash the file
    sha256: str | None = None
    # a repository package must be readable; a stray file in a tree is skipped if unknown
    required: bool = True


@dataclass(slots=True)
class Group:
    """Packages that form one package set (a repository suite, an RPM repo, a tree)."""

    name: str
    # what `check` would call the input: the directory, suite or image (reports, overrides)
    label: str
    items: list[WorkItem] = field(default_factory=list)
    # packages described by the index only (not worth opening), and index read errors
    metadata: list[Artifact] = field(default_factory=list)
    # the machine architecture of a repository's package set (its all/noarch packages
    # join every architecture's set); "" for a set of one architecture or a tree
    arch: str = ""
    # what its index parse says of indexes it read all the same (text not in UTF-8)
    warnings: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.items) + len(self.metadata)


def inside(root_relative: str) -> bool:
    """Whether a path an index names (Filename:, location href) stays inside the
    repository: a hostile index must not make xenlint read files elsewhere."""
    parts = root_relative.split("/")
    return bool(root_relative) and not root_relative.startswith("/") and ".." not in parts


def not_regular(mode: int) -> str | None:
    """Why a file of this mode is not read as a package, or None for a regular file."""
    for test, what in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a directory"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return f"is {what}, not a regular file; not read"
    return None if stat.S_ISREG(mode) else "is not a regular file; not read"

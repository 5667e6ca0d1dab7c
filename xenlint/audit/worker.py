"""The unit of work: one file -> its artifact view, ready to pickle, cache and merge.

Runs in a worker process (or any engine that can call a picklable function). The view is
"frozen": contents that facts declared with `capture.want()` are read now, and the live
loader (a closure over an open reader) is replaced by `ReopenLoader`, which re-reads the
file from disk only if a fact later asks for something nobody declared.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from xenlint import capture
from xenlint.artifact import Artifact, EntryType, Kind
from xenlint.audit.cache import PRIVATE, Cache, Modes
from xenlint.audit.codec import REOPEN
from xenlint.audit.model import WorkItem, not_regular
from xenlint.audit.timer import ArtifactTimeout, time_limit
from xenlint.engine.evaluate import build_subjects
from xenlint.facts import registry
from xenlint.limits import ArtifactError, Limits
from xenlint.readers import ReadContext, Source, read_path, read_source

# What says a file is unchanged: size, modification and change times (ctime moves on every
# write and rename, and cannot be set back by utime), inode and device.
Stamp = tuple[int, int, int, int, int]
# reads of a file that keeps changing under us before it is reported
READ_TRIES = 3
MISMATCH = "does not match its index (sha256)"


def stamp_of(st: os.stat_result) -> Stamp:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


class Unreadable(Exception):
    """The file cannot be taken as input; the message is the diagnosis."""


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    limits: Limits
    # seconds one artifact may take; 0 means no limit
    timeout: float
    cache_root: str | None
    cache_salt: str
    # facts the selected rules use (None: every registered fact), computed while warming
    facts: frozenset[str] | None = None
    cache_modes: Modes = PRIVATE


@dataclass(slots=True)
class Outcome:
    """What comes back for one item; the caller knows which item it sent, so only this
    crosses back (the main process unpickles every outcome while the workers run)."""

    sha256: str | None
    # None when a file in a tree is not a format xenlint reads (check skips it too)
    artifact: Artifact | None
    cached: bool
    # fstat of the descriptor that was hashed and read: the stat index's shortcut
    stamp: Stamp | None = None


@dataclass(frozen=True, slots=True)
class ReopenLoader:
    """A picklable stand-in for a reader's loader: read the input again, find the nested
    artifact, and serve the asked paths from it. Used only for undeclared reads."""

    source: str
    display: str
    target: str
    limits: Limits

    def __call__(self, paths: set[str]) -> Mapping[str, bytes]:
        art = _read(self.source, self.display, self.limits, required=True)
        for a in art.walk() if art is not None else ():
            if a.path == self.target and a.error is None:
                return a.read_many(paths)
        return {}


def _read(path: str, display: str, limits: Limits, *, required: bool) -> Artifact | None:
    if Path(path).is_dir():
        return read_path(display, limits)[0]
    return read_source(Source(display, path=Path(path)), ReadContext.top(limits, display),
                       required=required)


def warm(art: Artifact, facts: frozenset[str] | None = None) -> None:
    """Compute the facts on this artifact alone and forget the values: the member
    contents facts read without declaring them (`art.read()`) stay captured in the view,
    so the facts computed later on the whole package set find them without the file."""
    specs = [s for s in registry().values() if facts is None or s.name in facts]
    for subject in build_subjects([art]):
        for spec in specs:
            if subject.kind in spec.subjects:
                with contextlib.suppress(Exception):  # a fact's own bug shows up in lint
                    subject.get(spec.name)


def freeze(art: Artifact, source: str, limits: Limits,
           facts: frozenset[str] | None = None) -> Artifact:
    """Read what facts want, then make the view picklable."""
    if art.error is None:
        warm(art, facts)
    for a in art.walk():
        if a.loader is None:
            continue
        want = [p for p, e in a.entries.items()
                if e.type is EntryType.FILE and a.captured(p) is None
                and capture.wanted(p, e.size)]
        if want:
            # on failure the fact that needs it meets the same error and is unknown
            with contextlib.suppress(ArtifactError):
                a.read_many(want)
        a.set_loader(ReopenLoader(source, art.path, a.path, limits))
    return art


def _open(path: str) -> int:
    """A descriptor on the file itself: a symlink is not followed (a repository's pool entry
    must not lead elsewhere; `discover` resolves a target given on the command line), and a
    FIFO does not block the open."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # the last component is a symlink
            raise Unreadable("names a file outside the repository (a symbolic link); "
                             "not read") from None
        raise
    why = not_regular(os.fstat(fd).st_mode)
    if why is not None:
        os.close(fd)
        raise Unreadable(why)
    return fd


def _hash(fd: int) -> str:
    h = hashlib.sha256()
    offset = 0
    while block := os.pread(fd, 1 << 20, offset):
        h.update(block)
        offset += len(block)
    return h.hexdigest()


def _by_fd(fd: int, path: str) -> Path:
    """A path that opens the very file behind `fd` (not whatever `path` names by now)."""
    proc = Path(f"/proc/self/fd/{fd}")
    return proc if proc.exists() else Path(path)


def analyse(item: WorkItem, config: WorkerConfig) -> Outcome:
    """Hash, look up the cache, else read and freeze one artifact. Never raises for bad input.

    The bytes hashed are the bytes read: one descriptor serves the hash and the reader,
    its fstat before and after tells whether the file changed meanwhile (then it is read
    again, and reported after READ_TRIES), and the hash decides the cache key. A hash an
    index claims is only compared: a mismatch makes the file unreadable, never a key."""
    cache = Cache(Path(config.cache_root), config.cache_salt, config.cache_modes) \
        if config.cache_root else None
    sha: str | None = None
    stamp: Stamp | None = None
    try:
        with time_limit(config.timeout) as timer:
            if Path(item.path).is_dir():  # a root tree: read as `check` does, not cached
                art = _read(item.path, item.display, config.limits, required=True)
                if art is not None:
                    freeze(art, item.path, config.limits, config.facts)
                return Outcome(None, art, False)
            for _try in range(READ_TRIES):
                fd = _open(item.path)
                try:
                    before = stamp_of(os.fstat(fd))
                    sha = _hash(fd)
                    outcome = _view(item, config, cache, fd, sha, before)
                    stamp = stamp_of(os.fstat(fd))
                finally:
                    os.close(fd)
                if stamp == before:
                    break
            else:
                raise Unreadable(f"changed while it was read ({READ_TRIES} times); not read")
        if timer.fired:
            raise ArtifactTimeout
    except ArtifactTimeout:
        art = Artifact(item.display, Kind.FILE,
                       error=f"took longer than {config.timeout:g} s to read (--timeout)")
        return Outcome(None, art, False)
    except Unreadable as exc:
        return Outcome(None, Artifact(item.display, Kind.FILE, error=str(exc)), False)
    except OSError as exc:
        art = Artifact(item.display, Kind.FILE, error=f"cannot be opened: {exc.strerror}")
        return Outcome(None, art, False)
    outcome.stamp = stamp
    if outcome.artifact is not None and outcome.artifact.error == MISMATCH:
        return outcome  # a verdict on the index, not on the bytes: not a view to cache
    if cache is not None and sha is not None and not outcome.cached:
        cache.put(sha, item.display, outcome.artifact)
    return outcome


def _view(item: WorkItem, config: WorkerConfig, cache: Cache | None, fd: int, sha: str,
          stamp: Stamp) -> Outcome:
    """The view of the file open at `fd`, whose bytes hash to `sha`."""
    if item.sha256 is not None and item.sha256 != sha:
        return Outcome(sha, Artifact(item.display, Kind.FILE, error=MISMATCH), False, stamp)
    if cache is not None:
        hit = cache.get(sha)
        if hit is not None:
            art, old_display = hit
            if art is not None:
                relocate(art, old_display, item, config.limits)
            return Outcome(sha, art, True, stamp)
    art = _read(str(_by_fd(fd, item.path)), item.display, config.limits,
                required=item.required)
    if art is not None:
        art.sha256 = sha
        freeze(art, item.path, config.limits, config.facts)
    return Outcome(sha, art, False, stamp)


def relocate(art: Artifact, old: str, item: WorkItem, limits: Limits) -> None:
    """The same bytes may sit at another path: rename the view and its nested children,
    and give each that had a loader one that reads the file where it now is (a cached
    view holds `REOPEN` in its place)."""
    for a in art.walk():
        if a.path == old or a.path.startswith(old + "!"):
            a.path = item.display + a.path[len(old):]
        if a.loader is REOPEN or isinstance(a.loader, ReopenLoader):
            a.set_loader(ReopenLoader(item.path, item.display, a.path, limits))

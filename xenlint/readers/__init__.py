"""Bytes on disk -> Artifact. Readers register themselves and are chosen by magic bytes.

Each reader module calls `@reader(...)` with a `sniff(head, source)` test; the first
reader (by priority) whose sniff accepts the head of the input reads it. Readers
never write to disk, and every failure becomes the artifact's one-line `error`.
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib
import io
import os
import pkgutil
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from xenlint.artifact import Artifact, Kind
from xenlint.limits import ArtifactError, Budget, LimitExceeded, Limits, member_problem

HEAD_BYTES = 4096


@dataclass(slots=True)
class Source:
    """An input to read: a file on disk, or bytes already held (a member of a package)."""

    display: str
    path: Path | None = None
    data: bytes | None = None

    @property
    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        assert self.path is not None
        return self.path.stat().st_size

    def open(self) -> BinaryIO:
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.path is not None
        return self.path.open("rb")

    def read_held(self, cap: int) -> bytes:
        """The whole input, refused when it is larger than `cap` bytes (max_held_bytes)."""
        if self.size > cap:
            raise LimitExceeded(f"is larger than {cap} bytes held in memory (max_held_bytes)")
        if self.data is not None:
            return self.data
        with self.open() as f:
            return f.read(cap + 1)

    def head(self, n: int = HEAD_BYTES) -> bytes:
        if self.data is not None:
            return self.data[:n]
        with self.open() as f:
            return f.read(n)


@dataclass(slots=True)
class ReadContext:
    limits: Limits
    budget: Budget
    depth: int = 0

    @classmethod
    def top(cls, limits: Limits, label: str) -> ReadContext:
        return cls(limits, Budget(limits, label), 0)

    def child(self) -> ReadContext:
        if self.depth + 1 > self.limits.max_depth:
            raise LimitExceeded(f"nests deeper than {self.limits.max_depth} levels (max_depth)")
        return ReadContext(self.limits, self.budget, self.depth + 1)


Sniff = Callable[[bytes, Source], bool]
ReadFn = Callable[[Source, ReadContext], Artifact]


@dataclass(frozen=True, slots=True)
class ReaderSpec:
    name: str
    sniff: Sniff
    read: ReadFn
    priority: int
    # member paths inside packages/images that this reader can open as nested children
    nested: tuple[str, ...] = field(default=())


_READERS: list[ReaderSpec] = []
_NESTED_RE: re.Pattern[str] | None = None


def reader(
    name: str, *, sniff: Sniff, priority: int = 50, nested: tuple[str, ...] = ()
) -> Callable[[ReadFn], ReadFn]:
    """Register a reader. Lower priority values are tried first."""

    def register(fn: ReadFn) -> ReadFn:
        global _NESTED_RE
        _READERS.append(ReaderSpec(name, sniff, fn, priority, nested))
        _READERS.sort(key=lambda r: r.priority)
        _NESTED_RE = None
        return fn

    return register


def _load_all() -> None:
    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")


def readers() -> list[ReaderSpec]:
    return list(_READERS)


def is_nested_candidate(path: str) -> bool:
    """Whether a member at `path` should be opened as a nested artifact."""
    global _NESTED_RE
    if _NESTED_RE is None:
        # kernel readers share one pattern list; compiling duplicates costs ms per process
        pats = list(dict.fromkeys(p for r in _READERS for p in r.nested))
        _NESTED_RE = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in pats) or "(?!)")
    return _NESTED_RE.match(path) is not None


def choose(source: Source) -> ReaderSpec | None:
    head = source.head()
    for spec in _READERS:
        try:
            if spec.sniff(head, source):
                return spec
        except (ArtifactError, OSError):
            raise
        except Exception:
            # a sniff is a guess over hostile bytes: one that trips over them says "not mine"
            if os.environ.get("XENLINT_DEBUG"):
                raise
    return None


def describe_exception(exc: BaseException) -> str:
    """One line for an unexpected failure inside a parsing library."""
    if isinstance(exc, ArtifactError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "needs more memory than is available while reading (possible bomb)"
    if isinstance(exc, RecursionError):
        return "is nested too deeply to read"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    kind = type(exc).__name__
    return f"is corrupt or truncated ({kind}{': ' + text if text else ''})"


def read_source(source: Source, ctx: ReadContext, *, required: bool = True) -> Artifact | None:
    """Read one input. Unknown formats give an error artifact if `required`, else None."""
    try:
        spec = choose(source)
    except OSError as exc:
        return Artifact(source.display, Kind.FILE, error=f"cannot be opened: {exc.strerror}")
    except ArtifactError as exc:  # a sniff that had to look further and found it broken
        return Artifact(source.display, Kind.FILE, error=str(exc))
    if spec is None:
        if not required:
            return None
        if source.size == 0:
            return Artifact(source.display, Kind.FILE, error="is empty")
        return Artifact(source.display, Kind.FILE, error="is not a format xenlint reads")
    try:
        art = spec.read(source, ctx)
        # hostile names and links fail the read, but the entries stay for inspect and rules
        art.error = art.error or member_problem(art.unsafe_paths, art.entries)
        derive_children(art, ctx)
    except Exception as exc:
        if os.environ.get("XENLINT_DEBUG"):
            raise
        return Artifact(source.display, Kind.FILE, error=describe_exception(exc))
    return art


Deriver = Callable[[Artifact, ReadContext], None]
_DERIVERS: list[Deriver] = []


def deriver(fn: Deriver) -> Deriver:
    """Register a hook that adds children derived from a read artifact's entries
    (e.g. the module trees of a kernel package), after its reader is done."""
    _DERIVERS.append(fn)
    return fn


def derive_children(art: Artifact, ctx: ReadContext) -> None:
    if art.error is not None:
        return
    for fn in _DERIVERS:
        try:
            fn(art, ctx)
        except Exception as exc:
            if os.environ.get("XENLINT_DEBUG"):
                raise
            art.children.append(Artifact(f"{art.path}!{fn.__name__}", Kind.FILE,
                                         error=describe_exception(exc)))


def read_member(
    display: str, data: bytes, ctx: ReadContext
) -> Artifact | None:
    """Open a member of a package or image as a nested child, if a reader knows it."""
    try:
        child_ctx = ctx.child()
    except LimitExceeded as exc:
        return Artifact(display, Kind.FILE, error=str(exc))
    return read_source(Source(display, data=data), child_ctx, required=False)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


NOTHING_TO_READ = "holds no package, image or root tree xenlint reads"


def read_path(path: str | Path, limits: Limits | None = None) -> list[Artifact]:
    """Read what a path names: one artifact, each artifact found in a directory of them, or
    each file an upload's .changes lists."""
    limits = limits or Limits()
    p = Path(path)
    display = str(path)
    if not p.exists() and not p.is_symlink():
        return [Artifact(display, Kind.FILE, error="does not exist")]
    if p.is_dir():
        from xenlint.readers.directory import is_root_tree, read_root_tree
        from xenlint.readers.installed import has_package_db, read_installed_root

        if is_root_tree(p) and has_package_db(p):
            return read_installed_root(p, display, limits)
        if is_root_tree(p):
            ctx = ReadContext.top(limits, display)
            try:
                tree = read_root_tree(p, display, ctx)
            except (ArtifactError, OSError) as exc:
                msg = str(exc) if isinstance(exc, ArtifactError) else \
                    f"cannot be read: {exc.strerror or exc}"
                return [Artifact(display, Kind.DIRECTORY, error=msg)]
            derive_children(tree, ctx)
            return [tree]
        found = list(_read_collection(p, limits))
        # an empty or unrelated folder is a mistake worth one line, not a silent clean run
        return found or [Artifact(display, Kind.DIRECTORY, error=NOTHING_TO_READ)]
    upload = _read_upload(p, display, limits)
    if upload is not None:
        return upload
    return [read_source(Source(display, path=p), ReadContext.top(limits, display)) or
            Artifact(display, Kind.FILE, error="is not a format xenlint reads")]


def _read_upload(p: Path, display: str, limits: Limits) -> list[Artifact] | None:
    """A .changes (recognised by content) stands for the files it lists, verified first
    (readers/changes.py); None when the file is no .changes."""
    from xenlint.readers import changes

    found = changes.open_upload(p, display, limits)
    if found is None:
        return None
    verified, errors = found
    arts = [read_source(Source(v.display, path=v.path), ReadContext.top(limits, v.display),
                        required=False) for v in verified]
    for art, v in zip(arts, verified, strict=True):
        if art is not None:
            art.sha256 = v.sha256
    read = [a for a in arts if a is not None] + errors
    # a source-only upload, like an empty folder, is a mistake worth one line
    return read or [Artifact(display, Kind.FILE, error=NOTHING_TO_READ)]


def _read_collection(root: Path, limits: Limits) -> Iterator[Artifact]:
    """A directory of packages and images: each recognised file is an artifact of its own."""
    for fpath, problem in walk_files(root):
        display = str(fpath)
        if problem is not None:
            yield Artifact(display, Kind.FILE, error=problem)
            continue
        art = read_source(Source(display, path=fpath), ReadContext.top(limits, display),
                          required=False)
        if art is not None:
            yield art


def walk_files(root: Path, prune: Callable[[Path], bool] | None = None
               ) -> Iterator[tuple[Path, str | None]]:
    """The regular files under `root` in a stable order, each with None; and, with the
    reason, every directory that cannot be listed and every name that cannot be examined.
    A package in a directory xenlint may not enter is an input it did not check, so it
    is reported rather than left out of a clean run. A directory below `root` for which
    `prune` says True is not descended into."""
    unlisted: list[tuple[Path, str]] = []

    def refused(exc: OSError) -> None:
        unlisted.append((Path(exc.filename or root), f"cannot be listed: {exc.strerror}"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=refused):
        yield from _drain(unlisted)
        dirnames.sort()
        here = Path(dirpath)
        if prune is not None and here != root and prune(here):
            dirnames.clear()
            continue
        for fname in sorted(filenames):
            fpath = Path(dirpath) / fname
            try:
                st = os.lstat(fpath)
            except FileNotFoundError:
                continue  # gone since the listing
            except OSError as exc:
                yield fpath, f"cannot be examined: {exc.strerror}"
                continue
            if stat.S_ISREG(st.st_mode):
                yield fpath, None
    yield from _drain(unlisted)


def _drain(found: list[tuple[Path, str]]) -> Iterator[tuple[Path, str]]:
    while found:
        yield found.pop(0)


_load_all()

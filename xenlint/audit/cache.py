"""Per-artifact cache: artifact views keyed by content hash, xenlint and rule set.

Layout under the cache root (`$XDG_CACHE_HOME/xenlint` or `~/.cache/xenlint` unless
`--cache-dir`): `views/<k[:2]>/<k>.msgpack`, where k = sha256(salt + file sha256);
`indexes/`, parsed repository indexes by file stamps;
`reports/<k[:2]>/<k>.msgpack`, the report of a package set whose inputs, options and
rules are unchanged (verdicts.key); `runs/`, whole runs (runmemo.py); and
`stat-index.json`, which maps a file's (path, size, mtime, inode) to its sha256 so an
unchanged tree is not even hashed again. Nothing is ever written outside the root.

Every entry is plain data (codec.py): one that does not decode to what was stored is a
miss. The root must be the user's own and writable by nobody else (`usable_root`), unless
a shared cache is asked for; directories are made 0700 and files 0600 in it, or, in a
shared cache, with the root's group and other permissions.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

import xenlint
from xenlint import capture
from xenlint.artifact import Artifact
from xenlint.audit import codec
from xenlint.finding import Report
from xenlint.limits import Limits

# 4: msgpack (codec.py) in place of pickle; a change makes old entries misses
FORMAT = "4"
SUFFIX = ".msgpack"
T = TypeVar("T")
# what writing an entry may raise: a cache that cannot be written only costs time, and a
# value the format cannot hold (an integer past 64 bits) is not cached
UNWRITTEN = (OSError, ValueError, TypeError, OverflowError)
_SHA256 = re.compile("[0-9a-f]{64}")


def default_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "xenlint"


@dataclass(frozen=True, slots=True)
class Modes:
    """The permissions of what the cache creates."""

    dirs: int = 0o700
    files: int = 0o600


PRIVATE = Modes()


def refusal(root: Path, shared: bool = False) -> str | None:
    """Why the cache at `root` must not be used, or None. A root that is missing is made
    (0700); one that cannot be made or read is used anyway, as a cache that cannot be
    written only costs time. Without `shared`, the root must belong to this user and be
    writable by nobody else, as ssh asks of a private key: whoever may write it decides
    what later audits report."""
    try:
        make_dirs(root, PRIVATE)
        st = os.stat(root)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a directory"
    if shared:
        return None
    if st.st_uid != os.geteuid():
        return "it belongs to another user"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "it is writable by other users (group or world)"
    return None


def usable_root(root: Path | None, shared: bool = False) -> Path | None:
    """`root`, or None (and a warning on stderr) when it is refused: the audit then runs
    without the cache."""
    if root is None:
        return None
    why = refusal(root, shared)
    if why is None:
        return root
    print(f"xenlint: warning: not using the cache {root}: {why} "
          "(--shared-cache to use it anyway)", file=sys.stderr)
    return None


def modes_for(root: Path, shared: bool = False) -> Modes:
    """0700 and 0600; in a shared cache, with the root's group and other permissions
    added, so that the users who share it can read and write what this one stores."""
    if not shared:
        return PRIVATE
    try:
        bits = stat.S_IMODE(os.stat(root).st_mode) & 0o077
    except OSError:
        return PRIVATE
    return Modes(0o700 | bits, 0o600 | (bits & 0o066))


def make_dirs(path: Path, modes: Modes = PRIVATE) -> None:
    """Make `path` and its missing parents with `modes.dirs`, whatever the umask."""
    if path.is_dir():
        return
    make_dirs(path.parent, modes)
    try:
        os.mkdir(path, modes.dirs)
    except FileExistsError:
        return
    os.chmod(path, modes.dirs)  # mkdir's mode is masked by the umask


def read_entry(path: Path) -> bytes | None:
    """The bytes of a cache file, or None. A symlink is not followed and only a regular
    file is read: a FIFO planted at an entry's path must not block the audit."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read()
    except OSError:
        return None
    finally:
        os.close(fd)


def _stamp_tree(h: Any, root: Path, suffixes: tuple[str, ...]) -> None:
    """Each file's path, size and modification time. An edited file gets a new stamp, as
    Python's own bytecode cache and the run memo (runmemo.py) assume; reading all 130
    files of xenlint on every run would cost a cached re-run a tenth of its time."""
    if not root.is_dir():
        return
    for p in sorted(root.rglob("*")):
        if p.suffix in suffixes and "__pycache__" not in p.parts:
            with contextlib.suppress(OSError):
                st = p.stat()
                if stat.S_ISREG(st.st_mode):
                    h.update(f"{p.relative_to(root).as_posix()}\0{st.st_size}\0"
                             f"{st.st_mtime_ns}\n".encode())


def ruleset_hash(rule_dirs: tuple[Path, ...] = ()) -> str:
    """A hash of everything that shapes a view or the rules run on it: xenlint's code,
    grammar and rule files, extra rule directories, and the contents facts capture.
    Computed once per process: the code that runs does not change under it."""
    return _ruleset_hash(tuple(rule_dirs), tuple(sorted(capture.patterns())))


@functools.cache
def _ruleset_hash(rule_dirs: tuple[Path, ...], patterns: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    pkg = Path(xenlint.__file__).parent
    _stamp_tree(h, pkg, (".py", ".lark", ".toml", ".json"))
    for extra in (pkg.parent / "rules", *rule_dirs):
        h.update(str(extra).encode() + b"\0")
        _stamp_tree(h, extra, (".toml", ".lark"))
    h.update("\0".join(patterns).encode())
    return h.hexdigest()


def salt_for(limits: Limits, rule_dirs: tuple[Path, ...] = ()) -> str:
    return f"{FORMAT}:{xenlint.__version__}:{ruleset_hash(rule_dirs)}:{limits!r}"


def atomic_write(path: Path, data: bytes | Callable[[IO[bytes]], object],
                 modes: Modes = PRIVATE) -> None:
    """Write `data` (bytes, or a function writing to the file) to a temporary file beside
    `path`, then rename it onto `path`."""
    import tempfile  # only a run that writes needs it

    make_dirs(path.parent, modes)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        os.fchmod(fd, modes.files)
        with os.fdopen(fd, "wb") as f:
            if isinstance(data, bytes):
                f.write(data)
            else:
                data(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Cache:
    def __init__(self, root: Path, salt: str, modes: Modes = PRIVATE) -> None:
        self.root = root
        self.salt = salt
        self.modes = modes

    def _file(self, sha256: str) -> Path:
        key = hashlib.sha256(f"{self.salt}\0{sha256}".encode()).hexdigest()
        return self.root / "views" / key[:2] / f"{key}{SUFFIX}"

    def get(self, sha256: str) -> tuple[Artifact | None, str] | None:
        """(view, the display path it was stored under), or None on a miss. A view that
        had a loader comes back with `codec.REOPEN`, for the caller to replace."""
        data = read_entry(self._file(sha256))
        try:
            return codec.decode_view(data) if data is not None else None
        except codec.Malformed:
            return None  # damaged, or not written by this xenlint: read the file again

    def put(self, sha256: str, display: str, art: Artifact | None) -> None:
        with contextlib.suppress(*UNWRITTEN):
            atomic_write(self._file(sha256), codec.encode_view(display, art), self.modes)

    def _blob(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:2] / f"{key}{SUFFIX}"

    def get_report(self, key: str) -> Report | None:
        data = read_entry(self._blob("reports", key))
        try:
            return codec.decode_report(data) if data is not None else None
        except codec.Malformed:
            return None

    def put_report(self, key: str, report: Report) -> None:
        with contextlib.suppress(*UNWRITTEN):
            atomic_write(self._blob("reports", key), codec.encode_report(report), self.modes)

    def _memo_key(self, tag: str, files: list[Path]) -> str:
        h = hashlib.sha256(f"{self.salt}\0{tag}".encode())
        for p in sorted(files):
            st = p.stat()
            h.update(f"\0{p}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}".encode())
        return h.hexdigest()

    def has_memo(self, tag: str, files: list[Path]) -> bool:
        """Whether `memo` holds a value for these files (it still computes one when the
        stored value turns out unreadable)."""
        try:
            return self._blob("indexes", self._memo_key(tag, files)).is_file()
        except OSError:
            return False

    def memo(self, tag: str, files: list[Path], compute: Callable[[], T],
             kind: codec.Codec[T]) -> T:
        """compute(), remembered while `files` (a repository's indexes) keep their size,
        mtime and inode: an unchanged Packages.xz is not parsed again. `kind` says how
        the value is stored."""
        path = self._blob("indexes", self._memo_key(tag, files))
        data = read_entry(path)
        if data is not None:
            with contextlib.suppress(codec.Malformed):
                return kind.decode(data)
        value = compute()
        with contextlib.suppress(*UNWRITTEN):
            # streamed: an archive's index parse packs to hundreds of megabytes, which
            # need not sit in memory beside the parse itself
            atomic_write(path, functools.partial(kind.encode, value), self.modes)
        return value


class StatIndex:
    """path -> sha256 of files whose stamp (size, mtime, ctime, inode, device) has not
    changed since xenlint hashed them. The stamp is the fstat of the descriptor that was
    hashed (worker.analyse), never a later stat of the path."""

    def __init__(self, root: Path | None, modes: Modes = PRIVATE) -> None:
        self.file = root / "stat-index.json" if root else None
        self.modes = modes
        self.data: dict[str, Any] = {}
        self.dirty = False
        if self.file is not None:
            raw = read_entry(self.file)
            try:
                data = json.loads(raw) if raw is not None else None
            except (ValueError, RecursionError):  # bad UTF-8 and deep nesting included
                data = None
            # anything but an object is a miss for every file, as an absent index is
            self.data = data if isinstance(data, dict) else {}

    def lookup(self, path: str) -> str | None:
        rec = self.data.get(os.path.abspath(path))
        try:
            st = os.stat(path)
        except OSError:
            return None
        stamp = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]
        if not (isinstance(rec, list) and len(rec) == 6 and rec[:5] == stamp
                and isinstance(rec[5], str) and _SHA256.fullmatch(rec[5])):
            return None
        return rec[5]

    def record(self, path: str, sha256: str, stamp: tuple[int, ...]) -> None:
        self.data[os.path.abspath(path)] = [*stamp, sha256]
        self.dirty = True

    def save(self) -> None:
        if self.file is not None and self.dirty:
            with contextlib.suppress(OSError):
                atomic_write(self.file, json.dumps(self.data).encode(), self.modes)

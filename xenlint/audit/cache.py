"""Per-artifact cache: frozen artifact views keyed by content hash, xenlint and rule set.

Layout under the cache root (`$XDG_CACHE_HOME/xenlint` or `~/.cache/xenlint` unless
`--cache-dir`): `views/<k[:2]>/<k>.pickle`, where k = sha256(salt + file sha256);
`indexes/`, parsed repository indexes by file stamps;
`reports/<k[:2]>/<k>.pickle`, the report of a package set whose inputs, options and
rules are unchanged (verdicts.key); and `stat-index.json`, which maps a file's (path,
size, mtime, inode) to its sha256 so an unchanged tree is not even hashed again.
Nothing is ever written outside the root.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import pickle
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar, cast

import xenlint
from xenlint import capture
from xenlint.artifact import Artifact
from xenlint.finding import Report
from xenlint.limits import Limits

FORMAT = "3"  # the pickled shape of a view and a report; a change makes old entries misses
T = TypeVar("T")
_SHA256 = re.compile("[0-9a-f]{64}")


def default_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "xenlint"


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


def atomic_write(path: Path, data: bytes | Callable[[IO[bytes]], object]) -> None:
    """Write `data` (bytes, or a function writing to the file) to a temporary file beside
    `path`, then rename it onto `path`."""
    import tempfile  # only a run that writes needs it

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
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
    def __init__(self, root: Path, salt: str) -> None:
        self.root = root
        self.salt = salt

    def _file(self, sha256: str) -> Path:
        key = hashlib.sha256(f"{self.salt}\0{sha256}".encode()).hexdigest()
        return self.root / "views" / key[:2] / f"{key}.pickle"

    def get(self, sha256: str) -> tuple[Artifact | None, str] | None:
        """(view, the display path it was stored under), or None on a miss."""
        try:
            with self._file(sha256).open("rb") as f:
                display, art = pickle.load(f)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, AttributeError,
                ImportError, TypeError):
            return None  # absent, or written by another xenlint: read the file again
        return art, display

    def _blob(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:2] / f"{key}.pickle"

    def get_blob(self, kind: str, key: str) -> Any:
        """A pickled value stored under `kind` ("reports", "indexes"), or None."""
        try:
            with self._blob(kind, key).open("rb") as f:
                return pickle.load(f)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, AttributeError,
                ImportError, TypeError):
            return None

    def put_blob(self, kind: str, key: str, value: Any) -> None:
        with contextlib.suppress(OSError, pickle.PicklingError, TypeError, AttributeError):
            # streamed: an archive's index parse pickles to a hundred megabytes, which
            # need not sit in memory beside the parse itself
            atomic_write(self._blob(kind, key),
                         functools.partial(pickle.dump, value, protocol=pickle.HIGHEST_PROTOCOL))

    def get_report(self, key: str) -> Report | None:
        report = self.get_blob("reports", key)
        return report if isinstance(report, Report) else None

    def put_report(self, key: str, report: Report) -> None:
        self.put_blob("reports", key, report)

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

    def memo(self, tag: str, files: list[Path], compute: Callable[[], T]) -> T:
        """compute(), remembered while `files` (a repository's indexes) keep their size,
        mtime and inode: an unchanged Packages.xz is not parsed again."""
        key = self._memo_key(tag, files)
        found = self.get_blob("indexes", key)
        if found is not None:
            return cast(T, found)
        value = compute()
        self.put_blob("indexes", key, value)
        return value

    def put(self, sha256: str, display: str, art: Artifact | None) -> None:
        # a cache that cannot be written only costs time
        with contextlib.suppress(OSError, pickle.PicklingError, TypeError, AttributeError):
            atomic_write(self._file(sha256),
                          pickle.dumps((display, art), protocol=pickle.HIGHEST_PROTOCOL))


class StatIndex:
    """path -> sha256 of files whose stamp (size, mtime, ctime, inode, device) has not
    changed since xenlint hashed them. The stamp is the fstat of the descriptor that was
    hashed (worker.analyse), never a later stat of the path."""

    def __init__(self, root: Path | None) -> None:
        self.file = root / "stat-index.json" if root else None
        self.data: dict[str, Any] = {}
        self.dirty = False
        if self.file is not None:
            try:
                data = json.loads(self.file.read_text())
            except (OSError, ValueError):
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
                atomic_write(self.file, json.dumps(self.data).encode())

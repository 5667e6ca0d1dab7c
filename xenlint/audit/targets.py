"""TARGET -> groups of work: a tree of packages, Debian/RPM repositories, an image file.

Each group is one package set. A repository's packages are opened only when they matter
for Xen (relevance.py) and some selected rule needs contents; the rest are judged from
their index entry alone.

Parsing a repository's indexes is the slow part of discovery (a 20,000-entry Packages file
takes seconds), and it needs no rule: `index_jobs` names those parses so that an audit can
run them in its worker pool, one per suite, while it loads the rules; `discover` then takes
their results in `parsed`.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xenlint.artifact import Artifact, Kind
from xenlint.audit import codec, debrepo, index, rpmrepo
from xenlint.audit.cache import Cache
from xenlint.audit.model import Group, WorkItem, not_regular
from xenlint.audit.relevance import relevant
from xenlint.facts import Paths
from xenlint.facts.pkgset import machine
from xenlint.limits import ArtifactError, Limits
from xenlint.readers import walk_files
from xenlint.readers.changes import open_upload
from xenlint.readers.directory import is_root_tree

OUTSIDE = "names a file outside the repository; not read"


def pool_problem(root: Path, path: str) -> str | None:
    """Why a file a repository's index names may not be read, or None. A symlink (at the
    end or on the way) could lead anywhere, /etc/shadow included; a FIFO would block the
    reader and a device is no package."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "is listed in the index but missing"
    except OSError as exc:
        return f"cannot be opened: {exc.strerror}"
    if stat.S_ISLNK(st.st_mode):
        return OUTSIDE
    real_root = os.path.realpath(root)
    if os.path.commonpath([real_root, os.path.realpath(path)]) != real_root:
        return OUTSIDE
    return not_regular(st.st_mode)


def _split(root: Path, name: str, label: str, arts: list[Artifact],
           open_contents: bool) -> Group:
    group = Group(name, label)
    chosen = relevant(arts) if open_contents else set()
    for i, art in enumerate(arts):
        if art.error is not None or i not in chosen:
            group.metadata.append(art)
        elif (problem := pool_problem(root, art.path)) is not None:
            group.metadata.append(Artifact(art.path, art.kind, error=problem))
        else:
            group.items.append(WorkItem(art.path, art.path, art.sha256, required=True))
    return group


def by_arch(name: str, label: str, arts: list[Artifact]) -> list[tuple[str, str, list[Artifact]]]:
    """A repository's entries as one package set per machine architecture (name, arch,
    entries): that architecture's packages and the all/noarch ones, as a host installs
    them. Entries that are no package (index errors) go with the first set. One set, with
    arch "", when the repository holds a single architecture."""
    machines = sorted({machine(a.package.architecture) for a in arts if a.package} - {""})
    if len(machines) < 2:
        return [(name, machines[0] if machines else "", arts)]
    out = []
    for k, arch in enumerate(machines):
        mine = [a for a in arts if (a.package is None and k == 0) or (
            a.package is not None and machine(a.package.architecture) in ("", arch))]
        out.append((f"{name}:{arch}", arch, mine))
    return out


def _index_error(name: str, where: Path, message: str, label: str | None = None) -> Group:
    return Group(name, label or name, metadata=[Artifact(str(where), Kind.FILE, error=message)])


@dataclass(frozen=True, slots=True)
class IndexJob:
    """One repository index parse: its memo tag, the files it reads, and the work itself
    (a picklable call, so that a worker process can run it). A big index is parsed in
    `pieces` that workers run side by side, and `join` makes their results one."""

    tag: str
    files: tuple[Path, ...]
    compute: Callable[[], Any]
    # how the cache stores the result
    stored: codec.Codec[Any]
    pieces: tuple[Callable[[], Any], ...] = ()
    join: Callable[[list[Any]], Any] | None = None

    def calls(self) -> tuple[Callable[[], Any], ...]:
        return self.pieces or (self.compute,)

    def timed(self, timeout: float, call: Callable[[], Any]) -> Callable[[], Any]:
        """`call` under the per-item `timeout` (0: none), as a package's read is: past it,
        an ArtifactError naming the index being parsed (index.timed)."""
        if not timeout:
            return call
        where = os.path.commonpath(self.files) if self.files else self.tag
        return functools.partial(index.timed, timeout, str(where), call)

    def result(self, results: list[Any]) -> Any:
        """The parse's result from those of `calls()`, in their order."""
        return self.join(results) if self.join is not None else results[0]


# Below this much compressed index, one piece ends first. While the main process loads
# the rules, a second piece shares a core with it, and every piece reads and splits the
# whole index: two pieces pay only when one piece takes longer than loading the rules.
# The threshold was measured at -j2 on two cores (bench/RESULTS.md).
SPLIT_BYTES = 48 * 1024


# tag -> the parse's result, obtained elsewhere (a worker); calling it may raise as the
# parse itself would, or ArtifactError when the process that ran it died
Parsed = Mapping[str, Callable[[], Any]]


def _memo(cache: Cache | None, job: IndexJob, parsed: Parsed | None,
          timeout: float = 0) -> Any:
    compute = (parsed or {}).get(job.tag) or job.timed(timeout, job.compute)
    if cache is None:
        return compute()
    return cache.memo(job.tag, list(job.files), compute, job.stored)


def _deb_jobs(root: Path, limits: Limits, pieces: int = 1,
              keep: Paths | None = None) -> list[tuple[Path, IndexJob]]:
    out = []
    for suite in debrepo.suites(root):
        files = tuple(p for p in suite.rglob("*") if p.is_file())
        job = IndexJob(f"deb\0{keep!r}\0{root}\0{suite}", files,
                       functools.partial(debrepo.read_suite, root, suite, limits, keep),
                       codec.SUITE)
        if pieces > 1 and sum(p.stat().st_size for p in files) >= SPLIT_BYTES:
            # each index and each Contents file is read by one piece only: a piece holds
            # its own share of the suite, never a copy of the whole
            job = dataclasses.replace(job, join=functools.partial(
                debrepo.join_parts, trimmed=keep is not None), pieces=(
                *(functools.partial(debrepo.read_part, root, suite, limits, k, n, index)
                  for k, n, index in debrepo.split(suite, pieces)),
                *(functools.partial(debrepo.contents_piece, p, limits, keep)
                  for p in debrepo.contents_files(suite))))
        out.append((suite, job))
    return out


def _rpm_job(root: Path, limits: Limits) -> IndexJob:
    """Raises OSError when repodata cannot be listed."""
    return IndexJob(f"rpm\0{root}",
                    tuple(p for p in (root / "repodata").iterdir() if p.is_file()),
                    functools.partial(rpmrepo.read_repo, root, limits), codec.RPM_REPO)


def index_jobs(target: str, limits: Limits, pieces: int = 1,
               keep: Paths | None = None) -> list[IndexJob]:
    """The index parses that `discover(target)` will need, when TARGET is a repository
    (a tree with repositories inside parses them as it meets them); a big Debian suite in
    pieces for `pieces` workers, keeping of Contents the paths `keep` covers."""
    root = Path(target)
    try:
        if not root.is_dir():
            return []
        if debrepo.is_deb_repo(root):
            return [job for _suite, job in _deb_jobs(root, limits, pieces, keep)]
        if rpmrepo.is_rpm_repo(root):
            return [_rpm_job(root, limits)]
    except OSError:
        pass  # discover() meets the same error and reports it
    return []


def deb_groups(root: Path, limits: Limits, open_contents: bool,
               cache: Cache | None = None, parsed: Parsed | None = None,
               keep: Paths | None = None, timeout: float = 0) -> list[Group]:
    groups = []
    for suite, job in _deb_jobs(root, limits, keep=keep):
        name = f"{root}:{suite.name}"
        try:
            arts, errors = _memo(cache, job, parsed, timeout)
        except ArtifactError as exc:  # the worker that parsed it died
            # labelled as a sound suite is, so that its overrides are found alike
            groups.append(_index_error(name, suite, f"has an unreadable index ({exc})",
                                       label=str(suite)))
            continue
        for k, (set_name, arch, mine) in enumerate(by_arch(name, str(suite), arts)):
            group = _split(root, set_name, str(suite), mine, open_contents)
            group.arch = arch
            if k == 0:
                group.metadata += [Artifact(str(suite), Kind.FILE, error=e) for e in errors
                                   if not isinstance(e, index.IndexWarning)]
                group.warnings += [e for e in errors if isinstance(e, index.IndexWarning)]
            groups.append(group)
    return groups


def rpm_groups(root: Path, limits: Limits, open_contents: bool,
               cache: Cache | None = None, parsed: Parsed | None = None,
               timeout: float = 0) -> list[Group]:
    name = str(root)
    try:
        arts = _memo(cache, _rpm_job(root, limits), parsed, timeout)
    except (ArtifactError, KeyError, OSError) as exc:
        return [_index_error(name, root / "repodata", f"has unreadable metadata ({exc})")]
    except Exception as exc:  # ParseError from a corrupt repomd.xml
        return [_index_error(name, root / "repodata",
                             f"has unreadable metadata ({type(exc).__name__}: {exc})")]
    out = []
    for set_name, arch, mine in by_arch(name, name, arts):
        group = _split(root, set_name, name, mine, open_contents)
        group.arch = arch
        out.append(group)
    return out


def repo_groups(root: Path, limits: Limits, open_contents: bool,
                cache: Cache | None = None, parsed: Parsed | None = None,
                keep: Paths | None = None, timeout: float = 0) -> list[Group] | None:
    if debrepo.is_deb_repo(root):
        return deb_groups(root, limits, open_contents, cache, parsed, keep, timeout)
    if rpmrepo.is_rpm_repo(root):
        return rpm_groups(root, limits, open_contents, cache, parsed, timeout)
    return None


def discover(target: str, limits: Limits, open_contents: bool = True,
             cache: Cache | None = None, parsed: Parsed | None = None,
             keep: Paths | None = None, timeout: float = 0) -> list[Group]:
    """The package sets under TARGET, in a stable order. With a cache, repository indexes
    that have not changed are not parsed again; `parsed` holds parses already run (see
    `index_jobs`). Of a Debian repository's Contents, only the paths `keep` covers are
    kept (all when None). Each index parse runs under the per-item `timeout`."""
    path = Path(target)
    if not path.exists():
        return [Group(target, target,
                      metadata=[Artifact(target, Kind.FILE, error="does not exist")])]
    if not path.is_dir():
        # the file a symlink given on the command line names (the worker follows none)
        return [_upload(path, target, limits) or
                Group(target, target, items=[WorkItem(os.path.realpath(target), target)])]
    found = repo_groups(path, limits, open_contents, cache, parsed, keep, timeout)
    if found is not None:
        return found
    if is_root_tree(path):
        # an unpacked root filesystem is one artifact, as `check` reads it
        return [Group(target, target, items=[WorkItem(target, target)])]
    return _tree(path, target, limits, open_contents, cache, keep, timeout)


def _upload(path: Path, target: str, limits: Limits) -> Group | None:
    """A .changes: the files it lists, verified here (their sha256 is then known), as one
    package set; the files that fail verification as read errors. None for any other file."""
    found = open_upload(path, target, limits)
    if found is None:
        return None
    verified, errors = found
    return Group(target, target, metadata=errors, items=[
        WorkItem(os.path.realpath(v.path), v.display, v.sha256, required=False)
        for v in verified])


def _tree(root: Path, display: str, limits: Limits, open_contents: bool,
          cache: Cache | None, keep: Paths | None, timeout: float = 0) -> list[Group]:
    """Loose files form one package set (as `check DIR` does); repositories found inside
    the tree are package sets of their own."""
    loose = Group(display, display)
    groups = [loose]

    def repository(here: Path) -> bool:
        inner = repo_groups(here, limits, open_contents, cache, keep=keep, timeout=timeout)
        if inner is not None:
            groups.extend(inner)
        return inner is not None

    for fpath, problem in walk_files(root, repository):
        if problem is not None:
            loose.metadata.append(Artifact(str(fpath), Kind.FILE, error=problem))
        else:
            # the same display path `check DIR` gives, so findings compare equal
            loose.items.append(WorkItem(str(fpath), str(fpath), required=False))
    return [g for g in groups if g.size or g is loose]

"""Repository context (`--with-repo PATH`): packages known from a repository's indexes that
join a package set as header-only context.

PATH is a Debian suite (`dists/<suite>`, or a repository root with `dists/`), a `Packages`
file (with `Contents-<arch>` beside it), an apt lists directory (`/var/lib/apt/lists`), or
an RPM repository (`repodata/repomd.xml`). The indexes are read with the audit's readers
(debrepo.py, rpmrepo.py). A context package can satisfy a relation and ship a path (from
Contents or filelists); it is never opened, never a subject, never reported.

Of a whole archive, a package set can reach only a few hundred packages through its
relations. Only those are kept, and only their file lists are read from Contents or
filelists: an archive's file lists would otherwise take gigabytes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from xenlint.artifact import Artifact
from xenlint.audit import debrepo, rpmrepo
from xenlint.audit.index import IndexWarning, lines
from xenlint.facts.artifact import relation_names
from xenlint.facts.pkgset import DEFAULT, parse_relation
from xenlint.limits import ArtifactError, Limits

# apt names a list after its URI: `<host>_<path>_dists_<suite>_<component>_binary-<arch>_
# Packages` and `..._<component>_Contents-<arch>` (apt-file), maybe compressed
_APT_PACKAGES = re.compile(rf"^(.+?)(?:_binary-([\w-]+))?_Packages{debrepo.COMPRESSED}$")
_APT_CONTENTS = re.compile(rf"^(.+?)_Contents-(?!udeb)([\w-]+?){debrepo.COMPRESSED}$")
_PACKAGES_FILE = re.compile(rf"^Packages{debrepo.COMPRESSED}$")

WHAT = ("a Debian suite (dists/<suite>), a Packages file, an apt lists directory or an RPM "
        "repository (repodata/repomd.xml)")


class ContextError(Exception):
    """A --with-repo PATH that names no repository xenlint reads."""


@dataclass(slots=True)
class DebIndexes:
    """Packages files, and the Contents files that list their packages' files."""

    root: Path  # what the paragraphs' Filename is relative to
    packages: list[Path]
    contents: list[Path]


@dataclass(slots=True)
class _Deb:
    given: str  # the --with-repo PATH
    indexes: DebIndexes


@dataclass(slots=True)
class _Rpm:
    given: str
    idx: dict[str, Path]
    by_id: dict[str, Artifact]


@dataclass(slots=True)
class _Node:
    """What finding the reachable packages needs of one context package. A Debian
    paragraph is parsed in full (`art`) only once some package set reaches it."""

    name: str
    arch: str
    # Multi-Arch foreign or allowed: may satisfy a relation of another architecture
    foreign: bool
    flavor: str
    provides: tuple[str, ...]
    # Depends-like relation items, as written
    needs: tuple[str, ...]
    art: Artifact | None = None
    # a Debian paragraph: (index in Context._deb, ordinal in its Packages files)
    where: tuple[int, int] = (-1, -1)


# the fields of a Packages paragraph that reach asks about, folded
_LIGHT = {"package", "architecture", "multi-arch", "provides", "filename", "pre-depends",
          "depends", "recommends"}
_NO_ARCH = ("all", "noarch")
# Artifact.meta.index of a package whose index gives no file list (debrepo, rpmrepo)
UNLISTED = ("Packages", "primary")


def _light(lines_of: list[bytes]) -> dict[str, str]:
    """The _LIGHT fields of a paragraph, without python-debian's full parse: a first pass
    over an archive of 60,000 paragraphs, of which a package set reaches a few hundred."""
    out: dict[str, str] = {}
    key: str | None = None
    for line in lines_of:
        if line[:1] in (b" ", b"\t"):
            if key is not None:
                out[key] += " " + line.strip().decode("utf-8", "replace")
            continue
        name, _sep, value = line.partition(b":")
        key = name.decode("latin-1").strip().lower()
        if key in _LIGHT:
            out[key] = value.strip().decode("utf-8", "replace")
        else:
            key = None
    return out


def _items(text: str) -> tuple[str, ...]:
    return tuple(i.strip() for i in text.split(",") if i.strip())


def _arch_of(contents: Path) -> str:
    m = debrepo.CONTENTS_RE.match(contents.name) or _APT_CONTENTS.match(contents.name)
    return m.groups()[-1] if m else ""


def _beside(packages: Path) -> list[Path]:
    """Contents files for one Packages file: beside it, and in an archive's layout
    (`<suite>/<component>/binary-<arch>/Packages`) those of its architecture (and `all`)
    in the component and suite directories."""
    here = packages.parent
    found = [p for p in sorted(here.glob("Contents-*")) if debrepo.CONTENTS_RE.match(p.name)]
    if here.name.startswith("binary-"):
        arch = here.name[len("binary-"):]
        for d in (here.parent, here.parent.parent):
            found += [p for p in sorted(d.glob("Contents-*"))
                      if debrepo.CONTENTS_RE.match(p.name) and _arch_of(p) in (arch, "all")]
    return _first_per_arch(found)


def _first_per_arch(files: Iterable[Path]) -> list[Path]:
    """One file per directory and architecture: the first compression found."""
    chosen: dict[tuple[Path, str], Path] = {}
    for p in files:
        chosen.setdefault((p.parent, _arch_of(p)), p)
    return list(chosen.values())


def apt_lists(directory: Path) -> list[DebIndexes]:
    """An apt lists directory: one DebIndexes per list of packages, with the Contents lists
    (apt-file's) of the same source, component and architecture (and `all`)."""
    names = sorted(p.name for p in directory.iterdir() if p.is_file())
    contents: list[tuple[str, str, Path]] = []
    for n in names:
        m = _APT_CONTENTS.match(n)
        if m:
            contents.append((m.group(1), m.group(2), directory / n))
    out: list[DebIndexes] = []
    seen: set[tuple[str, str]] = set()
    for n in names:
        m = _APT_PACKAGES.match(n)
        if m is None or (m.group(1), m.group(2) or "") in seen:
            continue  # another compression of a list already taken
        prefix, arch = m.group(1), m.group(2) or ""
        seen.add((prefix, arch))
        mine = [p for cprefix, carch, p in contents
                if (prefix == cprefix or prefix.startswith(cprefix + "_"))
                and (not arch or carch in (arch, "all"))]
        out.append(DebIndexes(directory, [directory / n], _first_per_arch(mine)))
    return out


def locate(path: Path) -> tuple[list[DebIndexes], Path | None]:
    """(Debian indexes, RPM repository root) that PATH names; ContextError if none."""
    if path.is_file():
        if path.name == "repomd.xml" and path.parent.name == "repodata":
            return [], path.parent.parent
        if _PACKAGES_FILE.match(path.name):
            return [DebIndexes(path.parent, [path], _beside(path))], None
    elif path.is_dir():
        if rpmrepo.is_rpm_repo(path):
            return [], path
        if path.name == "repodata" and (path / "repomd.xml").is_file():
            return [], path.parent
        if debrepo.is_deb_repo(path):
            return [DebIndexes(path, debrepo.indexes(s), debrepo.contents_files(s))
                    for s in debrepo.suites(path)], None
        if debrepo.has_index(path):
            # dists/<suite>: Filename is relative to the directory above dists/
            return [DebIndexes(path.parent.parent, debrepo.indexes(path),
                               debrepo.contents_files(path))], None
        found = apt_lists(path)
        if found:
            return found, None
    elif not path.exists():
        raise ContextError("does not exist")
    raise ContextError(f"is not {WHAT}")


@dataclass(slots=True)
class Context:
    """The packages of every --with-repo repository, known first by what finding the
    reachable ones needs (_Node). `for_sets` picks, for each package set, the context
    packages its relations can reach, and reads those in full, file lists included."""

    limits: Limits
    # (the --with-repo PATH, one line): unreadable repositories and index entries
    errors: list[tuple[str, str]] = field(default_factory=list)
    # what was read all the same, though not as written (index text that is not UTF-8),
    # of the packages some set reached
    warnings: list[str] = field(default_factory=list)
    nodes: list[_Node] = field(default_factory=list)
    _deb: list[_Deb] = field(default_factory=list)
    _rpm: list[_Rpm] = field(default_factory=list)
    # every name a context package is or provides -> indices into `nodes`
    _by_name: dict[str, list[int]] = field(default_factory=dict)
    # RPM file dependencies: path -> nodes whose primary file list names it (on demand)
    _by_path: dict[str, list[int]] | None = None
    # indices of the nodes already read in full
    _done: set[int] = field(default_factory=set)

    @classmethod
    def load(cls, paths: Sequence[str | Path], limits: Limits) -> Context:
        ctx = cls(limits)
        for given in paths:
            ctx._load(str(given))
        for i, node in enumerate(ctx.nodes):
            for name in {node.name, *node.provides}:
                ctx._by_name.setdefault(name, []).append(i)
        return ctx

    def _error(self, given: str, message: str) -> None:
        if (given, message) not in self.errors:  # the second pass meets it again
            self.errors.append((given, message))

    def _warn(self, message: str) -> None:
        if message not in self.warnings:  # each package set's reading may meet it
            self.warnings.append(str(message))

    def _load(self, given: str) -> None:
        try:
            debs, rpm_root = locate(Path(given))
            for d in debs:
                self._scan(given, d)
            if rpm_root is not None:
                self._load_rpm(given, rpm_root)
        except ContextError as exc:
            self._error(given, str(exc))
        except OSError as exc:
            self._error(given, f"cannot be read: {exc.strerror or exc}")
        except Exception as exc:  # ParseError from a corrupt repomd.xml or primary.xml
            if os.environ.get("XENLINT_DEBUG"):
                raise
            self._error(given, f"has an unreadable index ({type(exc).__name__}: {exc})")

    def _scan(self, given: str, d: DebIndexes) -> None:
        """Nodes of the paragraphs of Debian Packages files, numbered as
        debrepo.read_indexes numbers them."""
        k = len(self._deb)
        self._deb.append(_Deb(given, d))
        ordinal = 0
        for index in d.packages:
            try:
                for lines_of in debrepo.paragraphs(lines(index, self.limits), self.limits,
                                                    str(index)):
                    n, ordinal = ordinal, ordinal + 1
                    f = _light(lines_of)
                    if not f.get("filename") or not f.get("package"):
                        continue  # read_indexes skips it, or says what is wrong
                    self.nodes.append(_Node(
                        f["package"], f.get("architecture", ""),
                        f.get("multi-arch", "") in ("foreign", "allowed"), "deb",
                        tuple(relation_names(list(_items(f.get("provides", ""))))),
                        _items(", ".join(f[r] for r in ("pre-depends", "depends", "recommends")
                                         if r in f)),
                        where=(k, n)))
            except ArtifactError as exc:
                self._error(given, f"has an unreadable index ({exc})")

    def _load_rpm(self, given: str, root: Path) -> None:
        idx = rpmrepo.index_files(root, self.limits)
        if "primary" not in idx:
            raise ContextError("has no primary index in repodata/repomd.xml")
        by_id = rpmrepo.read_primary(root, idx, self.limits)
        self._rpm.append(_Rpm(given, idx, by_id))
        for art in by_id.values():
            pkg = art.package
            if art.error is not None or pkg is None:
                self._error(given, f"{art.path}: {art.error}")
                continue
            self.nodes.append(_Node(
                pkg.name, pkg.architecture, False, "rpm",
                tuple(alt.name for prov in pkg.provides for alt in parse_relation(prov, "rpm")),
                tuple(r for f in DEFAULT for r in getattr(pkg, f)), art))

    def for_set(self, artifacts: Sequence[Artifact]) -> list[Artifact]:
        return self.for_sets([artifacts])[0]

    def for_sets(self, sets: Sequence[Sequence[Artifact]]) -> list[list[Artifact]]:
        """For each package set, the context packages its relations reach (in context
        order), read in full with their file lists. A context package of the name and
        architecture of one of the set's own packages is left out: the set's package
        replaces it. So is one whose repository lists no files for it (no Contents, no
        filelists): it would look like a package that ships nothing, where what it ships
        is unknown; left out, it is absent, and what depends on it stays unknown."""
        reached = [self._reach(arts) for arts in sets]
        self._read(set().union(*reached) - self._done)
        return [[art for i in sorted(found) if (art := self.nodes[i].art) is not None and
                 art.meta.index not in UNLISTED] for found in reached]

    def _reach(self, arts: Sequence[Artifact]) -> set[int]:
        """Nodes the set's Depends-like relations reach, transitively, by name alone:
        a superset of what satisfies them. A package of one architecture reaches those of
        the set's architectures, `all`/`noarch` ones, and Multi-Arch foreign ones."""
        mine = [a.package for a in arts if a.package is not None and not a.error]
        own = {(p.name, p.architecture) for p in mine}
        native = {p.architecture for p in mine} - {"", *_NO_ARCH}
        found: set[int] = set()
        todo = [(p.flavor, tuple(r for f in DEFAULT for r in getattr(p, f))) for p in mine]
        while todo:
            flavor, needs = todo.pop()
            for i in self._named(flavor, needs):
                node = self.nodes[i]
                if i in found or (node.name, node.arch) in own:
                    continue
                if native and not (node.arch in native or node.arch in _NO_ARCH or
                                   node.foreign):
                    continue
                found.add(i)
                todo.append((node.flavor, node.needs))
        return found

    def _named(self, flavor: str, relations: Iterable[str]) -> Iterator[int]:
        """Nodes of `flavor` that are, provide or (RPM file dependencies) ship a name the
        relations mention, whatever the version."""
        names = relation_names(list(relations)) if flavor == "deb" else \
            {alt.name for rel in relations for alt in parse_relation(rel, flavor)}
        for name in names:
            for i in self._shipping(name) if name.startswith("/") else \
                    self._by_name.get(name, ()):
                if self.nodes[i].flavor == flavor:
                    yield i

    def _shipping(self, path: str) -> list[int]:
        if self._by_path is None:
            index: dict[str, list[int]] = {}
            for i, node in enumerate(self.nodes):
                for p in node.art.entries if node.art is not None else ():
                    index.setdefault(p, []).append(i)
            self._by_path = index
        return self._by_path.get(path, [])

    def _read(self, wanted: set[int]) -> None:
        """Read the nodes `wanted` in full: their paragraphs, and their file lists from
        Contents or filelists."""
        if not wanted:
            return
        by_deb: dict[int, dict[int, int]] = {}  # index in _deb -> ordinal -> node
        for i in wanted:
            k, n = self.nodes[i].where
            if k >= 0:
                by_deb.setdefault(k, {})[n] = i
        read = [(self._deb[k], self._read_deb(self._deb[k], ordinals))
                for k, ordinals in by_deb.items()]
        self._list_deb(read)
        rpm_ids = {id(self.nodes[i].art) for i in wanted if self.nodes[i].flavor == "rpm"}
        for rpm in self._rpm:
            ids = {pkgid for pkgid, a in rpm.by_id.items() if id(a) in rpm_ids}
            if not ids:
                continue
            try:
                rpmrepo.add_filelists(rpm.idx, rpm.by_id, self.limits, ids)
            except Exception as exc:  # ArtifactError, or ParseError of a corrupt XML
                if os.environ.get("XENLINT_DEBUG"):
                    raise
                self._error(rpm.given, f"has an unreadable filelists index "
                                       f"({type(exc).__name__}: {exc})")
        self._done |= wanted

    def _read_deb(self, deb: _Deb, ordinals: dict[int, int]) -> list[Artifact]:
        """The paragraphs of the nodes at `ordinals`, parsed in full."""
        d = deb.indexes
        records, errors = debrepo.read_indexes(d.root, d.packages, self.limits,
                                               only=ordinals.keys())
        for e in errors:
            if isinstance(e, IndexWarning):  # readable all the same
                self._warn(e)
            else:
                self._error(deb.given, f"has an unreadable index ({e})")
        arts: list[Artifact] = []
        for n, _filename, outcome in records:
            if isinstance(outcome, str):
                self._error(deb.given, outcome)
            elif outcome.package is not None:
                self.nodes[ordinals[n]].art = outcome
                arts.append(outcome)
        return arts

    def _list_deb(self, read: list[tuple[_Deb, list[Artifact]]]) -> None:
        """File lists from Contents, each file read once (apt's lists share Contents-all
        between architectures)."""
        wanted: dict[Path, set[str]] = {}
        for deb, arts in read:
            for c in deb.indexes.contents:
                wanted.setdefault(c, set()).update(a.package.name for a in arts if a.package)
        found: dict[Path, dict[str, list[str]]] = {}
        for c, names in wanted.items():
            warnings: list[str] = []
            try:
                found[c] = debrepo.read_contents([c], self.limits, names, warnings)
                for w in warnings:
                    self._warn(w)
            except ArtifactError as exc:  # the packages stay, without file lists
                given = next(d.given for d, _a in read if c in d.indexes.contents)
                self._error(given, f"has an unreadable Contents index ({exc})")
        for deb, arts in read:
            for art in arts:
                assert art.package is not None
                debrepo.add_files(art, [f for c in deb.indexes.contents
                                        if debrepo.lists(c, art)
                                        for f in found.get(c, {}).get(art.package.name, ())])


def stamp(paths: Sequence[str | Path]) -> str:
    """The path, size, inode and change times of every index the --with-repo PATHs name:
    what a cached verdict that used them depends on."""
    out = []
    for given in paths:
        try:
            debs, rpm_root = locate(Path(given))
            files = [f for d in debs for f in (*d.packages, *d.contents)]
            if rpm_root is not None:
                files += sorted((rpm_root / "repodata").iterdir())
            for f in files:
                st = f.stat()
                out.append(f"{f}\0{st.st_size}\0{st.st_ino}\0{st.st_mtime_ns}\0"
                           f"{st.st_ctime_ns}")
        except (ContextError, OSError) as exc:
            out.append(f"{given}\0{exc}")
    return "\n".join(out)

"""Package-set reasoning shared by the domain facts: relations, Provides, closures, who ships what.

Relations are parsed in the package's own syntax: Debian with python-debian
(`foo (>= 1) | bar`, arch qualifiers), RPM as `name [op evr]` (sonames and rich names kept
whole). A relation is satisfied within the run only: a package of the run that is, or
Provides, the named thing in a version that meets the constraint, for the architecture of
the package asking (its own or all/noarch; Debian's Multi-Arch and `:any`/`:native`, RPM's
`(x86-64)` ISA qualifiers honoured).

A relation item no package of the run satisfies names *absent* packages. The run does not
say what they ship: a fact that absent packages could change names them (`require`), and
xenlint/data/package-sets.toml says which absent packages could change which answer.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TypeVar, cast

from debian.deb822 import PkgRelation

from xenlint.artifact import Artifact, Entry, EntryType, Kind
from xenlint.facts import Absent, Paths, Run
from xenlint.lang.versions import debian_compare, rpm_compare
from xenlint.limits import MAX_SYMLINK_HOPS, resolve_link

# Depends-like fields that pull a package in on a default install (Recommends included:
# apt and dnf install them unless told not to).
HARD = ("pre_depends", "depends")
DEFAULT = ("pre_depends", "depends", "recommends")

_RPM_REL = re.compile(r"^\s*(\S+)(?:\s+(<=|>=|<|>|=)\s+(\S+))?\s*$")
T = TypeVar("T")
_OPS = {"<<": "<", ">>": ">", "<=": "<=", ">=": ">=", "=": "=", "<": "<=", ">": ">="}


@cache
def _policy() -> dict[str, object]:
    # beside the package, like the checklist: read once per process
    path = Path(__file__).parent.parent / "data" / "package-sets.toml"
    return tomllib.loads(path.read_text("utf-8"))


@cache
def _machines() -> dict[str, str]:
    table = cast(dict[str, list[str]], _policy()["architectures"])
    return {spelling: name for name, spellings in table.items() for spelling in spellings}


def machine(arch: str) -> str:
    """The machine an architecture name means, in Debian's spelling ("x86_64" -> "amd64");
    "" for all/noarch (and for a package that names none): it installs on every machine."""
    if not arch or arch in cast(list[str], _policy()["neutral"]):
        return ""
    return _machines().get(arch, arch)


_RPM_ISA = re.compile(r"\(([a-z0-9]+-(?:32|64))\)$")


def could_carry(name: str, evidence: str) -> bool:
    """Whether an absent relation target called `name` could ship the files of `evidence`
    (a kind under [carriers] in xenlint/data/package-sets.toml)."""
    patterns = cast(dict[str, list[str]], _policy()["carriers"])[evidence]
    base = name.split("(", 1)[0]  # an RPM capability: libxenlight.so.4.17()(64bit)
    taken = False
    for pattern in patterns:
        if pattern.startswith("!"):
            if fnmatch.fnmatchcase(base, pattern[1:]):
                return False
        elif fnmatch.fnmatchcase(base, pattern):
            taken = True
    return taken


@dataclass(frozen=True, slots=True)
class Alt:
    """One alternative of a relation: a name, an optional (op, version) constraint, and
    the architecture qualifier (Debian's `any`, `native` or an architecture; the machine
    of an RPM ISA qualifier), if any."""

    name: str
    op: str | None = None
    version: str | None = None
    qualifier: str | None = None


def parse_relation(text: str, flavor: str) -> list[Alt]:
    """One relation item (`a (>= 1) | b`) -> its alternatives."""
    if flavor == "rpm":
        if text.lstrip().startswith("("):  # rich dependency: keep names, drop the logic
            names = re.findall(r"[A-Za-z0-9_][^\s()]*(?:\([^)]*\))*", text)
            return [Alt(n) for n in names if n not in ("if", "else", "and", "or", "with",
                                                       "without", "unless")]
        m = _RPM_REL.match(text)
        if not m:
            return [Alt(text.strip())]
        isa = _RPM_ISA.search(m.group(1))
        return [Alt(m.group(1), m.group(2), m.group(3),
                    machine(isa.group(1)) if isa else None)]
    alts: list[Alt] = []
    for group in PkgRelation.parse_relations(text):
        for rel in group:
            ver = rel.get("version")
            alts.append(Alt(rel["name"], _OPS.get(ver[0], ver[0]) if ver else None,
                            ver[1] if ver else None, rel.get("archqual")))
    return alts


def multi_arch(art: Artifact) -> str:
    """A Debian package's Multi-Arch field (same, foreign, allowed), lower-case; "" if none."""
    pkg = art.package
    if pkg is None:
        return ""
    for key, value in pkg.fields.items():
        if key.lower() == "multi-arch":
            return value.strip().lower()
    return ""


def arch_fits(dep: Artifact, want: str, qualifier: str | None, flavor: str) -> bool:
    """Whether `dep` may satisfy a relation item of a package of machine `want` ("" for an
    all/noarch package: any machine will do), written with `qualifier`."""
    assert dep.package is not None
    have = machine(dep.package.architecture)
    if not have or not want:
        return True
    if flavor == "rpm":  # an ISA qualifier names the machine; otherwise the asker's
        return have == (qualifier or want)
    if qualifier is None or qualifier == "native":
        return have == want or (qualifier is None and multi_arch(dep) == "foreign")
    if qualifier == "any":
        return have == want or multi_arch(dep) in ("foreign", "allowed")
    return have == machine(qualifier)


def _cmp(flavor: str, a: str, b: str) -> int:
    try:
        return debian_compare(a, b) if flavor == "deb" else rpm_compare(a, b)
    except ValueError:
        return 0 if a == b else (1 if a > b else -1)


def version_ok(flavor: str, have: str | None, op: str | None, want: str | None) -> bool:
    if op is None or want is None:
        return True
    if have is None:  # an unversioned Provides satisfies no versioned relation
        return False
    c = _cmp(flavor, have, want)
    return {"<": c < 0, "<=": c <= 0, "=": c == 0, ">=": c >= 0, ">": c > 0}[op]


def full_version(art: Artifact) -> str:
    pkg = art.package
    assert pkg is not None
    if pkg.flavor == "rpm":
        evr = f"{pkg.version}-{pkg.release}" if pkg.release else pkg.version
        return f"{pkg.epoch}:{evr}" if pkg.epoch else evr
    return pkg.version


@dataclass(slots=True)
class PackageSet:
    """The packages of one run, the context packages included (Run.context), indexed by
    every name they are or provide, and by path."""

    packages: list[Artifact]
    by_name: dict[str, list[tuple[Artifact, str | None]]] = field(default_factory=dict)
    # packages by every path they ship but directories: made when an RPM file dependency
    # first asks (shipper()), since indexing every path of a set costs as much as the rest
    _shipper: dict[str, list[Artifact]] | None = field(default=None, init=False, repr=False)
    # per-run results that every package's facts would otherwise recompute
    memo: dict[str, object] = field(default_factory=dict)
    # closure() by (start package, relation fields): a toolstack's facts ask it a dozen times,
    # with the names of the relation targets it met that the set does not hold
    closures: dict[tuple[int, tuple[str, ...]], tuple[list[Artifact], tuple[str, ...]]] = \
        field(default_factory=dict)
    # listing() by id of a package; `packages` keeps them alive, so an id is never reused
    listings: dict[int, Listing] = field(default_factory=dict)
    # ids of `packages`
    members: set[int] = field(default_factory=set)
    # ids of the context packages among them (Run.context)
    context: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, run: Run) -> PackageSet:
        if run.package_set is not None:
            return run.package_set
        ps = cls([*run.packages, *run.context])
        ps.members = {id(a) for a in ps.packages}
        ps.context = {id(a) for a in run.context}
        for art in ps.packages:
            pkg = art.package
            assert pkg is not None
            ps.by_name.setdefault(pkg.name, []).append((art, full_version(art)))
            for prov in pkg.provides:
                for alt in parse_relation(prov, pkg.flavor):
                    ps.by_name.setdefault(alt.name, []).append((art, alt.version))
        run.package_set = ps
        return ps

    def remember(self, key: str, make: Callable[[], T]) -> T:
        """A per-run value that every package's facts would otherwise recompute, made
        on first use."""
        if key not in self.memo:
            self.memo[key] = make()
        return cast(T, self.memo[key])

    def shipper(self, path: str) -> list[Artifact]:
        """The set's packages that ship `path` (anything but a directory), in set order."""
        if self._shipper is None:
            index: dict[str, list[Artifact]] = {}
            for art, shipped in files_of(self.packages):
                index.setdefault(shipped, []).append(art)
            self._shipper = index
        return self._shipper.get(path, [])

    def listing(self, art: Artifact) -> Listing | None:
        """The package's listing, made once per run; None for an artifact that is not one
        of the set's packages (its entries may still change)."""
        if id(art) not in self.members:
            return None
        found = self.listings.get(id(art))
        if found is None:
            found = self.listings[id(art)] = Listing.of(art)
        return found

    def satisfiers(self, relation: str, flavor: str, arch: str = "") -> list[Artifact]:
        """Packages of the set that satisfy one relation item (any of its alternatives)
        asked by a package of architecture `arch` ("" or all/noarch: any will do).

        Only packages of the same flavor count: a .deb never satisfies an RPM Requires."""
        out: list[Artifact] = []
        want = machine(arch)
        for alt in parse_relation(relation, flavor):
            if alt.name.startswith("/"):  # RPM file dependency
                cands: list[tuple[Artifact, str | None]] = [
                    (a, None) for a in self.shipper(alt.name)]
            else:
                cands = self.by_name.get(alt.name, [])
            for art, have in cands:
                if art.package is None or art.package.flavor != flavor or art in out:
                    continue
                if not arch_fits(art, want, alt.qualifier, flavor):
                    continue
                if alt.name.startswith("/") or version_ok(flavor, have, alt.op, alt.version):
                    out.append(art)
        return out

    def closure(self, start: Artifact, fields: Iterable[str] = DEFAULT) -> list[Artifact]:
        """`start` and every package of the set its relations reach, transitively."""
        return list(self._closed(start, tuple(fields))[0])

    def absent(self, start: Artifact, fields: Iterable[str] = DEFAULT) -> tuple[str, ...]:
        """Names of the relation targets met on the way of `closure` that no package of
        the set is or provides for the asker's architecture (every such alternative of an
        unsatisfied item), in the order met."""
        return self._closed(start, tuple(fields))[1]

    def absent_carriers(self, start: Artifact, evidence: str,
                        fields: Iterable[str] = DEFAULT) -> list[str]:
        """The absent relation targets of `start`'s closure that could ship `evidence`."""
        return [n for n in self.absent(start, fields) if could_carry(n, evidence)]

    def require(self, start: Artifact, evidence: str, reason: str,
                fields: Iterable[str] = DEFAULT) -> None:
        """Raise Absent when relation targets absent from the run could ship `evidence`:
        the answer then depends on them. `reason` is completed with their names."""
        found = self.absent_carriers(start, evidence, fields)
        if found:
            names = ", ".join(found)
            verb = "is" if len(found) == 1 else "are"
            raise Absent(f"{names} {verb} not in the run and could ship {reason}", found)

    def _absent_alternatives(self, relation: str, flavor: str, arch: str) -> list[str]:
        """The names of an unsatisfied relation item that no package of the set is (or
        provides) for `arch`: a package the set holds in another version is not absent,
        the relation just fails. A context package (--with-repo) in another version does
        not count: the version needed is then one the repository does not show."""
        want = machine(arch)
        out = []
        for alt in parse_relation(relation, flavor):
            cands = self.shipper(alt.name) if alt.name.startswith("/") else \
                [a for a, _v in self.by_name.get(alt.name, [])]
            if not any(a.package is not None and a.package.flavor == flavor
                       and id(a) not in self.context
                       and arch_fits(a, want, alt.qualifier, flavor) for a in cands):
                out.append(alt.name)
        return out

    def _closed(self, start: Artifact, fields: tuple[str, ...]
                ) -> tuple[list[Artifact], tuple[str, ...]]:
        key = (id(start), fields)
        if key not in self.closures:
            self.closures[key] = self._reach(start, fields)
        return self.closures[key]

    def _reach(self, start: Artifact, fields: tuple[str, ...]
               ) -> tuple[list[Artifact], tuple[str, ...]]:
        seen: list[Artifact] = [start]
        missing: dict[str, None] = {}
        todo = [start]
        while todo:
            art = todo.pop()
            pkg = art.package
            if pkg is None:
                continue
            for fname in fields:
                for rel in getattr(pkg, fname):
                    deps = self.satisfiers(rel, pkg.flavor, pkg.architecture)
                    # an installed root's database lists all it has: a target it lacks is
                    # not installed, which is known, not absent from the run
                    if not deps and art.kind is not Kind.INSTALLED:
                        for alt in self._absent_alternatives(rel, pkg.flavor,
                                                             pkg.architecture):
                            missing.setdefault(alt)
                    for dep in deps:
                        if dep not in seen:
                            seen.append(dep)
                            todo.append(dep)
        return seen, tuple(missing)


def files_of(arts: Iterable[Artifact]) -> Iterator[tuple[Artifact, str]]:
    for art in arts:
        for path, entry in art.entries.items():
            if entry.type is not EntryType.DIRECTORY:
                yield art, path


def path_status(arts: Iterable[Artifact], path: str) -> bool | None:
    """Whether `path` leads to a file once the packages `arts` are installed together.

    Symlinks are followed, at the path itself and at any directory on the way (Fedora's
    /usr/lib/xen/bin/qemu-system-i386 -> /usr/bin/qemu-system-i386). True: a file is
    reached. False: nothing is there. None: a symlink leads out of the given packages (its
    target may come from a package that was not given), so the answer is unknown; likewise
    when some package is known only from a repository index without file lists (an audit of
    a Debian repository without Contents, or an RPM repository without filelists).
    """
    arts = list(arts)
    unlisted = any(a.meta.metadata_only and a.meta.index in ("Packages", "primary")
                   for a in arts)
    entries: dict[str, Entry] = {}
    for art in arts:
        for p, e in art.entries.items():
            entries.setdefault(p, e)
    current = path
    for _ in range(MAX_SYMLINK_HOPS):
        parts = current.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            prefix = "/" + "/".join(parts[:i])
            entry = entries.get(prefix)
            if entry is None:
                if i < len(parts):
                    continue  # a directory the packages do not list (RPMs often omit them)
                # nothing here; a symlink met on the way may point outside the set
                return None if current != path or unlisted else False
            if entry.type is EntryType.SYMLINK and entry.link_target:
                rest = "/".join(parts[i:])
                target = resolve_link(prefix, entry.link_target)
                current = f"{target}/{rest}" if rest else target
                break
        else:
            return entries[current].type is not EntryType.DIRECTORY
    return False  # a symlink loop never reaches a file


BIN_DIRS = ("/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/", "/usr/local/bin/", "/usr/local/sbin/")
# What the helpers below look at, for the facts that use them to declare (facts.Paths):
# commands() the bin directories, real_binaries() those and Xen's private bin directories,
# hypervisor_files() /boot/xen*.
COMMAND_PATHS = Paths(under=BIN_DIRS)
XL_PATHS = Paths(under=BIN_DIRS, containing=("/xen",))
HYPERVISOR_PATHS = Paths(under=("/boot/xen",))


_XEN_BIN_DIR = re.compile(r"/xen[^/]*/bin/")
_EXECUTABLE = (EntryType.FILE, EntryType.HARDLINK)


@dataclass(frozen=True, slots=True)
class Listing:
    """What facts ask of one package's entries many times over (a dozen facts, and the
    closures of every other package), gathered in one pass."""

    files: tuple[str, ...]
    # commands(): sorted
    commands: tuple[str, ...]
    # real_binaries() by name
    binaries: dict[str, list[str]]
    # hypervisor_files(): sorted
    hypervisors: tuple[str, ...]

    @classmethod
    def of(cls, art: Artifact) -> Listing:
        files: list[str] = []
        commands: list[str] = []
        binaries: dict[str, list[str]] = {}
        hypervisors: list[str] = []
        directory = EntryType.DIRECTORY
        # one pass over every entry of every package: the cheap tests go first
        for path, entry in art.entries.items():
            if entry.type is directory:
                continue
            files.append(path)
            if "bin/" in path:  # every bin directory: most paths stop here
                if _is_real_binary(path, entry):
                    binaries.setdefault(path.rsplit("/", 1)[-1], []).append(path)
                if _is_command(path):
                    commands.append(path)
            if path.startswith("/boot/xen") and _is_hypervisor(path):
                hypervisors.append(path)
        return cls(tuple(files), tuple(sorted(commands)), binaries, tuple(sorted(hypervisors)))


# The helpers below take the package set of the run being checked, when the caller has it,
# to answer from the package's listing instead of walking its entries again.


def _listing(art: Artifact, within: PackageSet | None) -> Listing | None:
    return within.listing(art) if within is not None else None


def files(art: Artifact, within: PackageSet | None = None) -> Sequence[str]:
    """`art.files` (paths of everything but directories)."""
    found = _listing(art, within)
    return found.files if found is not None else art.files


def _is_real_binary(path: str, entry: Entry) -> bool:
    return entry.type in _EXECUTABLE and \
        (path.startswith(BIN_DIRS) or _XEN_BIN_DIR.search(path) is not None)


def real_binaries(art: Artifact, name: str, within: PackageSet | None = None) -> list[str]:
    """Regular files named `name` in a bin directory or a Xen private bin directory."""
    found = _listing(art, within)
    if found is not None and "/" not in name:
        return list(found.binaries.get(name, ()))
    # asked of every package of a set for several names: the cheap name test goes first
    suffix = "/" + name
    return [path for path, entry in art.entries.items()
            if path.endswith(suffix) and _is_real_binary(path, entry)]


def commands(art: Artifact, within: PackageSet | None = None) -> list[str]:
    """Paths of the commands a package puts on $PATH (files or symlinks in bin dirs)."""
    found = _listing(art, within)
    return list(found.commands) if found is not None else _paths(art, _is_command)


def _paths(art: Artifact, test: Callable[[str], bool]) -> list[str]:
    """The sorted paths of everything but directories that pass `test`."""
    return sorted(p for p, e in art.entries.items()
                  if e.type is not EntryType.DIRECTORY and test(p))


def _is_command(path: str) -> bool:
    bindir = next((d for d in BIN_DIRS if path.startswith(d)), None)
    return bindir is not None and "/" not in path[len(bindir):]


def hypervisor_files(art: Artifact, within: PackageSet | None = None) -> list[str]:
    """`/boot/xen*` hypervisor images, as grub's 20_linux_xen picks them."""
    found = _listing(art, within)
    return list(found.hypervisors) if found is not None else _paths(art, _is_hypervisor)


def _is_hypervisor(path: str) -> bool:
    if not path.startswith("/boot/xen"):
        return False
    base = path.rsplit("/", 1)[-1]
    return not (base.startswith(("xen-syms", "xenpolicy")) or base.endswith((".config", ".map")))

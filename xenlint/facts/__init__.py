"""Named, lazy facts about a subject: the only bridge between readers and rules.

A fact is a function of a `Subject`, registered with `@fact("area.thing", subjects=(...))`.
It returns a plain value (str, int, bool, list, set, mapping) or `None`, which means the
artifacts do not show it: a rule needing it is *unknown*, never a pass or a fail. A fact whose
answer hangs on packages the run does not hold raises `Absent`, which says which ones and why:
the rule is unknown, and its report names them.
A fact declares which paths of a package's file list it can ask about (`paths=`), so that
an audit of an archive keeps only those of its `Contents` (see `Paths`).
Modules in this package are imported automatically (`load()`, by whatever first reads the
registry), so a new fact is one decorated function.
"""

from __future__ import annotations

import functools
import importlib
import os
import pkgutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from xenlint.artifact import Artifact, Kind
from xenlint.limits import ArtifactError

if TYPE_CHECKING:
    from xenlint.facts.pkgset import PackageSet

SUBJECT_KINDS = ("package", "kernel", "initramfs", "module", "packages")

FactFn = Callable[["Subject"], object]


@dataclass(frozen=True, slots=True)
class Paths:
    """The paths of a package's file list that a fact can ask about: those under one of the
    absolute prefixes `under`, and those holding one of the strings `containing`.

    An audit of an archive keeps of its `Contents` only the paths the selected rules'
    facts declare, and of every package one more path: one outside the documentation
    directories when it ships any (`DOC_DIRS`). So a fact may ask whether a package ships
    anything beyond its documentation, but a path it did not declare looks absent:
    declare generously. A fact declared with `paths=None` may ask about any path (the
    whole list is kept)."""

    under: tuple[str, ...] = ()
    containing: tuple[str, ...] = ()

    def __or__(self, other: Paths) -> Paths:
        return Paths(tuple(dict.fromkeys(self.under + other.under)),
                     tuple(dict.fromkeys(self.containing + other.containing)))

    def covers(self, path: str) -> bool:
        return path.startswith(self.under) or any(s in path for s in self.containing)


NO_PATHS = Paths()
# what the witness path of a package (see Paths) is chosen outside of, when it can be
DOC_DIRS = ("/usr/share/doc/", "/usr/share/doc-base/", "/usr/share/lintian/",
            "/usr/share/bug/")


@dataclass(frozen=True, slots=True)
class FactSpec:
    name: str
    fn: FactFn
    subjects: tuple[str, ...]
    doc: str
    # True when the value depends on the profile being checked (rare); cached per profile
    per_profile: bool = False
    # the file-list paths the fact can ask about; None: any path
    paths: Paths | None = None
    # the cache key of a fact that is not per profile, made once: Subject.get is hot
    key: tuple[str, str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.name, ""))


_REGISTRY: dict[str, FactSpec] = {}


@dataclass(frozen=True, slots=True)
class Gap:
    """Why a fact is unknown when packages the run lacks decide it: one sentence naming
    what is missing and why it matters, and those packages (relation targets not in the run)."""

    reason: str
    absent: tuple[str, ...]


class Absent(Exception):
    """Raised by a fact whose value depends on what packages absent from the run could
    ship: the fact is unknown, and `Subject.gaps` keeps the reason."""

    def __init__(self, reason: str, absent: tuple[str, ...] | list[str]) -> None:
        super().__init__(reason)
        self.gap = Gap(reason, tuple(dict.fromkeys(absent)))


def fact(
    name: str, subjects: tuple[str, ...] = SUBJECT_KINDS, *, per_profile: bool = False,
    paths: Paths | None = None,
) -> Callable[[FactFn], FactFn]:
    """Register `fn(subject) -> value | None` as the fact `name` for these subject kinds,
    asking about the file-list `paths` (None: any path; NO_PATHS: none)."""
    bad = [s for s in subjects if s not in SUBJECT_KINDS]
    if bad:
        raise ValueError(f"fact {name}: unknown subject kind(s) {bad}")

    def register(fn: FactFn) -> FactFn:
        if name in _REGISTRY and _REGISTRY[name].fn is not fn:
            raise ValueError(f"fact {name} registered twice")
        doc = (fn.__doc__ or "").strip()
        _REGISTRY[name] = FactSpec(name, fn, tuple(subjects), doc, per_profile, paths)
        return fn

    return register


@functools.cache
def load() -> None:
    """Import every module of this package: each registers its facts, and declares the
    member contents it reads (`capture.want`). Done once, when the registry is first read,
    so nothing depends on who imported what first."""
    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{mod.name}")


def registry() -> dict[str, FactSpec]:
    load()
    return dict(_REGISTRY)


def paths_of(names: Iterable[str]) -> Paths | None:
    """The paths the named facts can ask about together; None when one may ask about any."""
    out = NO_PATHS
    for name in sorted(names):
        spec = _REGISTRY.get(name)
        if spec is None or spec.paths is None:
            return None
        out |= spec.paths
    return out


def resolve(dotted: str) -> tuple[FactSpec, tuple[str, ...]] | None:
    """The longest registered fact that prefixes `dotted`, and the rest as index keys."""
    load()
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        spec = _REGISTRY.get(".".join(parts[:n]))
        if spec is not None:
            return spec, tuple(parts[n:])
    return None


# package files, and the installed packages of a root
PACKAGE_KINDS = (Kind.DEB, Kind.RPM, Kind.INSTALLED)


@dataclass(slots=True)
class Run:
    """Everything given in one run: all top-level artifacts and the package artifacts,
    and the context packages (--with-repo) that relations may reach but no rule judges.

    A run holding packages of several machine architectures is checked as one package set
    per architecture (`by_arch`): a host installs packages of one architecture (and
    all/noarch ones), so who ships a path, the kernels present and each closure are
    answered among those."""

    artifacts: list[Artifact]
    packages: list[Artifact] = field(default_factory=list)
    # header-only packages from repository indexes: they satisfy relations and ship paths
    # (PackageSet), and are never subjects, never opened, never reported
    context: list[Artifact] = field(default_factory=list)
    # the run's packages indexed by name and path (facts/pkgset.py), made on first use
    package_set: PackageSet | None = field(default=None, repr=False, compare=False)
    # the machine architecture of this package set (Debian's spelling); "" for one that
    # holds a single architecture or none
    arch: str = ""

    @classmethod
    def of(cls, artifacts: list[Artifact], context: Sequence[Artifact] = ()) -> Run:
        pkgs = [a for a in artifacts if a.kind in PACKAGE_KINDS and a.package]
        return cls(list(artifacts), pkgs, [a for a in context if a.package is not None])

    def by_arch(self) -> dict[str, Run]:
        """One run per machine architecture of the packages, when there are several:
        that architecture's packages, the all/noarch ones, the packages of other
        architectures that Debian's Multi-Arch lets satisfy its relations (foreign,
        allowed: context there, each is checked in its own architecture's run), the
        context packages chosen alike, and every artifact that is not a package. Empty
        for a run of one architecture."""
        from xenlint.facts.pkgset import machine, multi_arch

        machines = {machine(a.package.architecture) for a in self.packages if a.package}
        machines.discard("")
        if len(machines) < 2:
            return {}

        def fits(art: Artifact, arch: str) -> bool:
            return art.package is not None and (
                machine(art.package.architecture) in ("", arch)
                or multi_arch(art) in ("foreign", "allowed"))

        out = {}
        for arch in sorted(machines):
            pkgs = [a for a in self.packages if fits(a, arch)]
            chosen = {id(a) for a in pkgs}
            arts = [a for a in self.artifacts
                    if id(a) in chosen or not (a.kind in PACKAGE_KINDS and a.package)]
            out[arch] = Run(arts, pkgs, [a for a in self.context if fits(a, arch)], arch=arch)
        return out


class Subject:
    """One thing a rule is checked against, with its facts computed lazily, once.

    Subjects of one unit share their cache across profiles; only `per_profile` facts
    are computed again for each profile.
    """

    __slots__ = ("_cache", "artifact", "failures", "gaps", "input", "kind", "location",
                 "profile", "run")

    def __init__(
        self,
        kind: str,
        artifact: Artifact | None,
        run: Run,
        profile: str = "",
        *,
        input: str = "",
        location: str | None = None,
        cache: dict[tuple[str, str], Any] | None = None,
    ) -> None:
        self.kind = kind
        self.artifact = artifact
        self.run = run
        self.profile = profile
        # the top-level path the user gave (or found in a directory), for reports
        self.input = input or (artifact.path if artifact else "")
        # where inside that input, for nested subjects ("x.deb!/boot/initrd.img-..."), or None
        self.location = location
        self._cache: dict[tuple[str, str], Any] = {} if cache is None else cache
        # fact name -> one-line reason, for facts that failed on this subject's bytes
        self.failures: dict[str, str] = {}
        # fact name -> what absent packages left it unknown (see Absent)
        self.gaps: dict[str, Gap] = {}

    def with_profile(self, profile: str) -> Subject:
        twin = Subject(self.kind, self.artifact, self.run, profile, input=self.input,
                       location=self.location, cache=self._cache)
        twin.failures = self.failures
        twin.gaps = self.gaps
        return twin

    def get(self, name: str) -> object:
        """The value of fact `name` for this subject; None if unknown or not applicable."""
        spec = _REGISTRY.get(name)
        if spec is None:
            load()
            spec = _REGISTRY.get(name)
        if spec is None or self.kind not in spec.subjects:
            return None
        key = (name, self.profile) if spec.per_profile else spec.key
        if key in self._cache:  # asked by every rule that names it, on every subject
            return self._cache[key]
        gaps_before = len(self.gaps)
        try:
            value = spec.fn(self)
        except Absent as exc:
            value = None
            self.gaps[name] = exc.gap
        except ArtifactError as exc:
            # reading a member failed (corrupt, over a limit): the fact is not shown
            value = None
            self.failures[name] = str(exc)
        except Exception as exc:
            # a fact tripping over unexpected bytes must not end the run with a traceback
            if os.environ.get("XENLINT_DEBUG"):
                raise
            value = None
            self.failures[name] = f"{type(exc).__name__}: {exc}".splitlines()[0]
        if value is None and name not in self.gaps and len(self.gaps) > gaps_before:
            # unknown because a fact it asked for was: the same packages are missing
            self.gaps[name] = list(self.gaps.values())[-1]
        self._cache[key] = value
        return value

    def computed(self) -> list[str]:
        """Names of the facts computed so far (tests use it to check laziness)."""
        return sorted({name for name, _ in self._cache})

    def __repr__(self) -> str:
        return f"Subject({self.kind}, {self.input!r}, {self.location!r}, {self.profile!r})"


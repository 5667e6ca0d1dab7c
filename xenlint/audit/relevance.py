"""Which packages of a repository are worth opening: the ones that matter for Xen.

Kernels, initramfs and installer images, `xen*`, `qemu*`, `grub*`, `libxen*`, and whatever
the meta-packages among them pull in (`linux-image-amd64` -> the versioned kernel,
`xen-system-amd64` -> hypervisor and tools). Everything else is judged from its index entry.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

from xenlint.artifact import Artifact
from xenlint.engine.rulebook import Rule
from xenlint.facts import Paths, paths_of
from xenlint.facts.artifact import relation_names

NAME_GLOBS = (
    "xen*", "qemu*", "grub*", "libxen*", "linux-image*", "linux-modules*", "linux-signed*",
    "kernel", "kernel-*", "vmlinu*", "initramfs*", "dracut*", "*-initrd*", "debian-installer*",
)
_NAME_RE = re.compile("|".join(fnmatch.translate(g) for g in NAME_GLOBS))
# files that make any package a kernel or ramdisk carrier, whatever its name
_FILE_RE = re.compile(r"^/(?:boot/(?:vmlinu|initr|xen)|(?:usr/)?lib/modules/[^/]+/)")
# a meta-package ships documentation at most
_DOC_RE = re.compile(r"^/usr/share/(?:doc|doc-base|lintian|bug)/")
META_MAX_INSTALLED_KIB = 64
# what `matters` looks for in a file list (is_meta needs one path of each package, which
# an audit keeps anyway: see facts.Paths)
STRUCTURE_PATHS = Paths(under=("/boot/", "/lib/modules/", "/usr/lib/modules/"))


def matters(art: Artifact) -> bool:
    pkg = art.package
    if pkg is None:
        return True
    if _NAME_RE.match(pkg.name):
        return True
    if relation_names(pkg.provides) & {"linux-image", "kernel", "xen-hypervisor"}:
        return True
    return any(_FILE_RE.match(p) for p in art.entries)


def is_meta(art: Artifact) -> bool:
    """Depends on something, ships no payload of its own (files known) or almost none."""
    pkg = art.package
    if pkg is None or not (pkg.depends or pkg.pre_depends):
        return False
    if art.entries:
        return all(_DOC_RE.match(p) for p in art.files)
    size = pkg.fields.get("Installed-Size", "")
    return size.isdigit() and int(size) <= META_MAX_INSTALLED_KIB


def relevant(arts: Iterable[Artifact]) -> set[int]:
    """Indexes (into `arts`) of the packages to open: the Xen set plus meta closure."""
    items = list(arts)
    by_name: dict[str, list[int]] = {}
    for i, a in enumerate(items):
        if a.package is None:
            continue
        for name in relation_names(a.package.provides) | {a.package.name}:
            by_name.setdefault(name, []).append(i)
    chosen = {i for i, a in enumerate(items) if matters(a)}
    todo = [i for i in chosen if is_meta(items[i])]
    while todo:
        pkg = items[todo.pop()].package
        assert pkg is not None
        for name in relation_names(pkg.depends + pkg.pre_depends):
            for j in by_name.get(name, ()):
                if j not in chosen:
                    chosen.add(j)
                    if is_meta(items[j]):
                        todo.append(j)
    return chosen


# Facts a repository index answers as well as the package itself does.
HEADER_FACTS = frozenset({
    "artifact.name", "artifact.path", "artifact.kind",
    "package.name", "package.version", "package.architecture", "package.flavor",
    "package.depends", "package.recommends", "package.provides", "package.relations",
    "package.fields", "packages.names", "packages.provides",
})


def rules_need_contents(rules: Iterable[Rule]) -> bool:
    """Whether some selected rule uses a fact beyond HEADER_FACTS (then the packages that
    matter are opened; otherwise every package is judged from its index entry)."""
    for rule in rules:
        if rule.applies_to not in ("package", "packages"):
            return True  # kernels, initramfs and modules live inside packages
        if not {_base(f) for f in rule.facts} <= HEADER_FACTS:
            return True
    return False


def _base(name: str) -> str:
    """`package.fields.Section` -> `package.fields` (facts are indexed with dots)."""
    parts = name.split(".")
    return ".".join(parts[:2])


def contents_paths(facts: Iterable[str]) -> Paths | None:
    """The paths of a repository's file lists an audit must keep: those the facts ask
    about, and those that choose the packages to open. None: every path."""
    found = paths_of(facts)
    return None if found is None else found | STRUCTURE_PATHS

"""Which Xen release the hypervisor and the toolstack of a set are: they must agree, since
libxenctrl speaks one hypervisor interface version (xen-hypervisor-4.17-* with
xen-utils-4.17)."""

from __future__ import annotations

import re

from xenlint.artifact import Artifact, EntryType
from xenlint.facts import Paths, Subject, fact
from xenlint.facts.pkgset import BIN_DIRS

_S = ("packages",)
# hypervisors are told by name and by the images opened; a toolstack by name, or by an
# `xl` it ships
RELEASE_PATHS = Paths(under=BIN_DIRS, containing=("xen", "/xl"))
_MINOR = re.compile(r"(\d+)\.(\d+)")
_HV_NAME = re.compile(r"^xen-hypervisor-(\d+\.\d+)(?:-|$)")
_TOOLS_NAME = re.compile(r"^xen-utils-(\d+\.\d+)$")


def _minor(text: str | None) -> str | None:
    m = _MINOR.match(text or "")
    return f"{m.group(1)}.{m.group(2)}" if m else None


def hypervisor_release(art: Artifact) -> str | None:
    """major.minor of a package shipping a hypervisor image: what the image's own strings
    (or its config) say, else the release its name carries (Debian's xen-hypervisor-4.17-*)."""
    pkg = art.package
    images = [c.hypervisor for c in art.children
              if c.hypervisor is not None and c.hypervisor.format in ("elf", "pe")]
    if pkg is None or not (images or _HV_NAME.match(pkg.name)):
        return None
    for info in images:
        if (found := _minor(info.version)) is not None:
            return found
    m = _HV_NAME.match(pkg.name)
    return m.group(1) if m else _minor(pkg.version.split(":")[-1])


def toolstack_release(art: Artifact) -> str | None:
    """major.minor of a toolstack package: Debian's xen-utils-X.Y by name, else (RPM) the
    version of a package shipping the xl binary itself."""
    pkg = art.package
    if pkg is None:
        return None
    m = _TOOLS_NAME.match(pkg.name)
    if m:
        return m.group(1)
    if pkg.flavor == "rpm" and any(p.rsplit("/", 1)[-1] == "xl" and e.type is EntryType.FILE
                                   for p, e in art.entries.items()):
        return _minor(pkg.version.split(":")[-1])
    return None


def _releases(subject: Subject, which: str) -> list[tuple[str, str]]:
    fn = hypervisor_release if which == "hypervisor" else toolstack_release
    return sorted((a.package.name, r) for a in subject.run.packages
                  if a.package and (r := fn(a)) is not None)


@fact("packages.hypervisor_releases", _S, paths=RELEASE_PATHS)
def packages_hypervisor_releases(subject: Subject) -> list[str]:
    """Hypervisor packages of the run with their Xen release: "xen-hypervisor-4.17-amd64 4.17"."""
    return [f"{n} {r}" for n, r in _releases(subject, "hypervisor")]


@fact("packages.toolstack_releases", _S, paths=RELEASE_PATHS)
def packages_toolstack_releases(subject: Subject) -> list[str]:
    """Toolstack packages of the run with their Xen release: "xen-utils-4.17 4.17"."""
    return [f"{n} {r}" for n, r in _releases(subject, "toolstack")]


@fact("packages.xen_release_mismatch", _S, paths=RELEASE_PATHS)
def packages_xen_release_mismatch(subject: Subject) -> str:
    """"" when every hypervisor and toolstack of the run are one Xen release, else which
    are which."""
    hv, tools = _releases(subject, "hypervisor"), _releases(subject, "toolstack")
    if not hv or not tools or len({r for _n, r in hv + tools}) == 1:
        return ""
    return ", ".join(f"{n} is Xen {r}" for n, r in hv + tools)

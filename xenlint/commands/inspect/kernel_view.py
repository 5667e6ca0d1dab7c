"""Text lines for `xenlint inspect` that summarise the kernel/ramdisk slots' lists and maps
(the one-line brief shows only their scalar values)."""

from __future__ import annotations

from typing import Any

from xenlint.artifact import Artifact, KernelInfo, ModuleInfo, ModuleTreeInfo
from xenlint.modnames import canonical

# the PV drivers and tools a Xen guest/dom0 looks for; listed by name when present
XEN_MODULE_PREFIXES = ("xen", "xen_")


def _value(v: Any) -> str:
    return hex(v) if isinstance(v, int) and v > 9 else str(v)


def _xen_modules(names: list[str]) -> list[str]:
    return [n for n in names if canonical(n).startswith(XEN_MODULE_PREFIXES)]


def detail_lines(art: Artifact) -> list[str]:
    out: list[str] = []
    k = art.kernel
    if isinstance(k, KernelInfo) and k.xen_notes:
        out.append("xen notes: " + ", ".join(f"{n}={_value(v)}"
                                             for n, v in k.xen_notes.items()))
    elif isinstance(k, KernelInfo) and k.xen_notes is not None:
        out.append("xen notes: none")
    r = art.initramfs
    if r is not None:
        if r.segments:
            out.append("segments: " + "; ".join(
                f"{s.compression} {s.format or '?'} at {s.offset} ({s.files} files)"
                for s in r.segments))
        xen = _xen_modules(r.modules)
        out.append(f"modules: {len(r.modules)}" + (f" (xen: {', '.join(xen)})" if xen else ""))
        if r.kernel_releases:
            out.append(f"kernel releases: {', '.join(r.kernel_releases)}")
        if r.settings:
            out.append("settings: " + ", ".join(f"{a}={b}" for a, b in r.settings.items()))
    m = art.module
    if isinstance(m, ModuleTreeInfo):
        xen = _xen_modules(m.modules)
        out.append(f"modules: {len(m.modules)}, builtin: {len(m.builtin)}"
                   + (f" (xen: {', '.join(xen)})" if xen else ""))
    elif isinstance(m, ModuleInfo) and m.alias:
        out.append(f"alias: {', '.join(m.alias)}")
    return out

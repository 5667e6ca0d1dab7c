"""Text lines for `xenlint inspect` that summarise the kernel/ramdisk slots' lists and maps
(the one-line brief shows only their scalar values)."""

from __future__ import annotations

from typing import Any

from xenlint.artifact import Artifact
from xenlint.modnames import canonical

# the PV drivers and tools a Xen guest/dom0 looks for; listed by name when present
XEN_MODULE_PREFIXES = ("xen", "xen_")


def _value(v: Any) -> str:
    return hex(v) if isinstance(v, int) and v > 9 else str(v)


def _xen_modules(names: list[str]) -> list[str]:
    return [n for n in names if canonical(n).startswith(XEN_MODULE_PREFIXES)]


def detail_lines(art: Artifact) -> list[str]:
    out: list[str] = []
    k = art.kernel or {}
    notes = k.get("xen_notes")
    if notes:
        out.append("xen notes: " + ", ".join(f"{n}={_value(v)}" for n, v in notes.items()))
    elif "xen_notes" in k:
        out.append("xen notes: none")
    r = art.initramfs or {}
    if r.get("segments"):
        out.append("segments: " + "; ".join(
            f"{s['compression']} {s.get('format') or '?'} at {s['offset']} ({s['files']} files)"
            for s in r["segments"]))
    if "modules" in r:
        xen = _xen_modules(r["modules"])
        out.append(f"modules: {len(r['modules'])}" + (f" (xen: {', '.join(xen)})" if xen else ""))
        if r.get("kernel_releases"):
            out.append(f"kernel releases: {', '.join(r['kernel_releases'])}")
        if r.get("settings"):
            out.append("settings: " + ", ".join(f"{a}={b}" for a, b in r["settings"].items()))
    m = art.module or {}
    if "modules" in m:
        xen = _xen_modules(m["modules"])
        out.append(f"modules: {len(m['modules'])}, builtin: {len(m.get('builtin', []))}"
                   + (f" (xen: {', '.join(xen)})" if xen else ""))
    elif m.get("alias"):
        out.append(f"alias: {', '.join(m['alias'])}")
    return out

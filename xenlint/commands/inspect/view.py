"""Artifact -> the JSON-able dict that `xenlint inspect --format json` prints (docs/inspect.md)."""

from __future__ import annotations

from typing import Any

from xenlint.artifact import Artifact, ReaderInfo


def artifact_to_dict(art: Artifact) -> dict[str, Any]:
    out: dict[str, Any] = {"path": art.path, "kind": art.kind.value}
    pkg = art.package
    if pkg is not None:
        out["package"] = {
            "name": pkg.name, "version": pkg.version, "architecture": pkg.architecture,
            "epoch": pkg.epoch, "release": pkg.release,
            "depends": pkg.pre_depends + pkg.depends, "recommends": pkg.recommends,
            "suggests": pkg.suggests, "provides": pkg.provides, "conflicts": pkg.conflicts,
            "breaks": pkg.breaks, "scripts": sorted(pkg.scripts),
            "interpreters": pkg.interpreters, "triggers": pkg.triggers,
            "conffiles": pkg.conffiles, "payload_compression": pkg.payload_compression,
        }
    else:
        out["package"] = None
    out["files"] = art.files
    out["entries"] = [
        {"path": e.path, "type": e.type.value, "mode": f"{e.mode:04o}", "size": e.size,
         "link_target": e.link_target}
        for e in art.entries.values()
    ]
    for slot, info in (("kernel", art.kernel), ("config", art.config),
                       ("module", art.module), ("initramfs", art.initramfs), ("iso", art.iso),
                       ("hypervisor", art.hypervisor)):
        if isinstance(info, ReaderInfo):
            out[slot] = info.to_json()
        elif info is not None:
            out[slot] = info
    if art.unsafe_paths:
        out["unsafe_paths"] = art.unsafe_paths
    # reader notes (member compressions, payload offset...): informative, not a contract
    out["meta"] = art.meta.to_json()
    out["children"] = [artifact_to_dict(c) for c in art.children]
    out["error"] = art.error
    return out


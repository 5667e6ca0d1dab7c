"""Module trees of kernel packages and root trees: one child per [/usr]/lib/modules/<release>/.

A kernel package ships a thousand modules, so the facts come from the file list and
the tree's own index files (modules.builtin, modules.builtin.modinfo, modules.dep),
which the package reader keeps during its single pass; no .ko is opened.
"""

from __future__ import annotations

import re

from xenlint import capture
from xenlint.artifact import Artifact, EntryType, KernelRelease, Kind, ModuleTreeInfo
from xenlint.modnames import module_stem
from xenlint.readers import ReadContext, deriver
from xenlint.readers.ramdisk_survey import builtin_names

TREE_RE = re.compile(r"^(/(?:usr/)?lib/modules/([^/]+))/(.+)$")
INDEX_FILES = ("modules.builtin", "modules.builtin.modinfo", "modules.dep", "modules.order")
for _base in ("/lib/modules/*/", "/usr/lib/modules/*/"):
    capture.want(*(_base + name for name in INDEX_FILES))
PARENT_KINDS = (Kind.DEB, Kind.RPM, Kind.DIRECTORY, Kind.INSTALLED)


def builtin_modinfo_names(data: bytes) -> list[str]:
    """Module names in modules.builtin.modinfo (NUL-separated `module.key=value`)."""
    names = {raw.split(b".", 1)[0].decode("utf-8", "replace")
             for raw in data.split(b"\0") if b"." in raw and b"=" in raw}
    return sorted(n for n in names if n)


def parse_modules_dep(text: str) -> dict[str, list[str]]:
    """modules.dep: `kernel/.../a.ko: kernel/.../b.ko ...` -> {"a": ["b", ...]}."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        target, sep, deps = line.partition(":")
        name = module_stem(target.strip())
        if sep and name:
            out[name] = [d for d in (module_stem(x) for x in deps.split()) if d]
    return out


def _tree(art: Artifact, base: str, release: str, files: list[str]) -> Artifact:
    modules = sorted({s for s in (module_stem(p) for p in files) if s})
    builtin_file = art.read(f"{base}/modules.builtin")
    modinfo = art.read(f"{base}/modules.builtin.modinfo")
    dep = art.read(f"{base}/modules.dep")
    module = ModuleTreeInfo(
        modules=modules,
        builtin=[] if builtin_file is None
        else builtin_names(builtin_file.decode("utf-8", "replace")),
        path=base,
        has_modules_dep=dep is not None,
        builtin_modinfo=None if modinfo is None else builtin_modinfo_names(modinfo),
        dep=None if dep is None else parse_modules_dep(dep.decode("utf-8", "replace")),
    )
    return Artifact(f"{art.path}!{base}", Kind.MODULE_TREE, kernel=KernelRelease(release),
                    module=module)


@deriver
def module_trees(art: Artifact, ctx: ReadContext) -> None:
    if art.kind not in PARENT_KINDS:
        return
    trees: dict[tuple[str, str], list[str]] = {}
    for path, entry in art.entries.items():
        m = TREE_RE.match(path)
        if m and entry.type in (EntryType.FILE, EntryType.HARDLINK, EntryType.SYMLINK):
            trees.setdefault((m.group(1), m.group(2)), []).append(path)
    for (base, release), files in sorted(trees.items()):
        names = {p.rsplit("/", 1)[-1] for p in files}
        if any(module_stem(p) for p in files) or "modules.builtin" in names:
            art.children.append(_tree(art, base, release, files))

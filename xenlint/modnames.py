"""Kernel module names as modprobe compares them: `-` and `_` are the same character.

Every fact that matches a module by name goes through `canonical()`, so
`xen-blkfront`, `xen_blkfront` and `xen-blkfront.ko.zst` all meet on one spelling.
"""

from __future__ import annotations

# Suffixes a module file may carry on disk (kmod accepts these compressions).
MODULE_SUFFIXES = (".ko.zst", ".ko.xz", ".ko.gz", ".ko")


def module_stem(filename: str) -> str | None:
    """`xen-blkfront` for `.../xen-blkfront.ko.xz`; None when the name is not a module file."""
    base = filename.rsplit("/", 1)[-1]
    for suffix in MODULE_SUFFIXES:
        if base.endswith(suffix) and len(base) > len(suffix):
            return base[: -len(suffix)]
    return None


def canonical(name: str) -> str:
    """The comparison key of a module name: any module suffix dropped, `-` folded to `_`."""
    return (module_stem(name) or name).replace("-", "_")


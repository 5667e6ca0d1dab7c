"""Facts about an initramfs image: its modules, what its kernel builds in, its generator.

A driver is in the image when its `.ko` is packed, when the image's modules.builtin lists
it, or when a kernel of the same release given in the same run builds it in (`=y` in its
config, or listed in its package's modules.builtin): one kernel release, checked together.
"""

from __future__ import annotations

from xenlint.artifact import Artifact, InitramfsInfo, Kind
from xenlint.facts import Run, Subject, fact
from xenlint.facts import kernel as k
from xenlint.modnames import canonical

_I = ("initramfs",)
# values of dracut's hostonly and initramfs-tools' MODULES that pack only the build host's
# drivers
_HOSTONLY_VALUES = ("yes", "y", "1", "true")


def _info(subject: Subject) -> InitramfsInfo | None:
    art = subject.artifact
    if art is None or art.kind is not Kind.INITRAMFS or art.initramfs is None:
        return None
    return art.initramfs


def releases(info: InitramfsInfo) -> list[str]:
    return list(info.kernel_releases)


def same_release_kernels(run: Run, rels: list[str]) -> list[Artifact]:
    """Kernel units of the run (packages, images, configs, trees) for one of `rels`."""
    out = []
    for top in run.artifacts:
        if top.kind is Kind.INITRAMFS:
            continue
        images, configs, trees = k.parts(top)
        if not (images or configs or trees):
            continue
        if k.release(top) in rels:
            out.append(top)
    return out


def builtin(subject: Subject) -> set[str] | None:
    info = _info(subject)
    if info is None:
        return None
    names = {canonical(n) for n in info.builtin_modules}
    for kern in same_release_kernels(subject.run, releases(info)):
        states = k.driver_states(kern) or {}
        names.update(n for n, s in states.items() if s == "y")
        mods = k.modules(kern)
        if mods:
            names.update(mods[1])
    return names


@fact("initramfs.modules", _I, paths=k.KERNEL_PATHS)
def initramfs_modules(subject: Subject) -> set[str] | None:
    """Canonical names (`_` for `-`) of the kernel modules packed in the image."""
    info = _info(subject)
    if info is None:
        return None
    return {canonical(n) for n in info.modules}


@fact("initramfs.builtin_modules", _I, paths=k.KERNEL_PATHS)
def initramfs_builtin_modules(subject: Subject) -> set[str] | None:
    """Canonical names of drivers built into the image's kernel: its modules.builtin, plus
    `=y` drivers of a kernel of the same release given in the run."""
    return builtin(subject)


@fact("initramfs.drivers", _I, paths=k.KERNEL_PATHS)
def initramfs_drivers(subject: Subject) -> dict[str, str] | None:
    """For each Xen frontend (xen_blkfront, xen_netfront, xen_scsifront): "module" when
    packed, "builtin" when its kernel builds it in, else "missing"."""
    info = _info(subject)
    if info is None:
        return None
    mods = {canonical(n) for n in info.modules}
    built = builtin(subject) or set()
    out = {}
    for name in ("xen_blkfront", "xen_netfront", "xen_scsifront"):
        out[name] = "module" if name in mods else "builtin" if name in built else "missing"
    return out


@fact("initramfs.fetches_disk_drivers", _I, paths=k.KERNEL_PATHS)
def initramfs_fetches_disk_drivers(subject: Subject) -> bool | None:
    """Whether the image is a debian-installer ramdisk (its markers: lib/debian-installer and
    lib/debian-installer-startup.d/) carrying no fixed-disk driver at all, packed or in its
    modules.builtin: no block, ATA, NVMe or SCSI host driver (the netboot flavour). Such an
    installer loads its disk drivers from the mirror as udebs once the network is up."""
    info = _info(subject)
    if info is None:
        return None
    return info.generator == "debian-installer" and not info.disk_drivers


@fact("initramfs.releases", _I, paths=k.KERNEL_PATHS)
def initramfs_releases(subject: Subject) -> str | None:
    """Kernel releases the image holds modules for, comma-separated."""
    info = _info(subject)
    return ", ".join(releases(info)) if info is not None else None


@fact("initramfs.generator", _I, paths=k.KERNEL_PATHS)
def initramfs_generator(subject: Subject) -> str | None:
    """Which tool made the image: initramfs-tools, dracut or debian-installer (unknown
    otherwise)."""
    info = _info(subject)
    gen = info.generator if info else None
    return str(gen) if gen else None


@fact("initramfs.settings", _I, paths=k.KERNEL_PATHS)
def initramfs_settings(subject: Subject) -> dict[str, str] | None:
    """Generator settings recorded in the image (MODULES, COMPRESS, hostonly, add_drivers)."""
    info = _info(subject)
    if info is None:
        return None
    return dict(info.settings)


@fact("initramfs.hostonly", _I, paths=k.KERNEL_PATHS)
def initramfs_hostonly(subject: Subject) -> str | None:
    """The host-only setting that packs only the build machine's drivers, as written
    (`MODULES=dep`, `hostonly=yes`), or "" when the image was built generically.
    Unknown when the image records no generator settings."""
    info = _info(subject)
    if info is None:
        return None
    settings = dict(info.settings)
    modules = settings.get("MODULES", "").strip("\"'")
    if modules == "dep":
        return "MODULES=dep"
    host = settings.get("hostonly", "").strip("\"'").lower()
    if host in _HOSTONLY_VALUES:
        return f"hostonly={host}"
    params = settings.get("build_parameters", "") + " " + settings.get("build-parameter", "")
    if "--hostonly" in params.split() or " -H " in f" {params} ":
        return "dracut --hostonly"
    if not settings and not info.generator:
        return None
    return ""

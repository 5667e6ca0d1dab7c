"""Facts about one kernel unit: its config, release, architecture, Xen notes and modules.

A kernel subject is a kernel package (children: kernel-image, kernel-config, module-trees),
a bare image, a bare config, or a root tree. The config comes from the kernel-config
(`/boot/config-<release>`), else from the image's embedded IKCONFIG. A driver counts as
present when it is built in (`=y` or listed in modules.builtin) or configured `=m` and its
`.ko` is shipped for that release; names compare with `-` and `_` as one (modprobe does).
"""

from __future__ import annotations

import re
from typing import Any

from xenlint.artifact import Artifact, KernelInfo, Kind, ModuleInfo, ModuleTreeInfo
from xenlint.facts import Paths, Subject, fact
from xenlint.lang.versions import Version, kernel_numbers
from xenlint.modnames import canonical

# Xen drivers that are (or can be) modules: canonical module name -> config symbol.
XEN_DRIVERS = {
    "xen_blkfront": "CONFIG_XEN_BLKDEV_FRONTEND",
    "xen_netfront": "CONFIG_XEN_NETDEV_FRONTEND",
    "xen_blkback": "CONFIG_XEN_BLKDEV_BACKEND",
    "xen_netback": "CONFIG_XEN_NETDEV_BACKEND",
    "xen_pcifront": "CONFIG_XEN_PCIDEV_FRONTEND",
    "xen_pciback": "CONFIG_XEN_PCIDEV_BACKEND",
    "xen_scsifront": "CONFIG_XEN_SCSI_FRONTEND",
    "xen_scsiback": "CONFIG_XEN_SCSI_BACKEND",
    "xen_evtchn": "CONFIG_XEN_DEV_EVTCHN",
    "xenfs": "CONFIG_XENFS",
    "xen_privcmd": "CONFIG_XEN_PRIVCMD",
    "xen_gntdev": "CONFIG_XEN_GNTDEV",
    "xen_gntalloc": "CONFIG_XEN_GRANT_DEV_ALLOC",
    "xen_acpi_processor": "CONFIG_XEN_ACPI_PROCESSOR",
    "xen_tpmfront": "CONFIG_TCG_XEN",
    "xen_wdt": "CONFIG_XEN_WDT",
}
_ARCHES = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "arm64", "aarch64": "arm64",
           "i386": "x86", "i686": "x86", "armhf": "arm", "armv7hl": "arm"}


def parts(art: Artifact | None) -> tuple[list[Artifact], list[Artifact], list[Artifact]]:
    """(kernel images, kernel configs, module trees) of a kernel unit."""
    images: list[Artifact] = []
    configs: list[Artifact] = []
    trees: list[Artifact] = []
    todo = [art] if art is not None else []
    while todo:
        a = todo.pop(0)
        if a.kind is Kind.KERNEL_IMAGE:
            images.append(a)
        elif a.kind is Kind.KERNEL_CONFIG:
            configs.append(a)
        elif a.kind is Kind.MODULE_TREE:
            trees.append(a)
        # what an initramfs holds is the ramdisk's business, not this kernel's
        todo.extend(c for c in a.children if c.kind is not Kind.INITRAMFS)
    return images, configs, trees


def _release_of(a: Artifact) -> str | None:
    rel = a.kernel.release if a.kernel is not None else None
    if rel:
        return rel
    m = re.search(r"(?:config|vmlinu[xz]|Image|kernel)-(\d+\.\d+[^/!]*)$", a.path)
    return m.group(1) if m else None


def release(art: Artifact | None) -> str | None:
    images, configs, trees = parts(art)
    for a in images + configs + trees:
        rel = _release_of(a)
        if rel:
            return rel
    if art is not None:
        for path in sorted(art.files):
            m = re.match(r"/boot/(?:vmlinu[xz]|config|Image)-(\d+\.\d+\S*)$", path)
            if m:
                return m.group(1)
    return None


def config(art: Artifact | None) -> dict[str, str] | None:
    images, configs, _ = parts(art)
    rel = release(art)
    # prefer the config of the same release when a tree holds several
    for c in sorted(configs, key=lambda c: _release_of(c) != rel):
        if c.config:
            return dict(c.config)
    for i in images:
        if i.config:
            return dict(i.config)
    return None


def config_state(cfg: dict[str, str], symbol: str) -> str:
    v = cfg.get(symbol, "n")
    return v if v in ("y", "m") else "n"


def modules(art: Artifact | None) -> tuple[set[str], set[str]] | None:
    """(shipped, builtin) canonical module names for the unit's release; None if no tree."""
    _, _, trees = parts(art)
    if not trees:
        return None
    rel = release(art)
    chosen = [t for t in trees if _release_of(t) == rel] or trees
    shipped: set[str] = set()
    builtin: set[str] = set()
    for t in chosen:
        if isinstance(t.module, ModuleTreeInfo):
            shipped.update(canonical(n) for n in t.module.modules)
            builtin.update(canonical(n) for n in t.module.builtin)
    return shipped, builtin


def driver_states(art: Artifact | None) -> dict[str, str] | None:
    """Xen driver -> "y" (built in), "m" (module, shipped or no module list to check),
    "m-not-shipped" (configured =m, no .ko for this release), "n" (not configured)."""
    cfg = config(art)
    if cfg is None:
        return None
    mods = modules(art)
    out = {}
    for name, symbol in XEN_DRIVERS.items():
        state = config_state(cfg, symbol)
        if mods is not None and name in mods[1]:
            state = "y"
        elif state == "m" and mods is not None and name not in mods[0]:
            state = "m-not-shipped"
        out[name] = state
    return out


def arch(art: Artifact | None) -> str | None:
    images, _, _ = parts(art)
    for i in images:
        a = i.kernel.arch if isinstance(i.kernel, KernelInfo) else None
        if a:
            return _ARCHES.get(a, a)
    cfg = config(art)
    if cfg:
        if cfg.get("CONFIG_X86_64") == "y":
            return "x86_64"
        if cfg.get("CONFIG_ARM64") == "y":
            return "arm64"
        if cfg.get("CONFIG_X86_32") == "y" or cfg.get("CONFIG_X86") == "y":
            return "x86"
        if cfg.get("CONFIG_ARM") == "y":
            return "arm"
    if art is not None and art.package and art.package.architecture:
        return _ARCHES.get(art.package.architecture, art.package.architecture)
    return None


def xen_notes(art: Artifact | None) -> dict[str, Any] | None:
    images, _, _ = parts(art)
    for i in images:
        if isinstance(i.kernel, KernelInfo) and i.kernel.xen_notes is not None:
            return dict(i.kernel.xen_notes)
    return None


_K = ("kernel",)
# a kernel unit is known by its image and config under /boot; modules come with their tree
KERNEL_PATHS = Paths(under=("/boot/", "/lib/modules/", "/usr/lib/modules/"))
_BARE = (Kind.KERNEL_IMAGE, Kind.KERNEL_CONFIG)


def unit(subject: Subject) -> Artifact | None:
    """The kernel unit of a subject. A bare image or config is joined with the bare images
    and configs of the same release given in the same run (one kernel release, checked
    together), so a vmlinux and its config-<release> answer for each other."""
    art = subject.artifact
    if art is None or art.kind not in _BARE:
        return art
    rel = release(art)
    if rel is None:
        return art
    peers = [a for a in subject.run.artifacts if a is not art and a.kind in _BARE
             and not a.error and release(a) == rel]
    if not peers:
        return art
    return Artifact(art.path, Kind.FILE, children=[art, *peers])


@fact("kernel.config", _K, paths=KERNEL_PATHS)
def kernel_config(subject: Subject) -> dict[str, str] | None:
    """The kernel configuration: `/boot/config-<release>` (the kernel-config child), else
    the image's embedded IKCONFIG. `# CONFIG_X is not set` reads as "n"; an option the
    config does not mention is absent: it compares equal to nothing ("y", "m" or "n")."""
    return config(unit(subject))


@fact("kernel.release", _K, paths=KERNEL_PATHS)
def kernel_release(subject: Subject) -> str | None:
    """The kernel release (`uname -r`), e.g. 6.1.0-56-cloud-amd64."""
    return release(unit(subject))


@fact("kernel.version", _K, paths=KERNEL_PATHS)
def kernel_version(subject: Subject) -> Version | None:
    """The kernel release as a version that compares numerically (`kernel.version < "5.3"`)."""
    rel = release(unit(subject))
    if rel is None or kernel_numbers(rel) is None:
        return None
    return Version(rel, "kver")


@fact("kernel.arch", _K, paths=KERNEL_PATHS)
def kernel_arch(subject: Subject) -> str | None:
    """x86_64, arm64, x86 or arm: from the image, else the config, else the package."""
    return arch(unit(subject))


@fact("kernel.xen_notes", _K, paths=KERNEL_PATHS)
def kernel_xen_notes(subject: Subject) -> dict[str, Any] | None:
    """The image's Xen ELF notes by name (GUEST_OS, ENTRY, PHYS32_ENTRY, ...); {} when the
    image has none; unknown when no image was given."""
    return xen_notes(unit(subject))


@fact("kernel.xen_entry", _K, paths=KERNEL_PATHS)
def kernel_xen_entry(subject: Subject) -> bool | None:
    """Whether the image carries a Xen entry point: the PV ENTRY or the PVH PHYS32_ENTRY note."""
    notes = xen_notes(unit(subject))
    if notes is None:
        return None
    return "ENTRY" in notes or "PHYS32_ENTRY" in notes


@fact("kernel.drivers", _K, paths=KERNEL_PATHS)
def kernel_drivers(subject: Subject) -> dict[str, str] | None:
    """Xen drivers by canonical module name (xen_blkfront, xen_netback, xenfs, ...) ->
    "y" built in, "m" module (shipped, or no module tree to check), "m-not-shipped",
    or "n". Unknown without a config."""
    return driver_states(unit(subject))


@fact("kernel.modules_not_shipped", _K, paths=KERNEL_PATHS)
def kernel_modules_not_shipped(subject: Subject) -> str | None:
    """Xen drivers the config builds as modules (=m) whose .ko the package does not ship
    for its release, comma-separated ("" when none). Unknown without a module tree."""
    states = driver_states(unit(subject))
    if states is None or modules(unit(subject)) is None:
        return None
    return ", ".join(n.replace("_", "-") for n, s in states.items() if s == "m-not-shipped")


_BOOT_IMAGE = re.compile(r"/boot/(?:vmlinu[xz]|bzImage|Image|kernel)-[^/]+$")


@fact("kernel.installs_in_boot", _K, paths=KERNEL_PATHS)
def kernel_installs_in_boot(subject: Subject) -> bool | None:
    """Whether the kernel is a package or root tree that puts a kernel image in /boot, where
    grub's scripts look for it and its /boot/config-<release>. False for a bare image or
    config, and for a package carrying a kernel elsewhere (an installer's netboot kernel)."""
    art = subject.artifact
    if art is None:
        return None
    if art.kind in (Kind.KERNEL_IMAGE, Kind.KERNEL_CONFIG):
        return False
    return any(_BOOT_IMAGE.match(p) for p in art.files)


@fact("kernel.config_shipped", _K, paths=KERNEL_PATHS)
def kernel_config_shipped(subject: Subject) -> bool | None:
    """Whether the kernel comes with a readable config: /boot/config-<release> in the package
    or tree, a bare config, or IKCONFIG embedded in the image."""
    art = subject.artifact
    if art is None:
        return None
    if art.kind is Kind.KERNEL_CONFIG:
        return True
    if art.kind is Kind.KERNEL_IMAGE:
        # a bare image says nothing about the package it came from, unless it embeds its config
        return True if art.config else None
    if any(p.startswith("/boot/config-") for p in art.files):
        return True
    images, _, _ = parts(art)
    return any(i.config for i in images)


def missing_options(cfg: dict[str, str], wanted: dict[str, tuple[str, ...]]) -> str:
    return ", ".join(sym.removeprefix("CONFIG_") for sym, ok in wanted.items()
                     if cfg.get(sym, "n") not in ok)


_YM = ("y", "m")


@fact("kernel.dom0_devices_missing", _K, paths=KERNEL_PATHS)
def kernel_dom0_devices_missing(subject: Subject) -> str | None:
    """Toolstack device drivers a dom0 kernel lacks (XENFS, XEN_PRIVCMD, XEN_DEV_EVTCHN,
    XEN_GNTDEV as y/m; XEN_COMPAT_XENFS=y), comma-separated; "" when complete."""
    cfg = config(unit(subject))
    if cfg is None:
        return None
    wanted: dict[str, tuple[str, ...]] = {
        "CONFIG_XENFS": _YM, "CONFIG_XEN_DEV_EVTCHN": _YM, "CONFIG_XEN_GNTDEV": _YM,
        "CONFIG_XEN_COMPAT_XENFS": ("y",)}
    nums = kernel_numbers(release(unit(subject)) or "") or (99,)
    if nums >= (3, 3):  # privcmd became its own driver in 3.3; before, xenfs carried it
        wanted["CONFIG_XEN_PRIVCMD"] = _YM
    return missing_options(cfg, wanted)


@fact("kernel.memory_hotplug_missing", _K, paths=KERNEL_PATHS)
def kernel_memory_hotplug_missing(subject: Subject) -> str | None:
    """Options a guest needs to grow its memory past the boot size, missing from the config."""
    cfg = config(unit(subject))
    if cfg is None:
        return None
    return missing_options(cfg, {"CONFIG_XEN_BALLOON": ("y",), "CONFIG_MEMORY_HOTPLUG": ("y",),
                                 "CONFIG_XEN_BALLOON_MEMORY_HOTPLUG": ("y",)})


@fact("kernel.cpu_hotplug_missing", _K, paths=KERNEL_PATHS)
def kernel_cpu_hotplug_missing(subject: Subject) -> str | None:
    """Options a guest needs to bring hot-plugged vCPUs online (SMP, HOTPLUG_CPU)."""
    cfg = config(unit(subject))
    if cfg is None:
        return None
    return missing_options(cfg, {"CONFIG_SMP": ("y",), "CONFIG_HOTPLUG_CPU": ("y",)})


# ------------------------------------------------------------------ single modules
_M = ("module",)
# xenbus device types the Xen frontends bind to; modprobe finds them by `xen:<type>`
XENBUS_ALIASES = {"xen_netfront": "xen:vif", "xen_blkfront": "xen:vbd",
                  "xen_pcifront": "xen:pci", "xen_scsifront": "xen:vscsi",
                  "xen_tpmfront": "xen:vtpm"}


def _modinfo(subject: Subject) -> ModuleInfo | None:
    art = subject.artifact
    if art is None or art.kind is not Kind.KERNEL_MODULE:
        return None
    return art.module if isinstance(art.module, ModuleInfo) else None


@fact("module.name", _M, paths=KERNEL_PATHS)
def module_name(subject: Subject) -> str | None:
    """The module's name as modprobe compares it (`_` for `-`), e.g. xen_netfront."""
    info = _modinfo(subject)
    return canonical(info.name) if info and info.name else None


@fact("module.aliases", _M, paths=KERNEL_PATHS)
def module_aliases(subject: Subject) -> list[str] | None:
    """The module's `alias=` entries from .modinfo (xen:vif, xennet, ...)."""
    info = _modinfo(subject)
    return list(info.alias) if info else None


@fact("module.xenbus_alias", _M, paths=KERNEL_PATHS)
def module_xenbus_alias(subject: Subject) -> str | None:
    """The `xen:<type>` alias a Xen frontend needs to autoload (xen:vif for xen-netfront);
    unknown for other modules."""
    info = _modinfo(subject)
    if not info or not info.name:
        return None
    return XENBUS_ALIASES.get(canonical(info.name))


def dom0_capable(cfg: dict[str, str]) -> bool:
    return cfg.get("CONFIG_XEN_DOM0") == "y" or cfg.get("CONFIG_XEN_PRIVILEGED_GUEST") == "y"


@fact("kernel.dom0_flavours_in_set", _K, paths=KERNEL_PATHS)
def kernel_dom0_flavours_in_set(subject: Subject) -> str | None:
    """Releases of the other kernels given in the same run (packages, images, configs, root
    trees) whose config says they can run as dom0 (CONFIG_XEN_DOM0=y), comma-separated; ""
    when none does. A distribution that also ships a dom0-capable flavour builds the others
    (Debian's cloud flavour) for guests on purpose."""
    own = release(unit(subject))
    found: set[str] = set()
    for top in subject.run.artifacts:
        if top is subject.artifact or top.kind is Kind.INITRAMFS:
            continue
        images, configs, _trees = parts(top)
        if not (images or configs):
            continue
        rel = release(top)
        cfg = config(top)
        if rel and rel != own and cfg is not None and dom0_capable(cfg):
            found.add(rel)
    return ", ".join(sorted(found))

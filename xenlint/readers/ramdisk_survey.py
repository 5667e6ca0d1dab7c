"""What an initramfs holds, from its entries and a few small files: modules, kernel
releases, modules.builtin, and which generator made it with which settings."""

from __future__ import annotations

import re
import shlex

from xenlint.artifact import Artifact, EntryType, InitramfsInfo, Segment
from xenlint.modnames import module_stem

MODULES_DIR_RE = re.compile(r"^/(?:usr/)?lib/modules/([^/]+)(/.*)?$")
BUILTIN_RE = re.compile(r"^/(?:usr/)?lib/modules/[^/]+/modules\.builtin$")
ITOOLS_CONF = "/conf/initramfs.conf"
ITOOLS_MODULES = "/conf/modules"
DRACUT_DIRS = ("/usr/lib/dracut", "/lib/dracut")
# small files the facts below read; the reader keeps them during its one pass
KEEP_RE = re.compile(
    r"^(?:/conf/initramfs\.conf|/conf/modules|/conf/arch\.conf|/conf/conf\.d/[^/]+"
    r"|(?:/usr)?/lib/dracut/(?:build-parameter|modules)\.txt"
    r"|/(?:usr/)?lib/modules/[^/]+/modules\.builtin)$"
)
_ASSIGN_RE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_DRIVER_OPTS = {"--add-drivers": "add_drivers", "-d": "drivers", "--drivers": "drivers",
                "--force-drivers": "force_drivers", "--omit-drivers": "omit_drivers",
                "--filesystems": "filesystems", "-a": "add_dracutmodules",
                "--add": "add_dracutmodules", "-o": "omit_dracutmodules",
                "--omit": "omit_dracutmodules", "-m": "dracutmodules", "--modules": "dracutmodules"}


def _text(art: Artifact, path: str) -> str | None:
    data = art.read(path)
    return None if data is None else data.decode("utf-8", "replace")


def shell_assignments(text: str) -> dict[str, str]:
    """KEY=value lines of a shell config, quotes removed; later lines win."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = _ASSIGN_RE.match(line)
        if not m:
            continue
        value = m.group(2).split(" #", 1)[0].strip()
        try:
            parts = shlex.split(value, comments=True)
        except ValueError:
            parts = [value.strip("\"'")]
        out[m.group(1)] = " ".join(parts)
    return out


def listed_names(text: str) -> list[str]:
    """First words of non-comment lines (initramfs-tools' conf/modules, dracut's modules.txt)."""
    return [ln.split()[0] for ln in text.splitlines() if ln.strip() and
            not ln.lstrip().startswith("#")]


def builtin_names(text: str) -> list[str]:
    """Module names in a modules.builtin file (`kernel/drivers/.../foo.ko` per line)."""
    names = {module_stem(ln.strip()) for ln in text.splitlines()}
    return sorted(n for n in names if n)


def _initramfs_tools(art: Artifact) -> tuple[dict[str, str], list[str] | None]:
    """Its settings, and the modules conf/modules lists (None: no such file)."""
    settings: dict[str, str] = {}
    conf_d = sorted(p for p in art.entries if p.startswith("/conf/conf.d/"))
    for path in [ITOOLS_CONF, "/conf/arch.conf", *conf_d]:
        text = _text(art, path)
        if text:
            settings.update(shell_assignments(text))
    mods = _text(art, ITOOLS_MODULES)
    return settings, None if mods is None else listed_names(mods)


def _dracut(art: Artifact) -> tuple[dict[str, str], list[str] | None]:
    """Its settings, and the dracut modules modules.txt lists (None: no such file)."""
    settings: dict[str, str] = {}
    base = next((d for d in DRACUT_DIRS if f"{d}/modules.txt" in art.entries
                 or f"{d}/build-parameter.txt" in art.entries), DRACUT_DIRS[0])
    params = _text(art, f"{base}/build-parameter.txt")
    hostonly = any(f"{d}/hostonly-files" in art.entries or
                   f"{d}/loaded-kernel-modules.txt" in art.entries for d in DRACUT_DIRS)
    if params is not None:
        settings["build_parameters"] = params.strip()
        try:
            words = shlex.split(params)
        except ValueError:
            words = params.split()
        for i, word in enumerate(words):
            key, _, inline = word.partition("=")
            name = _DRIVER_OPTS.get(key)
            value = inline if inline else (words[i + 1] if i + 1 < len(words) else "")
            if name:
                settings[name] = " ".join(filter(None, [settings.get(name, ""), value.strip()]))
            elif word in ("-H", "--hostonly"):
                hostonly = True
            elif word in ("-N", "--no-hostonly"):
                hostonly = False
    settings["hostonly"] = "yes" if hostonly else "no"
    mods = _text(art, f"{base}/modules.txt")
    version = next((p.rsplit("/dracut-", 1)[1] for p in art.entries
                    if p.startswith(f"{base}/dracut-") and p.count("/") == base.count("/") + 1),
                   None)
    if version:
        settings["version"] = version
    return settings, None if mods is None else listed_names(mods)


# debian-installer's own markers: its library dir and the start-up hooks of its init
DI_MARKERS = ("/lib/debian-installer", "/usr/lib/debian-installer")
DI_STARTUP = ("/lib/debian-installer-startup.d/", "/usr/lib/debian-installer-startup.d/")
# Drivers of a fixed disk's controller: the block drivers (virtio_blk, xen-blkfront, loop ...),
# libata and its host drivers (ahci), NVMe, and the SCSI host adapters. The SCSI core and its
# upper-level drivers (sd_mod, sr_mod, sg), USB storage and SD cards are not: an installer
# carries them to read firmware or a preseed file from a stick, not to install to a disk.
_DISK_DRIVER = re.compile(r"(?:^|/)kernel/drivers/(?:block|ata|nvme)/.*\.ko(?:\.[a-z0-9]+)?$"
                          r"|(?:^|/)kernel/drivers/scsi/(?!scsi_|sd_mod|sr_mod|sg\.|st\.|ch\."
                          r"|ses\.|enclosure\.|raid_class\.)[^/]+(?:/[^/]+)*\.ko"
                          r"(?:\.[a-z0-9]+)?$")


def is_disk_driver(path: str) -> bool:
    """Whether a module path (packed, or a modules.builtin line) drives a fixed disk."""
    return _DISK_DRIVER.search(path) is not None


def generator(art: Artifact) -> str | None:
    e = art.entries
    if any(m in e for m in DI_MARKERS) and any(p.startswith(DI_STARTUP) for p in e):
        return "debian-installer"
    if ITOOLS_CONF in e and ("/scripts/init-top" in e or "/scripts" in e):
        return "initramfs-tools"
    if any(f"{d}/{m}" in e for d in DRACUT_DIRS for m in ("build-parameter.txt", "modules.txt")):
        return "dracut"
    return None


def derive_facts(art: Artifact, segments: list[Segment]) -> InitramfsInfo:
    modules: set[str] = set()
    releases: set[str] = set()
    builtin: set[str] = set()
    disk: set[str] = set()
    for path, entry in art.entries.items():
        m = MODULES_DIR_RE.match(path)
        if not m:
            continue
        releases.add(m.group(1))
        if entry.type in (EntryType.FILE, EntryType.HARDLINK):
            stem = module_stem(path)
            if stem:
                modules.add(stem)
                if is_disk_driver(path):
                    disk.add(stem)
            elif BUILTIN_RE.match(path):
                text = _text(art, path)
                if text:
                    builtin.update(builtin_names(text))
                    disk.update(module_stem(ln.strip()) or "" for ln in text.splitlines()
                                if is_disk_driver(ln.strip()))
    disk.discard("")
    gen = generator(art)
    settings: dict[str, str] = {}
    listed = dracut_modules = None
    if gen == "initramfs-tools":
        settings, listed = _initramfs_tools(art)
    elif gen == "dracut":
        settings, dracut_modules = _dracut(art)
    return InitramfsInfo(
        segments=segments,
        modules=sorted(modules),
        builtin_modules=sorted(builtin),
        kernel_releases=sorted(releases),
        generator=gen,
        settings=settings,
        early_microcode=any(p.startswith("/kernel/x86/microcode/") for p in art.entries),
        listed_modules=listed,
        dracut_modules=dracut_modules,
        disk_drivers=sorted(disk),
    )

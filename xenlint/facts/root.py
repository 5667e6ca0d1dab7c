"""State only an installed root shows: its boot menu, its default entry, the kernel the
Xen entry boots, the boot services it enables.

A root is a directory artifact of the run together with the installed packages read from
its database (`ROOT:name`). These facts are about the run (subject `packages`): without a
root they are empty or "", so the rules asking them do not apply to package files. A fact
whose answer needs a file the root does not have (no grub.cfg) is unknown, and says why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from xenlint.artifact import Artifact, EntryType, HypervisorInfo, Kind
from xenlint.facts import Paths, Run, Subject, fact
from xenlint.facts import grub as g
from xenlint.facts import scripts as sc
from xenlint.limits import ArtifactError

_S = ("packages",)
# what an installed root's facts look at: its boot files, configuration, units, dpkg's
# database, and the `xl` a package ships
ROOT_PATHS = Paths(under=("/boot/", "/etc/", "/lib/systemd/", "/usr/lib/systemd/",
                          "/var/lib/", *sc.INIT_DIRS),
                   containing=("xen", "/xl", "grub", "vmlinu", "initr"))
GRUB_CFGS = ("/boot/grub/grub.cfg", "/boot/grub2/grub.cfg", "/boot/efi/EFI/*/grub.cfg",
             "/boot/efi/EFI/*/grub2.cfg", "/efi/EFI/*/grub.cfg")
GRUB_DEFAULTS = ("/etc/default/grub",)
DAEMONS = ("xenstored", "xenconsoled")
# sysv scripts that start xenstored and xenconsoled (Debian calls its xencommons "xen")
SYSV_NAMES = ("xencommons", "xen", "xenstored")
UNIT_DIRS = ("/etc/systemd/system/", "/usr/lib/systemd/system/", "/lib/systemd/system/")


@dataclass(slots=True)
class Root:
    top: Artifact
    members: list[Artifact]

    def owner(self, path: str) -> Artifact | None:
        return next((a for a in self.members if path in a.entries), None)

    def has(self, path: str) -> bool:
        return self.owner(path) is not None

    def read(self, path: str) -> bytes | None:
        art = self.owner(path)
        return art.read(path) if art is not None else None

    def text(self, path: str) -> str | None:
        data = self.read(path)
        return None if data is None else data.decode("utf-8", "replace")

    def paths(self) -> Iterator[str]:
        for a in self.members:
            yield from a.entries

    def glob(self, pattern: str) -> list[str]:
        rx = re.compile(pattern.replace(".", r"\.").replace("*", "[^/]*") + "$")
        return sorted(p for p in self.paths() if rx.match(p))

    def hypervisors(self) -> list[tuple[str, str, HypervisorInfo]]:
        """(owner, path inside the root, facts) of each hypervisor image: the installed
        packages', and for a root without a database, the tree's own."""
        out = []
        for art in self.members:
            owner = art.package.name if art.package else "no package"
            for child in art.children:
                info = child.hypervisor
                if info is not None and info.format in ("elf", "pe"):
                    out.append((owner, child.path.rsplit("!", 1)[1], info))
        return out


def roots(run: Run) -> list[Root]:
    out = []
    for top in run.artifacts:
        if top.kind is Kind.DIRECTORY:
            members = [top, *(a for a in run.artifacts if a.kind is Kind.INSTALLED
                              and a.path.startswith(top.path + ":"))]
            out.append(Root(top, members))
    return out


def _image_path(root: Root, path: str) -> str | None:
    """Where a file GRUB loads is in the root: as written, or under /boot (or the EFI system
    partition's mount point) when that is a partition of its own, since GRUB then names
    its files from that partition's top."""
    for cand in (path, "/boot" + path, "/boot/efi" + path, "/efi" + path):
        if root.has(cand):
            return cand
    return None


@dataclass(slots=True)
class Menu:
    path: str
    cfg: g.GrubConfig
    env: dict[str, str] | None
    # GRUB_DEFAULT of /etc/default/grub and grub.d/*.cfg, as written
    configured: str | None = None


def _menu(root: Root) -> Menu | None:
    for pattern in GRUB_CFGS:
        for path in root.glob(pattern):
            text = root.text(path)
            if text is not None:
                envpath = path.rsplit("/", 1)[0] + "/grubenv"
                env = root.text(envpath)
                defaults = [t for p in ("/etc/default/grub",
                                        *root.glob("/etc/default/grub.d/*.cfg"))
                            if (t := root.text(p)) is not None]
                return Menu(path, g.parse(text), g.grubenv(env) if env is not None else None,
                            g.grub_default(defaults))
    return None


def _xen_entries(root: Root, menu: Menu) -> list[g.MenuEntry]:
    installed = {p for _o, p, _i in root.hypervisors()}
    return [e for e in menu.cfg.entries
            if e.hypervisor is not None and _image_path(root, e.hypervisor) in installed]


def _menus(subject: Subject) -> Iterator[tuple[Root, Menu]]:
    """Each root of the run with a hypervisor installed, with its grub menu; a root
    without one makes the asking fact unknown, and says why."""
    for root in roots(subject.run):
        if not root.hypervisors():
            continue
        menu = _menu(root)
        if menu is None:
            raise ArtifactError(f"{root.top.path} has no grub.cfg ({', '.join(GRUB_CFGS[:2])}, "
                                "or an EFI one): it has not been generated, or another "
                                "bootloader is used")
        yield root, menu


@fact("root.hypervisors", _S, paths=ROOT_PATHS)
def root_hypervisors(subject: Subject) -> list[str]:
    """Hypervisor images installed in the run's roots, as "package: /boot/xen-....gz"."""
    return sorted(f"{o}: {p}" for r in roots(subject.run) for o, p, _i in r.hypervisors())


@fact("root.boot_entry_problem", _S, paths=ROOT_PATHS)
def root_boot_entry_problem(subject: Subject) -> str | None:
    """Why no grub menu entry boots an installed hypervisor ("" when one does); unknown
    when the root has no grub.cfg."""
    problems = []
    for root, menu in _menus(subject):
        if not _xen_entries(root, menu):
            images = ", ".join(sorted({p for _o, p, _i in root.hypervisors()}))
            problems.append(f"{menu.path} has no menu entry booting {images} "
                            "(multiboot2/multiboot or chainloader of xen.efi)")
    return "; ".join(problems)


def _default(root: Root, menu: Menu) -> tuple[g.MenuEntry | None, str, str] | None:
    chosen = g.chosen_default(menu.cfg, menu.env, menu.configured)
    if chosen is None:
        return None
    value, where = chosen
    return g.default_entry(menu.cfg, value), value, where


@fact("root.default_boot_problem", _S, paths=ROOT_PATHS)
def root_default_boot_problem(subject: Subject) -> str | None:
    """Why GRUB's default entry does not boot the installed hypervisor ("" when it does):
    the default from `set default=`, grubenv's saved_entry, or the first entry."""
    problems = []
    for root, menu in _menus(subject):
        found = _default(root, menu)
        if found is None:
            raise ArtifactError(f"{menu.path}: the default entry is a variable xenlint "
                                "cannot resolve without booting")
        entry, value, where = found
        if entry is None:
            problems.append(f"default {value!r} ({where}) names no entry of {menu.path}")
        elif entry not in _xen_entries(root, menu):
            problems.append(f"the default entry {entry.path()!r} ({where}) boots no Xen "
                            "hypervisor")
    return "; ".join(problems)


def _boot_entry(root: Root, menu: Menu) -> g.MenuEntry | None:
    """The Xen entry that boots: the default one if it is a Xen entry, else the first."""
    xen = _xen_entries(root, menu)
    found = _default(root, menu)
    if found is not None and found[0] in xen:
        return found[0]
    return xen[0] if xen else None


@fact("root.dom0_kernel_problem", _S, paths=ROOT_PATHS)
def root_dom0_kernel_problem(subject: Subject) -> str | None:
    """Why the Xen entry's kernel cannot run as dom0 or its initramfs is missing ("" when
    both are fine): CONFIG_XEN_DOM0 of /boot/config-<release>, and the files it loads."""
    problems = []
    for root, menu in _menus(subject):
        entry = _boot_entry(root, menu)
        if entry is None:
            continue  # no Xen entry at all: the boot-entry rule says so
        mods = entry.modules
        if not mods:
            problems.append(f"{entry.title!r} loads no dom0 kernel after the hypervisor")
            continue
        kernel = _image_path(root, mods[0])
        if kernel is None:
            problems.append(f"{entry.title!r} boots {mods[0]}, which is not in the root")
        else:
            release = kernel.rsplit("/", 1)[-1].split("-", 1)[-1]
            cfg_path = f"/boot/config-{release}"
            text = root.text(cfg_path)
            if text is None:
                raise ArtifactError(f"{entry.title!r} boots {kernel}, but {cfg_path} is "
                                    "not in the root")
            opts = _options(text)
            if "y" not in (opts.get("CONFIG_XEN_DOM0"), opts.get("CONFIG_XEN_PRIVILEGED_GUEST")):
                problems.append(f"{entry.title!r} boots kernel {release}, which cannot run "
                                f"as dom0: CONFIG_XEN_DOM0 is not set in {cfg_path}")
        for initrd in mods[1:]:
            if _image_path(root, initrd) is None:
                problems.append(f"{entry.title!r} loads the initramfs {initrd}, which is "
                                "not in the root")
    return "; ".join(problems)


def _options(text: str) -> dict[str, str]:
    from xenlint.readers.kconfig import parse_config

    return parse_config(text)


def _link_target(root: Root, path: str) -> str | None:
    art = root.owner(path)
    if art is None:
        return None
    e = art.entries[path]
    return e.link_target if e.type is EntryType.SYMLINK else None


def _sysv_enabled(root: Root) -> tuple[bool, list[str]]:
    """Start links in rc2-5.d to a registered sysv script that starts the daemons."""
    notes = []
    scripts = [p for p in root.glob("/etc/init.d/*") if p.rsplit("/", 1)[1] in SYSV_NAMES
               or {"xenstored", "xencommons"} & set(
                   sc.lsb_header(root.text(p) or "").get("Provides", "").split())]
    for script in scripts:
        name = script.rsplit("/", 1)[1]
        links = [p for p in root.glob("/etc/rc[2-5].d/S*")
                 if re.fullmatch(r"S\d\d" + re.escape(name), p.rsplit("/", 1)[1])]
        if any((t := _link_target(root, p)) is not None and
               t.rsplit("/", 1)[-1] == name for p in links):
            return True, []
        notes.append(f"{script} has no start link in /etc/rc[2-5].d")
    return False, notes


def _systemd_enabled(root: Root) -> tuple[bool, list[str]]:
    """*.wants/ links, or a preset enabling the units, for xenstored and xenconsoled (or
    xencommons.service)."""
    units = {p.rsplit("/", 1)[1] for d in UNIT_DIRS for p in root.glob(d + "*.service")}
    wanted = ["xencommons.service"] if "xencommons.service" in units else \
        [f"{d}.service" for d in DAEMONS]
    if not any(w in units for w in wanted):
        return False, []
    wants = {p.rsplit("/", 1)[1] for p in root.glob("/etc/systemd/system/*.wants/*")}
    presets: set[str] = set()
    for d in sc.PRESET_DIRS:
        for p in root.glob(d.rstrip("/") + "/*.preset"):
            presets |= sc.preset_enables(root.text(p) or "")
    notes = [f"{w} is neither linked in a /etc/systemd/system/*.wants/ nor enabled by a preset"
             for w in wanted
             if w not in wants and not ({w, w.removesuffix(".service"), "*"} & presets)]
    return not notes, notes


@fact("root.toolstacks", _S, paths=ROOT_PATHS)
def root_toolstacks(subject: Subject) -> list[str]:
    """Installed packages of the run's roots that ship xl."""
    return sorted(a.package.name for r in roots(subject.run) for a in r.members
                  if a.package and any(p.rsplit("/", 1)[-1] == "xl" for p in a.files))


@fact("root.xencommons_problem", _S, paths=ROOT_PATHS)
def root_xencommons_problem(subject: Subject) -> str:
    """Why xenstored/xenconsoled would not start at boot in the root ("" when they would):
    sysv start links to a registered script, or systemd *.wants links or presets."""
    problems = []
    found = roots(subject.run)
    for root in found:
        if not any(a.package and any(p.rsplit("/", 1)[-1] == "xl" for p in a.files)
                   for a in root.members):
            continue
        ok, sysv = _sysv_enabled(root)
        if ok:
            continue
        ok, units = _systemd_enabled(root)
        if ok:
            continue
        notes = sysv + units or ["no xencommons-like init script and no xenstored/"
                                 "xenconsoled units"]
        where = f"{root.top.path}: " if len(found) > 1 else ""
        problems.append(where + "; ".join(notes))
    return "; ".join(problems)

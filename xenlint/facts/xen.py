"""Xen toolstack facts: the paths compiled into libxenlight, the Xen version, xl.conf,
hotplug scripts and the start-up of xenstored/xenconsoled.

These are facts of a toolstack package (one that ships the `xl` binary), computed over the
package and its default-install closure within the run (Depends, Pre-Depends, Recommends;
RPM Requires and Recommends), because that is what lands on a host with it. When that
closure names packages the run lacks that could ship what a fact looks for (policy in
xenlint/data/package-sets.toml), the fact is unknown and names them: the upstream
defaults below stand in only for a libxenlight that no package of the closure can ship.
"""

from __future__ import annotations

import io
import re
from functools import lru_cache

from xenlint import capture
from xenlint.artifact import Artifact, EntryType
from xenlint.facts import Paths, Subject, fact
from xenlint.facts import pkgset as ps
from xenlint.facts import scripts as sc

# Upstream defaults (configure without --with-system-qemu; LIBEXEC_BIN = /usr/lib/xen/bin).
DEFAULT_BINDIR = "/usr/lib/xen/bin"
DEFAULT_QEMU = f"{DEFAULT_BINDIR}/qemu-system-i386"
XL_CONF = "/etc/xen/xl.conf"
# libxenlight is read for its compiled-in paths: keep it from the first pass over its package
capture.want(XL_CONF, "/etc/default/grub", "/etc/default/grub.d/*", "/usr/lib*/libxenlight.so*")
_LIBXL = re.compile(r"/libxenlight\.so[.\d]*$")
_UDEV_DIRS = ("/etc/udev/rules.d/", "/lib/udev/rules.d/", "/usr/lib/udev/rules.d/")
_P = ("package",)
# Every fact here is a toolstack's (ps.XL_PATHS) over its closure, and looks at Xen's own
# paths (libxenlight, /usr/lib/xen-X.Y, /etc/xen, xen udev rules, xenpm) or at the device
# models libxl runs (qemu*, or a bare name found in a bin directory).
TOOLSTACK_PATHS = ps.XL_PATHS | Paths(containing=("xen", "qemu"))


def libxenlight(arts: list[Artifact]) -> tuple[Artifact, str] | None:
    for art in arts:
        for path, entry in sorted(art.entries.items()):
            if _LIBXL.search(path) and entry.type in (EntryType.FILE, EntryType.HARDLINK):
                return art, path
    return None


@lru_cache(maxsize=16)
def rodata_strings(data: bytes) -> tuple[str, ...]:
    """NUL-terminated printable strings of an ELF's read-only data sections."""
    # imported here: pyelftools is slow to import, and only a toolstack's libxenlight needs it
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        elf = ELFFile(io.BytesIO(data))
        blobs = [s.data() for s in elf.iter_sections()
                 if s.name in (".rodata", ".data.rel.ro") and s.header.sh_type != "SHT_NOBITS"]
    except (ELFError, ValueError, OSError):
        return ()
    out: list[str] = []
    for blob in blobs:
        out.extend(m.group(1).decode("ascii") for m in
                   re.finditer(rb"([\x20-\x7e]{4,})\x00", blob))
    return tuple(out)


def libxl_strings(arts: list[Artifact]) -> tuple[str, ...] | None:
    found = libxenlight(arts)
    if found is None:
        return None
    data = found[0].read(found[1])
    return rodata_strings(data) if data else None


def closure(subject: Subject) -> list[Artifact]:
    assert subject.artifact is not None
    return ps.PackageSet.of(subject.run).closure(subject.artifact)


def require(subject: Subject, evidence: str, reason: str) -> None:
    """Raise Absent when packages the toolstack's closure names but the run lacks could
    ship `evidence` (see pkgset.PackageSet.require)."""
    assert subject.artifact is not None
    ps.PackageSet.of(subject.run).require(subject.artifact, evidence, reason)


def _toolstack(subject: Subject) -> bool:
    art = subject.artifact
    return art is not None and art.package is not None and \
        bool(ps.real_binaries(art, "xl", ps.PackageSet.of(subject.run)))


def _strings(subject: Subject) -> tuple[str, ...] | None:
    return libxl_strings(closure(subject))


@fact("xen.ships_xl", _P, paths=TOOLSTACK_PATHS)
def xen_ships_xl(subject: Subject) -> bool | None:
    """Whether the package ships the xl toolstack as a real binary (a wrapper symlink, like
    Debian's /usr/sbin/xl in xen-utils-common, does not count)."""
    art = subject.artifact
    return None if art is None or art.package is None else _toolstack(subject)


# QEMU_XEN_PATH is whatever --with-system-qemu gave (any path, or a bare name execvp looks up
# in $PATH), else LIBEXEC_BIN/qemu-system-i386: recognise a qemu binary by its name only.
_QEMU_NAME = re.compile(r"[\w.+-]*qemu[\w.+-]*")
_NOT_BIN = ("/var/", "/run/", "/tmp/", "/proc/", "/sys/", "/dev/", "/etc/", "/local/",
            "/usr/share/", "/usr/include/")
# names libxl uses for other things than the qemu-xen binary (the traditional device model,
# its QMP client name, log names)
_NOT_QEMU_XEN = frozenset({"qemu", "qemu-dm", "qemu-xen", "qemu-xen-traditional", "qemu_xen",
                           "qemu_xen_traditional", "qemu_api"})
# Xen's private bin dir (LIBEXEC_BIN) as libxl__private_bindir_path() returns it
_LIBEXEC_BIN = re.compile(r"/usr(?:/local)?/lib(?:64|exec)?/xen[-\w.]*/bin")
# programs libxl runs from LIBEXEC_BIN by a compiled-in absolute path
_LIBEXEC_PROGS = ("libxl-save-helper", "convert-legacy-stream")


def qemu_xen_path(strings: tuple[str, ...]) -> str | None:
    """QEMU_XEN_PATH among libxenlight's strings: the one absolute path naming a qemu binary,
    else the one bare qemu-system-* name; None when there is none or more than one."""
    def name_ok(name: str) -> bool:
        return _QEMU_NAME.fullmatch(name) is not None and name not in _NOT_QEMU_XEN \
            and not name.startswith("qemu-dm")
    found = {s for s in strings if s.startswith("/") and not s.startswith(_NOT_BIN)
             and re.fullmatch(r"(?:/[\w.+-]+)+", s) and name_ok(s.rsplit("/", 1)[1])}
    if not found:
        found = {s for s in strings if re.fullmatch(r"[\w.+-]*qemu-system-[\w.+-]+", s)}
    return found.pop() if len(found) == 1 else None


def libexec_bin(strings: tuple[str, ...]) -> str | None:
    """LIBEXEC_BIN among libxenlight's strings: the directory of libxl-save-helper (compiled
    in as LIBEXEC_BIN "/libxl-save-helper"), else of convert-legacy-stream, else the one
    string shaped like Xen's private bin dir."""
    for prog in _LIBEXEC_PROGS:
        dirs = {s.rsplit("/", 1)[0] for s in strings
                if s.startswith("/") and s.endswith("/" + prog) and " " not in s}
        if len(dirs) == 1:
            return dirs.pop()
    dirs = {s for s in strings if _LIBEXEC_BIN.fullmatch(s)}
    return dirs.pop() if len(dirs) == 1 else None


def xen_device_model_path(subject: Subject) -> str | None:
    """The qemu-xen path libxl execs (QEMU_XEN_PATH): read from the .rodata of the
    libxenlight in the toolstack's closure (any absolute path to a qemu binary, or a bare
    name looked up in $PATH), else the upstream default /usr/lib/xen/bin/qemu-system-i386;
    unknown when the library was read but shows no single such path."""
    if not _toolstack(subject):
        return None
    strings = _strings(subject)
    if strings is None:
        require(subject, "libxl", "libxenlight, whose compiled-in QEMU_XEN_PATH says where "
                "libxl starts the device model")
        return DEFAULT_QEMU
    return qemu_xen_path(strings)


fact("xen.device_model_path", _P, paths=TOOLSTACK_PATHS)(xen_device_model_path)


def _bindir(subject: Subject, what: str) -> str | None:
    strings = _strings(subject)
    if strings is None:
        require(subject, "libxl", "libxenlight, whose compiled-in private bin directory "
                f"says where libxl runs {what}")
        return DEFAULT_BINDIR
    return libexec_bin(strings)


def shipped_in(arts: list[Artifact], path: str) -> bool | None:
    """Whether `path` is a file once `arts` are installed (symlinks followed); None when a
    symlink leads to a package that was not given."""
    if "/" not in path:  # a bare name is found on $PATH: any bin dir will do
        found = [ps.path_status(arts, d + path) for d in ps.BIN_DIRS]
        return True if True in found else (None if None in found else False)
    return ps.path_status(arts, path)


def _shipped(subject: Subject, path: str, evidence: str, what: str) -> bool | None:
    """shipped_in the toolstack's closure; not shipped there is unknown while packages
    the closure names but the run lacks could ship `evidence` (`what` says it)."""
    found = shipped_in(closure(subject), path)
    if found is False:
        require(subject, evidence, what)
    return found


@fact("xen.device_model_shipped", _P, paths=TOOLSTACK_PATHS)
def xen_device_model_shipped(subject: Subject) -> bool | None:
    """Whether the device-model path libxl uses is shipped by the toolstack package or a
    package its Depends/Recommends reach within the run (symlinks followed; unknown when a
    symlink there leads to a package that was not given)."""
    path = xen_device_model_path(subject)
    return None if path is None else _shipped(
        subject, path, "device-model", f"the device model libxl starts at {path}")


def xen_save_helper_path(subject: Subject) -> str | None:
    """Where libxl runs libxl-save-helper (its private bin dir, from libxenlight's strings)."""
    bindir = _bindir(subject, "libxl-save-helper") if _toolstack(subject) else None
    return None if bindir is None else f"{bindir}/libxl-save-helper"


fact("xen.save_helper_path", _P, paths=TOOLSTACK_PATHS)(xen_save_helper_path)


@fact("xen.save_helper_shipped", _P, paths=TOOLSTACK_PATHS)
def xen_save_helper_shipped(subject: Subject) -> bool | None:
    """Whether libxl-save-helper (needed for save, restore and migration) is shipped where
    libxl runs it, by the toolstack or its closure."""
    path = xen_save_helper_path(subject)
    return None if path is None else _shipped(
        subject, path, "toolstack", f"{path}, which libxl runs to save, restore and migrate "
        "domains")


def _minor(text: str) -> tuple[int, int] | None:
    m = re.match(r"(?:\d+:)?(\d+)\.(\d+)", text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def xen_version(subject: Subject) -> str | None:
    """The Xen release (major.minor) of the toolstack: libxenlight's soname, else
    `/usr/lib/xen-X.Y`, else the toolstack package's version."""
    if not _toolstack(subject):
        return None
    arts = closure(subject)
    found = libxenlight(arts)
    if found:
        m = re.search(r"libxenlight\.so\.(\d+\.\d+)", found[1])
        if m:
            return m.group(1)
    for _art, path in ps.files_of(arts):
        m = re.match(r"/usr/lib(?:64)?/xen-(\d+\.\d+)/", path)
        if m:
            return m.group(1)
    assert subject.artifact is not None and subject.artifact.package is not None
    mm = _minor(subject.artifact.package.version)
    return f"{mm[0]}.{mm[1]}" if mm else None


fact("xen.version", _P, paths=TOOLSTACK_PATHS)(xen_version)


def xen_version_code(subject: Subject) -> int | None:
    """The Xen release as a number, major*100+minor (4.17 -> 417), for version gates."""
    v = xen_version(subject)
    mm = _minor(v) if v else None
    return mm[0] * 100 + mm[1] if mm else None


fact("xen.version_code", _P, paths=TOOLSTACK_PATHS)(xen_version_code)


def xen_qemu_dm_path(subject: Subject) -> str | None:
    """Where libxl runs qemu-xen-traditional (`<private bindir>/qemu-dm`)."""
    bindir = _bindir(subject, "qemu-dm") if _toolstack(subject) else None
    return None if bindir is None else f"{bindir}/qemu-dm"


fact("xen.qemu_dm_path", _P, paths=TOOLSTACK_PATHS)(xen_qemu_dm_path)


@fact("xen.qemu_traditional_built", _P, paths=TOOLSTACK_PATHS)
def xen_qemu_traditional_built(subject: Subject) -> bool | None:
    """Whether this Xen builds qemu-xen-traditional: on by default before 4.16, off (opt-in)
    from 4.16, removed in 4.21. A qemu-dm shipped anywhere in the closure also counts."""
    code = xen_version_code(subject)
    if code is None:
        return None
    if any(p.endswith("/qemu-dm") for _a, p in ps.files_of(closure(subject))):
        return code < 421
    return code < 416


@fact("xen.qemu_dm_shipped", _P, paths=TOOLSTACK_PATHS)
def xen_qemu_dm_shipped(subject: Subject) -> bool | None:
    """Whether qemu-dm is shipped where libxl runs it."""
    path = xen_qemu_dm_path(subject)
    return None if path is None else _shipped(
        subject, path, "device-model", f"{path}, which libxl starts for qemu-xen-traditional "
        "domains")


def _xl_conf(subject: Subject) -> dict[str, str] | None:
    for art in closure(subject):
        if XL_CONF in art.entries:
            data = art.read(XL_CONF)
            text = data.decode("utf-8", "replace") if data else ""
            out = {}
            for line in text.splitlines():
                m = re.match(r"\s*([\w.]+)\s*=\s*(.*?)\s*(?:#.*)?$", line)
                if m and not line.lstrip().startswith("#"):
                    out[m.group(1)] = m.group(2).strip("\"'")
            return out
    require(subject, "toolstack", f"{XL_CONF}, whose settings xl reads instead of its "
            "defaults")
    return {}


@fact("xen.run_hotplug_scripts", _P, paths=TOOLSTACK_PATHS)
def xen_run_hotplug_scripts(subject: Subject) -> int | None:
    """xl.conf `run_hotplug_scripts` (1, the default since Xen 4.2, when unset): whether xl
    runs the vif/block scripts itself or leaves them to udev rules."""
    if not _toolstack(subject):
        return None
    conf = _xl_conf(subject) or {}
    raw = conf.get("run_hotplug_scripts", "1")
    return 0 if raw.strip().lower() in ("0", "false", "no") else 1


@fact("xen.default_bridge", _P, paths=TOOLSTACK_PATHS)
def xen_default_bridge(subject: Subject) -> str | None:
    """xl.conf `vif.default.bridge` (xenbr0 when unset)."""
    if not _toolstack(subject):
        return None
    return (_xl_conf(subject) or {}).get("vif.default.bridge", "xenbr0")


@fact("xen.backend_rules_shipped", _P, paths=TOOLSTACK_PATHS)
def xen_backend_rules_shipped(subject: Subject) -> bool | None:
    """Whether the toolstack's closure ships udev rules for the xen-backend subsystem
    (xen-backend.rules), which ran hotplug scripts before Xen 4.6."""
    if not _toolstack(subject):
        return None
    found = any(p.startswith(_UDEV_DIRS) and "xen" in p.rsplit("/", 1)[-1]
                for _a, p in ps.files_of(closure(subject)))
    if not found:
        require(subject, "toolstack", "udev rules for the xen-backend subsystem")
    return found


@fact("xen.hotplug_scripts_missing", _P, paths=TOOLSTACK_PATHS)
def xen_hotplug_scripts_missing(subject: Subject) -> str | None:
    """Hotplug scripts xl needs that the toolstack's closure lacks or ships without the
    execute bit: /etc/xen/scripts/vif-bridge and block ("" when both are there)."""
    if not _toolstack(subject):
        return None
    arts = closure(subject)
    missing = []
    for name in ("vif-bridge", "block"):
        path = f"/etc/xen/scripts/{name}"
        entries = [a.entries[path] for a in arts if path in a.entries]
        if not entries:
            missing.append(f"{path} (not shipped)")
        elif not any(e.executable or e.type is EntryType.SYMLINK for e in entries):
            missing.append(f"{path} (not executable)")
    if any(m.endswith("(not shipped)") for m in missing):
        require(subject, "toolstack", "the hotplug scripts xl runs for every vif and phy: "
                "disk (/etc/xen/scripts/vif-bridge, block)")
    return ", ".join(missing)


@fact("xen.ships_xenpm", _P, paths=TOOLSTACK_PATHS)
def xen_ships_xenpm(subject: Subject) -> bool | None:
    """Whether the toolstack's closure ships xenpm (the power-management tool, x86)."""
    if not _toolstack(subject):
        return None
    found = any(p.rsplit("/", 1)[-1] == "xenpm" for _a, p in ps.files_of(closure(subject)))
    if not found:
        require(subject, "toolstack", "xenpm")
    return found


_DAEMON_SCRIPTS = ("xencommons", "xen", "xenstored")


def _sysv_status(arts: list[Artifact]) -> tuple[bool, list[str]]:
    notes = []
    enabled = set().union(*(sc.enabled_names(a) for a in arts))
    for art in arts:
        for path in sc.init_scripts(art):
            name = path.rsplit("/", 1)[-1]
            data = art.read(path)
            header = sc.lsb_header(data.decode("utf-8", "replace") if data else "")
            provides = set(header.get("Provides", "").split())
            if name not in _DAEMON_SCRIPTS and not provides & {"xenstored", "xencommons"}:
                continue
            if not header.get("Default-Start", "").strip():
                notes.append(f"{path} has no LSB Default-Start")
            elif name not in enabled:
                notes.append(f"{path} is not registered by update-rc.d/chkconfig in any "
                             "post-install script")
            else:
                return True, []
    return False, notes


def _systemd_status(subject: Subject, arts: list[Artifact]) -> tuple[bool, list[str]]:
    units: dict[str, tuple[Artifact, str]] = {}
    for art in arts:
        for path in sc.units(art):
            units.setdefault(path.rsplit("/", 1)[-1], (art, path))
    wanted = ["xencommons.service"] if "xencommons.service" in units else \
        ["xenstored.service", "xenconsoled.service"]
    if not any(w in units for w in wanted):
        return False, []
    enabled = set().union(*(sc.enabled_names(a) for a in arts))
    for art in subject.run.packages:  # preset files usually come from the distribution
        for path in art.files:
            if path.startswith(sc.PRESET_DIRS):
                data = art.read(path)
                enabled |= sc.preset_enables(data.decode("utf-8", "replace") if data else "")
    notes = []
    for w in wanted:
        if w not in units:
            notes.append(f"{w} is not shipped")
            continue
        art, path = units[w]
        data = art.read(path)
        inst = sc.unit_install(data.decode("utf-8", "replace") if data else "")
        if not (inst.get("WantedBy") or inst.get("RequiredBy")):
            notes.append(f"{path} has no [Install] WantedBy=")
        elif not ({w, w.removesuffix(".service"), "*"} & enabled):
            notes.append(f"{w} is not enabled by a post-install script or a preset")
    return not notes, notes


@fact("xen.xencommons_problem", _P,
      paths=TOOLSTACK_PATHS | Paths(under=sc.INIT_DIRS + sc.UNIT_DIRS + sc.PRESET_DIRS))
def xen_xencommons_problem(subject: Subject) -> str | None:
    """Why xenstored/xenconsoled would not start at boot with this toolstack ("" when
    they would): a sysv xencommons-like script with Default-Start registered by
    update-rc.d/chkconfig, or systemd units with [Install] enabled by a script or a preset."""
    if not _toolstack(subject):
        return None
    arts = closure(subject)
    ok, sysv_notes = _sysv_status(arts)
    if ok:
        return ""
    ok, unit_notes = _systemd_status(subject, arts)
    if ok:
        return ""
    require(subject, "toolstack", "the init script or systemd units that start xenstored "
            "and xenconsoled at boot, or the script that enables them")
    notes = sysv_notes + unit_notes
    return "; ".join(notes) or "no xencommons init script and no xenstored/xenconsoled units"

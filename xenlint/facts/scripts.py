"""Maintainer scripts and init, as facts: what postinst/%post enable, whether they refresh the
bootloader, LSB headers of init scripts and the [Install] section of systemd units."""

from __future__ import annotations

import re

from xenlint import capture
from xenlint.artifact import Artifact
from xenlint.facts import NO_PATHS, Paths, Subject, fact

INIT_DIRS = ("/etc/init.d/", "/etc/rc.d/init.d/")
UNIT_DIRS = ("/usr/lib/systemd/system/", "/lib/systemd/system/", "/etc/systemd/system/")
PRESET_DIRS = ("/usr/lib/systemd/system-preset/", "/lib/systemd/system-preset/",
               "/etc/systemd/system-preset/")
capture.want("/etc/init.d/*", "/etc/rc.d/init.d/*", "/usr/lib/systemd/system/*.service",
             "/usr/lib/systemd/system/*.mount", "/lib/systemd/system/*.service",
             "/lib/systemd/system/*.mount", "/etc/systemd/system/*.service",
             "/usr/lib/systemd/system-preset/*", "/lib/systemd/system-preset/*",
             "/etc/systemd/system-preset/*")

# Scripts that run after unpacking; the bootloader or the init system is touched there.
POST_SCRIPTS = ("postinst", "%post", "%posttrans", "%trigger", "triggers", "config")
_BOOTLOADER = re.compile(r"\b(update-grub2?|grub2?-mkconfig|grubby|update-bootloader|"
                         r"kernel-install|perl-Bootloader|pbl)\b"
                         # XenServer/XCP-ng: the menu boots /boot/xen.gz, which %post re-points
                         r"|\bln\s+-s\w*\s+\S+\s+/boot/xen\.gz\b")
_SET_DEFAULT = re.compile(r"\b(grub2?-set-default|grubby\s+[^\n]*--set-default|"
                          r"update-bootloader\s+[^\n]*--default)")
# How a name gets enabled: sysv registration, systemd enable or preset (what %systemd_post
# expands to), debhelper's wrappers.
_N = r"""['"]?[\w.@-]+['"]?"""  # a unit or script name, maybe quoted (debhelper quotes)
_ENABLERS = (
    re.compile(rf"\bupdate-rc\.d\s+(?:-f\s+)?({_N})\s+(?:defaults|enable|start)"),
    re.compile(rf"\bchkconfig\s+--add\s+({_N})"),
    re.compile(rf"\bchkconfig\s+({_N})\s+on\b"),
    re.compile(rf"\binsserv\s+(?:-\w+\s+)*({_N})"),
    re.compile(rf"\brc-update\s+add\s+({_N})"),
    re.compile(rf"\bdeb-systemd-helper\s+enable\s+((?:{_N}[ \t]*)+)"),
    re.compile(rf"\bsystemctl\s+(?:--[\w-]+\s+)*(?:enable|preset)\s+((?:{_N}[ \t]*)+)"),
    re.compile(rf"%(?:systemd_post|service_add_post)\s+((?:{_N}[ \t]*)+)"),
    # %systemd_post as Fedora expands it since systemd 249: presets, like systemctl preset
    re.compile(rf"\bsystemd-update-helper\s+install-system-units\s+((?:{_N}[ \t]*)+)"),
)


def post_text(art: Artifact) -> str:
    pkg = art.package
    if pkg is None:
        return ""
    return "\n".join(t for k, t in pkg.scripts.items() if k in POST_SCRIPTS)


def refreshes_bootloader(art: Artifact) -> bool:
    return bool(_BOOTLOADER.search(post_text(art)))


def sets_default_entry(art: Artifact) -> bool:
    return bool(_SET_DEFAULT.search(post_text(art)))


def enabled_names(art: Artifact) -> set[str]:
    """Init scripts and units the package's post-install scripts register or enable."""
    text = post_text(art)
    names: set[str] = set()
    for pattern in _ENABLERS:
        for m in pattern.finditer(text):
            names.update(w.strip("'\"") for w in m.group(1).split() if not w.startswith("-"))
    return names


def lsb_header(text: str) -> dict[str, str]:
    """The `### BEGIN INIT INFO` block of a sysv init script as {field: value}."""
    m = re.search(r"^### BEGIN INIT INFO\s*$(.*?)^### END INIT INFO", text, re.M | re.S)
    out: dict[str, str] = {}
    if not m:
        m2 = re.search(r"^#\s*chkconfig:\s*([-\d]+)\s", text, re.M)  # Red Hat header
        if m2 and m2.group(1) != "-":
            out["Default-Start"] = " ".join(m2.group(1))
        return out
    for line in m.group(1).splitlines():
        lm = re.match(r"#\s*([\w-]+):\s*(.*)$", line)
        if lm:
            out[lm.group(1)] = lm.group(2).strip()
    return out


def unit_install(text: str) -> dict[str, str]:
    """The [Install] section of a systemd unit as {key: value} (later keys accumulate)."""
    out: dict[str, str] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        if section == "Install" and "=" in line:
            k, v = (s.strip() for s in line.split("=", 1))
            out[k] = f"{out[k]} {v}".strip() if k in out else v
    return out


def preset_enables(text: str) -> set[str]:
    """Unit names (or globs) a systemd preset file enables."""
    return {m.group(1) for m in re.finditer(r"^\s*enable\s+(\S+)", text, re.M)}


def init_scripts(art: Artifact) -> list[str]:
    return sorted(p for p in art.files if p.startswith(INIT_DIRS) and "/" not in
                  p.split("init.d/", 1)[1])


def units(art: Artifact) -> list[str]:
    return sorted(p for p in art.files if p.startswith(UNIT_DIRS)
                  and p.endswith((".service", ".mount", ".socket")))


def _text(art: Artifact, path: str) -> str:
    data = art.read(path)
    return data.decode("utf-8", "replace") if data else ""


@fact("package.refreshes_bootloader", ("package", "kernel"), paths=NO_PATHS)
def package_refreshes_bootloader(subject: Subject) -> bool | None:
    """Whether postinst / %post / %posttrans regenerate the boot menu (update-grub,
    grub2-mkconfig, grubby, update-bootloader, kernel-install)."""
    art = subject.artifact
    return refreshes_bootloader(art) if art is not None and art.package else None


@fact("package.enabled_services", ("package",), paths=NO_PATHS)
def package_enabled_services(subject: Subject) -> set[str] | None:
    """Names the post-install scripts register or enable (update-rc.d, chkconfig,
    deb-systemd-helper enable, systemctl enable/preset as %systemd_post expands)."""
    art = subject.artifact
    return enabled_names(art) if art is not None and art.package else None


@fact("package.init_default_start", ("package",), paths=Paths(under=INIT_DIRS))
def package_init_default_start(subject: Subject) -> dict[str, str] | None:
    """Each sysv init script the package ships -> its LSB `Default-Start` ("" if none)."""
    art = subject.artifact
    if art is None:
        return None
    return {p: lsb_header(_text(art, p)).get("Default-Start", "") for p in init_scripts(art)}


@fact("package.unit_wanted_by", ("package",), paths=Paths(under=UNIT_DIRS))
def package_unit_wanted_by(subject: Subject) -> dict[str, str] | None:
    """Each systemd unit the package ships -> its `[Install] WantedBy=`/`RequiredBy=` ("" if
    the unit has no [Install] section and so can never be enabled)."""
    art = subject.artifact
    if art is None:
        return None
    out = {}
    for p in units(art):
        inst = unit_install(_text(art, p))
        out[p] = " ".join(v for k, v in inst.items() if k in ("WantedBy", "RequiredBy"))
    return out

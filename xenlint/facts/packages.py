"""Package-set facts: what a package's dependency closure reaches within the run, who ships
which path, man pages for commands, the xenstore split, and the bootloader glue.

Closures follow Depends/Pre-Depends/Recommends (RPM Requires/Recommends) with Provides and
versioned relations (see `pkgset`); "hard" closures follow only Depends/Pre-Depends/Requires.
"""

from __future__ import annotations

import re

from xenlint import capture
from xenlint.artifact import Artifact, EntryType
from xenlint.facts import NO_PATHS, Absent, Paths, Subject, fact
from xenlint.facts import pkgset as ps
from xenlint.facts import scripts as sc
from xenlint.limits import resolve_link

_P = ("package",)
MAN_DIRS = ("/usr/share/man/", "/usr/man/")
capture.want("/etc/modprobe.d/*", "/lib/modprobe.d/*", "/usr/lib/modprobe.d/*")
# man pages every toolstack should bring (xl's own and its two config formats)
CORE_MAN_PAGES = ("xl.1", "xl.cfg.5", "xl.conf.5")
XENSTORE_CLI = ("xenstore-read", "xenstore-write", "xenstore-ls")
_LICENCE = re.compile(r"(?:COPYING|LICEN[CS]E)(?:[._-].*)?$", re.I)
_DOC_EXT = (".html", ".pdf", ".txt", ".md", ".pandoc", ".markdown", ".htm")
# is_xen_doc(): Xen's documentation proper; man_pages(): the man directories
XEN_DOC_PATHS = Paths(containing=("xen",))
MAN_PATHS = Paths(under=MAN_DIRS)


def _art(subject: Subject) -> Artifact | None:
    art = subject.artifact
    return art if art is not None and art.package is not None else None


def _set(subject: Subject) -> ps.PackageSet:
    return ps.PackageSet.of(subject.run)


def is_xen_meta(art: Artifact, within: ps.PackageSet | None = None) -> bool:
    """A Xen meta-package: it ships nothing but its own changelog/copyright-style docs (a
    package shipping Xen documentation proper is the doc package, and one shipping only
    licence texts the licence package, not a meta-package), and is named for Xen or relates
    to Xen packages."""
    pkg = art.package
    if pkg is None:
        return False
    if any(not p.startswith(("/usr/share/doc/", "/usr/share/lintian/", "/usr/share/bug/"))
           or is_xen_doc(p) for p in ps.files(art, within)):
        return False
    files = ps.files(art, within)
    if files and all(_LICENCE.match(p.rsplit("/", 1)[-1]) for p in files):
        return False  # a package of licence texts (Fedora's and CentOS' xen-licenses)
    rel_names = " ".join(pkg.depends + pkg.pre_depends + pkg.recommends + pkg.provides)
    return pkg.name.startswith("xen") or bool(re.search(r"\bxen-(hypervisor|utils|tools)",
                                                         rel_names))


def man_pages(arts: list[Artifact]) -> set[str]:
    """Basenames of the roff man pages shipped, compression suffix dropped (xl.1, xl.cfg.5)."""
    out = set()
    for _a, path in ps.files_of(arts):
        if path.startswith(MAN_DIRS) and "/man" in path[len("/usr/share/man"):]:
            base = path.rsplit("/", 1)[-1]
            out.add(re.sub(r"\.(gz|bz2|xz|zst|Z)$", "", base))
    return out


_SECTION = re.compile(r"\d\w*")


def man_page_commands(pages: set[str]) -> set[str]:
    """The names the pages document: `xl.cfg.5` -> `xl.cfg`, `python3.11.1` -> `python3.11`
    (the section is the last dot's part, a digit and letters)."""
    out = set()
    for page in pages:
        stem, dot, section = page.rpartition(".")
        if dot and _SECTION.fullmatch(section):
            out.add(stem)
    return out


def has_man_page(pages: set[str], command: str) -> bool:
    return command in man_page_commands(pages)


def is_xen_doc(path: str) -> bool:
    """Xen documentation proper (HTML/PDF/text guides), not a package's changelog/copyright."""
    if path.startswith("/usr/share/doc-base/") and "xen" in path.rsplit("/", 1)[-1]:
        return True
    m = re.match(r"/usr/share/doc/(?:packages/)?(xen[^/]*)/(.+)$", path)
    if m is None:
        return False
    return "/html/" in f"/{m.group(2)}" or path.endswith(_DOC_EXT)


@fact("package.is_xen_meta", _P, paths=XEN_DOC_PATHS)
def package_is_xen_meta(subject: Subject) -> bool | None:
    """Whether the package is a Xen meta-package: only /usr/share/doc files, named xen* or
    depending on/providing Xen hypervisor, utils or tools packages."""
    art = _art(subject)
    return is_xen_meta(art, _set(subject)) if art else None


@fact("package.closure", _P, paths=NO_PATHS)
def package_closure(subject: Subject) -> set[str] | None:
    """Names of the packages of the run that installing this one pulls in (itself included):
    Depends/Pre-Depends/Recommends (RPM Requires/Recommends), Provides and versions honoured."""
    art = _art(subject)
    if art is None:
        return None
    return {a.package.name for a in _set(subject).closure(art) if a.package}


_REACH_EVIDENCE = {"hypervisor": ("hypervisor", "a Xen hypervisor image under /boot"),
                   "toolstack": ("xl", "the xl toolstack binary"),
                   "docs": ("docs", "the Xen documentation")}


def _reach(subject: Subject, test: str) -> str | None:
    art = _art(subject)
    if art is None:
        return None
    within = _set(subject)
    for dep in within.closure(art):
        if dep is art:
            continue
        assert dep.package is not None
        if test == "hypervisor" and ps.hypervisor_files(dep, within):
            return dep.package.name
        if test == "toolstack" and ps.real_binaries(dep, "xl", within):
            return dep.package.name
        if test == "docs" and any(is_xen_doc(p) for p in ps.files(dep, within)):
            return dep.package.name
    within.require(art, *_REACH_EVIDENCE[test])
    return ""


def related_names(art: Artifact) -> set[str]:
    """Every name the package's relations (Pre-Depends, Depends, Recommends, Suggests)
    already give, any alternative: a fix never suggests one of them again."""
    pkg = art.package
    if pkg is None:
        return set()
    return {alt.name for rel in (*pkg.pre_depends, *pkg.depends, *pkg.recommends,
                                 *pkg.suggests)
            for alt in ps.parse_relation(rel, pkg.flavor)}


# What a Xen meta-package should relate to when the set holds none: Debian's names, for the
# meta-package's own Xen release and architecture, and Fedora's.
_SUGGEST = {"hypervisor": ("xen-hypervisor-{release}-{arch}", "xen-hypervisor"),
            "toolstack": ("xen-utils-{release}", "xen-runtime"),
            "docs": ("xen-doc", "xen-doc")}


def _suggest(subject: Subject, test: str) -> str | None:
    """A package for the meta-package to relate to so that it reaches `test`: one of its
    own architecture's set that ships it, else the distribution's usual name for the
    meta-package's release and architecture; "" when that is a relation it already has."""
    art = _art(subject)
    if art is None or art.package is None:
        return None
    pkg = art.package
    within = _set(subject)
    have = related_names(art)
    for dep in within.packages:
        if dep is art or dep.package is None or dep.package.flavor != pkg.flavor or \
                not ps.arch_fits(dep, ps.machine(pkg.architecture), None, pkg.flavor):
            continue
        if (test == "hypervisor" and ps.hypervisor_files(dep, within)) or \
                (test == "toolstack" and ps.real_binaries(dep, "xl", within)) or \
                (test == "docs" and any(is_xen_doc(p) for p in ps.files(dep, within))):
            return "" if dep.package.name in have else dep.package.name
    m = re.match(r"(?:\d+:)?(\d+\.\d+)", pkg.version)
    deb_name, rpm_name = _SUGGEST[test]
    name = rpm_name if pkg.flavor == "rpm" else deb_name.format(
        release=m.group(1) if m else "X.Y", arch=pkg.architecture)
    return "" if name in have else name


@fact("package.suggest_hypervisor", _P, paths=ps.HYPERVISOR_PATHS)
def package_suggest_hypervisor(subject: Subject) -> str | None:
    """The package a meta-package should depend on to bring the hypervisor: one of its own
    architecture that ships it in the set, else e.g. xen-hypervisor-4.17-arm64 for
    xen-system-arm64 4.17; "" when it already names that one."""
    return _suggest(subject, "hypervisor")


@fact("package.suggest_toolstack", _P, paths=ps.XL_PATHS)
def package_suggest_toolstack(subject: Subject) -> str | None:
    """The package a meta-package should depend on to bring xl (as suggest_hypervisor)."""
    return _suggest(subject, "toolstack")


@fact("package.suggest_docs", _P, paths=XEN_DOC_PATHS)
def package_suggest_docs(subject: Subject) -> str | None:
    """The package a meta-package should depend on to bring the Xen documentation."""
    return _suggest(subject, "docs")


@fact("package.reaches_hypervisor", _P, paths=ps.HYPERVISOR_PATHS)
def package_reaches_hypervisor(subject: Subject) -> str | None:
    """The package of the closure that ships a hypervisor (`/boot/xen*`), or ""."""
    return _reach(subject, "hypervisor")


@fact("package.reaches_toolstack", _P, paths=ps.XL_PATHS)
def package_reaches_toolstack(subject: Subject) -> str | None:
    """The package of the closure that ships the xl binary, or ""."""
    return _reach(subject, "toolstack")


@fact("package.reaches_docs", _P, paths=XEN_DOC_PATHS)
def package_reaches_docs(subject: Subject) -> str | None:
    """The package of the closure that ships Xen documentation (/usr/share/doc/xen*/ HTML,
    PDF or text guides, or a doc-base entry), or ""."""
    return _reach(subject, "docs")


@fact("package.hard_closure_man_pages_missing", _P, paths=MAN_PATHS)
def package_core_man_pages_missing(subject: Subject) -> str | None:
    """Core toolstack man pages (xl.1, xl.cfg.5, xl.conf.5) that neither the package nor a
    package it hard-depends on ships, comma-separated ("" when all are there)."""
    art = _art(subject)
    if art is None:
        return None
    within = _set(subject)
    pages = man_pages(within.closure(art, ps.HARD))
    missing = ", ".join(p for p in CORE_MAN_PAGES if p not in pages)
    if missing:
        within.require(art, "man-pages", f"the man pages {missing}", ps.HARD)
    return missing


_XEN_COMMAND = re.compile(r"(xen|xl$|xl-)")


def xen_commands(art: Artifact, within: ps.PackageSet | None = None) -> list[str]:
    """Every command a Xen package puts on $PATH, whatever its name (oxenstored, gdbsx,
    flask-*, vchan-socket-proxy): a Xen package is one named xen* or shipping a xen*/xl
    command. Another package's commands are its own business."""
    found = ps.commands(art, within)
    name = art.package.name if art.package is not None else ""
    if name.startswith("xen") or any(_XEN_COMMAND.match(c.rsplit("/", 1)[-1]) for c in found):
        return found
    return []


@fact("package.commands_without_man_pages", _P,
      paths=ps.COMMAND_PATHS | MAN_PATHS)
def package_commands_without_man_pages(subject: Subject) -> str | None:
    """Commands a Xen package puts on $PATH (whatever their names) that have no man page
    anywhere in the run, comma-separated ("" when every one has a page)."""
    art = _art(subject)
    if art is None:
        return None
    within = _set(subject)
    # once per run, as a set: an archive has some 100,000 pages to look a command up in
    documented = within.remember(
        "man_page_commands", lambda: man_page_commands(man_pages(subject.run.packages)))
    names = sorted({c.rsplit("/", 1)[-1] for c in xen_commands(art, within)})
    missing = ", ".join(n for n in names if n not in documented)
    if missing:
        within.require(art, "man-pages", f"man pages of its commands ({missing})")
    return missing


@fact("package.ships_xenstore_cli", _P, paths=ps.COMMAND_PATHS)
def package_ships_xenstore_cli(subject: Subject) -> bool | None:
    """Whether the package ships the xenstore command-line tools (xenstore-read/-write/-ls)."""
    art = _art(subject)
    if art is None:
        return None
    names = {c.rsplit("/", 1)[-1] for c in ps.commands(art, _set(subject))}
    return any(n in names for n in XENSTORE_CLI)


@fact("package.xenstore_split_problem", _P, paths=ps.XL_PATHS)
def package_xenstore_split_problem(subject: Subject) -> str | None:
    """Why the xenstore tools of this package are not usable apart from the full toolset
    ("" when they are): it ships xl itself, or hard-depends on the package that does."""
    art = _art(subject)
    if art is None:
        return None
    within = _set(subject)
    if ps.real_binaries(art, "xl", within) or \
            any(c.endswith("/xl") for c in ps.commands(art, within)):
        return "it ships xl itself"
    for dep in within.closure(art, ps.HARD):
        if dep is not art and dep.package and ps.real_binaries(dep, "xl", within):
            return f"it hard-depends on {dep.package.name}, which ships xl"
    return ""


@fact("package.ships_hypervisor", _P, paths=ps.HYPERVISOR_PATHS)
def package_ships_hypervisor(subject: Subject) -> bool | None:
    """Whether the package ships a Xen hypervisor image under /boot (xen*.gz, .efi, ...)."""
    art = _art(subject)
    return bool(ps.hypervisor_files(art, _set(subject))) if art else None


def _grub_default_files(arts: list[Artifact]) -> bool:
    for art in arts:
        for path in art.files:
            if path == "/etc/default/grub" or path.startswith("/etc/default/grub.d/"):
                data = art.read(path) or b""
                text = data.decode("utf-8", "replace")
                # Debian's xen.cfg: GRUB_DEFAULT=$(printf "%s, with Xen hypervisor" ...),
                # unless the admin's switch XEN_OVERRIDE_GRUB_DEFAULT is set to 0
                if re.search(r"^\s*XEN_OVERRIDE_GRUB_DEFAULT=[\"']?0", text, re.M):
                    continue
                if re.search(r"(?<![A-Z_])GRUB_DEFAULT=.{0,200}?\bXen\b", text, re.S):
                    return True
    return False


@fact("package.sets_xen_default_boot", _P, paths=Paths(under=("/etc/default/grub",)))
def package_sets_xen_default_boot(subject: Subject) -> bool | None:
    """Whether installing the package (with its closure) makes Xen the default boot entry:
    a /etc/default/grub[.d] file setting GRUB_DEFAULT to the Xen entry, or a script calling
    grub2-set-default / grubby --set-default / update-bootloader --default."""
    art = _art(subject)
    if art is None:
        return None
    within = _set(subject)
    arts = within.closure(art)
    found = _grub_default_files(arts) or any(sc.sets_default_entry(a) for a in arts)
    if not found:
        within.require(art, "bootloader", "a GRUB defaults file or a script making Xen the "
                       "default boot entry")
    return found


@fact("package.bootloader_refreshed", _P, paths=NO_PATHS)
def package_bootloader_refreshed(subject: Subject) -> bool | None:
    """Whether the package, or one its closure pulls in with it, refreshes the boot menu in
    a post-install script (update-grub, grub2-mkconfig, grubby, update-bootloader)."""
    art = _art(subject)
    if art is None:
        return None
    within = _set(subject)
    found = any(sc.refreshes_bootloader(a) for a in within.closure(art))
    if not found:
        within.require(art, "bootloader", "a post-install script that refreshes the boot "
                       "menu (update-grub, grub2-mkconfig)")
    return found


_MODPROBE_DIRS = ("/etc/modprobe.d/", "/lib/modprobe.d/", "/usr/lib/modprobe.d/")
_MODPROBE_CONF = re.compile(r"/(?:etc|lib|usr/lib)/modprobe\.d/[^/]+\.conf$")
_BLACKLIST = re.compile(r"^\s*(?:blacklist\s+(xen[-_]netfront)\b|"
                        r"install\s+(xen[-_]netfront)\s+/bin/(?:false|true))", re.M)


@fact("package.netfront_blacklisted", _P, paths=Paths(under=_MODPROBE_DIRS))
def package_netfront_blacklisted(subject: Subject) -> str | None:
    """The modprobe.d file that blacklists xen-netfront (or installs it as /bin/false), or ""."""
    art = _art(subject)
    if art is None:
        return None
    confs = (p for p in ps.files(art, _set(subject)) if p.startswith(_MODPROBE_DIRS))
    for path in sorted(confs):  # asked of every package: sort only modprobe.d's files
        if _MODPROBE_CONF.match(path) and art.entries[path].type is not EntryType.SYMLINK:
            data = art.read(path) or b""
            if _BLACKLIST.search(data.decode("utf-8", "replace")):
                return path
    return ""


@fact("packages.hypervisors", ("packages",), paths=ps.HYPERVISOR_PATHS)
def packages_hypervisors(subject: Subject) -> list[str]:
    """Names of the packages of the run that ship a Xen hypervisor under /boot."""
    within = _set(subject)
    return sorted(a.package.name for a in subject.run.packages
                  if a.package and ps.hypervisor_files(a, within))


@fact("packages.grub_xen_generator", ("packages",), paths=Paths(under=("/etc/grub.d/",)))
def packages_grub_xen_generator(subject: Subject) -> str:
    """The grub menu generator for Xen entries some artifact of the run ships
    (/etc/grub.d/*_linux_xen, e.g. Debian grub-common's 20_linux_xen), or ""."""
    for art in subject.run.artifacts:
        for path in sorted(art.files):
            if re.match(r"/etc/grub\.d/\d\d_\w*xen\w*$", path):
                return path
    return ""


# Where a link may point at what the running system makes, not at what a package ships.
_RUNTIME_TARGETS = ("/etc/alternatives/", "/proc/", "/sys/", "/dev/", "/run/", "/var/",
                    "/tmp/")
# merged /usr: /bin, /sbin and /lib are links to their /usr twins on the installed system
_MERGED = (("/bin/", "/usr/bin/"), ("/sbin/", "/usr/sbin/"), ("/lib/", "/usr/lib/"),
           ("/lib64/", "/usr/lib64/"))


def is_xen_package(art: Artifact, within: ps.PackageSet | None = None) -> bool:
    """A package of Xen's own: named xen*/libxen*, or shipping xen*/xl commands."""
    name = art.package.name if art.package is not None else ""
    return name.startswith(("xen", "libxen")) or (bool(
        xen_commands(art, within)) and not name.startswith("qemu"))


# RPM requirements on rpm's own features, not on a package
_RPM_FEATURE = re.compile(r"(?:rpmlib|rtld|config)\(")


def _spellings(path: str) -> tuple[str, ...]:
    for short, usr in _MERGED:
        if path.startswith(short):
            return path, usr + path[len(short):]
        if path.startswith(usr):
            return path, short + path[len(usr):]
    return (path,)


# A link may point anywhere, but an archive's Contents cannot be kept whole: the paths
# asked about are Xen's own. A target outside them, in a package whose file list an audit
# trimmed to the declared paths (or that an index names without a list), is undecided.
LINK_PATHS = Paths(containing=("xen",))


def _may_omit(art: Artifact, path: str) -> bool:
    """Whether `art`'s file list may lack `path` although the package ships it."""
    meta = art.meta
    if not meta.metadata_only:
        return False
    return meta.index in (None, "Packages", "primary") or (
        meta.trimmed and not LINK_PATHS.covers(path))


@fact("package.symlinks_not_shipped", _P, paths=LINK_PATHS)
def package_symlinks_not_shipped(subject: Subject) -> str | None:
    """Symlinks of a Xen package whose target neither the package nor any package its
    Depends/Pre-Depends (RPM Requires) reach in the run ships, as `link -> target`, each
    followed by who ships the target elsewhere in the run, if anyone ("" when all resolve;
    runtime places like /etc/alternatives, /proc or /var are not judged). Unknown when a
    hard relation that is not in the run could ship a dangling target (a Xen package, as
    for toolstack files, for a Xen path; any package for another path)."""
    art = _art(subject)
    if art is None:
        return None
    within = _set(subject)
    if not is_xen_package(art, within):
        return ""
    links = sorted((p, e.link_target) for p, e in art.entries.items()
                   if e.type is EntryType.SYMLINK and e.link_target)
    if not links:
        return ""
    closure = within.closure(art, ps.HARD)
    # by identity: an Artifact's == compares every field, and the set holds 65,000 packages
    members = {id(m) for m in closure}
    shipped: set[str] = set()
    dirs: set[str] = set()
    for member in closure:
        for path in member.entries:
            shipped.add(path)
            parent = path.rsplit("/", 1)[0]
            while parent and parent not in dirs:
                dirs.add(parent)
                parent = parent.rsplit("/", 1)[0]
    absent = [n for n in within.absent(art, ps.HARD) if not _RPM_FEATURE.match(n)]
    # an absent Xen package could ship a Xen file; an absent libc6 or python3 ships none
    xen_carriers = [n for n in absent if ps.could_carry(n, "toolstack")]
    found: list[str] = []
    undecided: list[str] = []
    partial: list[str] = []  # packages in the run whose file lists may omit a target
    name = art.package.name if art.package is not None else ""
    flavor = art.package.flavor if art.package is not None else ""
    for path, raw in links:
        target = resolve_link(path, raw)
        # a documentation link may point at the docs of a Suggested package, by design
        if path.startswith("/usr/share/doc/") or target.startswith(_RUNTIME_TARGETS) or \
                any(t in shipped or t in dirs for t in _spellings(target)):
            continue
        shippers = [a for a in within.packages if a.package is not None
                    and a.package.flavor == flavor and id(a) not in members
                    and any(t in a.entries for t in _spellings(target))]
        # a -common package comes in as a Depends of the packages it serves: its links
        # into one of them resolve on every system that has it
        if name.endswith("-common") and any(
                art in within.closure(s, ps.HARD) for s in shippers):
            continue
        carriers = xen_carriers if "xen" in target else absent
        if carriers:
            undecided += [n for n in carriers if n not in undecided]
            continue
        # a -common package's exemption above hangs on the shippers' lists too
        pool = [*closure, *within.packages] if name.endswith("-common") else closure
        unlisted = [m for m in pool if m.package is not None
                    and any(_may_omit(m, t) for t in _spellings(target))]
        if unlisted:
            partial += [m.package.name for m in unlisted
                        if m.package is not None and m.package.name not in partial]
            continue
        elsewhere = sorted({a.package.name for a in shippers if a.package is not None})
        note = ", ".join(elsewhere) if elsewhere else "nothing in the run"
        found.append(f"{path} -> {raw} (shipped by {note})")
    if undecided and not found:
        verb = "is" if len(undecided) == 1 else "are"
        raise Absent(f"{', '.join(undecided)} {verb} not in the run and could ship the "
                     "target of a symlink the package ships", undecided)
    if partial and not found:
        raise Absent(f"the file lists of {', '.join(sorted(partial))} come from a repository "
                     "index that does not list every file, and one of them could ship the "
                     "target of a symlink the package ships", [])
    return "; ".join(found)

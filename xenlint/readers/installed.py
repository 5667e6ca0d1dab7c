"""An installed root: the packages its database says are installed, each an artifact.

A root tree (a chroot, a mounted image, `/` itself) that holds a package database is read
as the set of its installed packages, each named `ROOT:name`:

- dpkg: `var/lib/dpkg/status` gives identity and relations; `info/<pkg>.list` the file
  list, `info/<pkg>.conffiles` the conffiles, `info/<pkg>.{preinst,postinst,...}` the
  maintainer scripts;
- rpm: the header blobs of `rpmdb.sqlite` (`var/lib/rpm/` or `usr/lib/sysimage/rpm/`),
  opened read-only and immutable, parsed as a package file's header is.

Each package's entries are its listed paths as found in ROOT (a listed file that is
missing from ROOT is not installed any more), and its contents are read from ROOT. What no
package owns stays in the root's own artifact, as a root without a database is read.
Nothing is written, locked or run: `xenlint check /` is safe on a live system.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

from debian.deb822 import Deb822

from xenlint.artifact import Artifact, Entry, EntryType, Kind, Package
from xenlint.limits import ArtifactError, Limits
from xenlint.readers import ReadContext, derive_children, describe_exception
from xenlint.readers.deb import CONTROL_SCRIPTS, package_from_fields, shebang
from xenlint.readers.directory import Tree, scan_tree, tree_artifact
from xenlint.readers.rpm import installed_from_header

DPKG_STATUS = "/var/lib/dpkg/status"
DPKG_INFO = "/var/lib/dpkg/info"
RPMDB_DIRS = ("/var/lib/rpm", "/usr/lib/sysimage/rpm")
# what Berkeley DB and NDB rpm databases are called: rpm < 4.16 and SUSE's ndb
OTHER_RPMDBS = ("Packages", "Packages.db")
# dpkg states in which a package's files are on disk
ON_DISK = ("installed", "triggers-awaited", "triggers-pending", "half-configured",
           "unpacked", "half-installed")


def has_package_db(root: Path) -> bool:
    return (root / DPKG_STATUS[1:]).is_file() or any(
        (root / d[1:] / name).is_file() for d in RPMDB_DIRS
        for name in ("rpmdb.sqlite", *OTHER_RPMDBS))


def read_installed_root(root: Path, display: str, limits: Limits) -> list[Artifact]:
    """The root's own artifact (files no package owns) and one per installed package."""
    try:
        return _read(root, display, limits)
    except OSError as exc:  # a file that vanished or may not be read while walking
        where = f" ({exc.filename})" if exc.filename else ""
        return [Artifact(display, Kind.DIRECTORY,
                         error=f"cannot be read: {exc.strerror or exc}{where}")]
    except Exception as exc:
        if os.environ.get("XENLINT_DEBUG"):
            raise
        return [Artifact(display, Kind.DIRECTORY, error=describe_exception(exc))]


def _read(root: Path, display: str, limits: Limits) -> list[Artifact]:
    ctx = ReadContext.top(limits, display)
    tree = scan_tree(root, ctx)
    found = _dpkg(tree, display, ctx) if DPKG_STATUS in tree.entries else []
    found += _rpmdb(tree, display, ctx)
    owned: set[str] = set()
    out: list[Artifact] = []
    names = [pkg.name for pkg, _ in found]
    for pkg, listed in found:
        entries: dict[str, Entry] = {}
        for path in listed:
            real = tree.resolve(path, follow_last=False)
            e = tree.entries.get(real) if real is not None else None
            if e is None or real is None:
                continue
            entries[path] = e._replace(path=path)
            if e.type is not EntryType.DIRECTORY:
                owned.add(real)
        label = pkg.name if names.count(pkg.name) == 1 else f"{pkg.name}:{pkg.architecture}"
        art = tree_artifact(tree, f"{display}:{label}", entries, ctx, kind=Kind.INSTALLED,
                            package=pkg)
        # a listed path that others sit below is a directory: no file of its own is missing
        parents = {p.rsplit("/", 1)[0] for p in listed}
        missing = sorted(p for p in listed if p not in entries and p not in parents)[:50]
        art.meta = replace(art.meta, missing_files=missing)
        out.append(art)
    rest = {p: e for p, e in tree.entries.items() if p not in owned}
    top = tree_artifact(tree, display, rest, ctx)
    top.meta = replace(top.meta, package_db="dpkg" if DPKG_STATUS in tree.entries else "rpm")
    for art in (top, *out):
        derive_children(art, ctx)
    return [top, *out]


def _text(tree: Tree, path: str, ctx: ReadContext) -> str | None:
    data = tree.read([path], ctx.limits.max_held_bytes).get(path)
    return None if data is None else data.decode("utf-8", "replace")


def _dpkg(tree: Tree, display: str, ctx: ReadContext) -> list[tuple[Package, list[str]]]:
    status = _text(tree, DPKG_STATUS, ctx)
    if status is None:
        raise ArtifactError(f"has {DPKG_STATUS}, but it is not a readable file")
    out: list[tuple[Package, list[str]]] = []
    for para in Deb822.iter_paragraphs(status.splitlines(keepends=True)):
        state = para.get("Status", "").split()
        if len(state) != 3 or state[2] not in ON_DISK:
            continue
        try:
            pkg = package_from_fields(para, f"a {DPKG_STATUS} paragraph")
        except ArtifactError as exc:
            raise ArtifactError(f"{DPKG_STATUS}: {exc}") from None
        arch = pkg.architecture
        # Multi-Arch: same packages keep their files under name:arch
        base = next((b for b in (f"{pkg.name}:{arch}", pkg.name)
                     if f"{DPKG_INFO}/{b}.list" in tree.entries), pkg.name)
        info = f"{DPKG_INFO}/{base}"
        listing = _text(tree, f"{info}.list", ctx) or ""
        files = [ln for ln in listing.splitlines() if ln.startswith("/") and ln != "/."]
        scripts = {name: text for name in CONTROL_SCRIPTS if name != "triggers"
                   if (text := _text(tree, f"{info}.{name}", ctx)) is not None}
        pkg.scripts = scripts
        pkg.interpreters = {k: i for k, v in scripts.items() if (i := shebang(v)) is not None}
        conffiles = _text(tree, f"{info}.conffiles", ctx)
        if conffiles is not None:
            pkg.conffiles = [w for ln in conffiles.splitlines() for w in ln.split()[-1:]
                             if w.startswith("/")]
        else:
            pkg.conffiles = [ln.split()[0] for ln in para.get("Conffiles", "").splitlines()
                             if ln.strip()]
        triggers = _text(tree, f"{info}.triggers", ctx)
        if triggers is not None:
            pkg.triggers = [ln.strip() for ln in triggers.splitlines()
                            if ln.strip() and not ln.lstrip().startswith("#")]
        pkg.fields["Status"] = " ".join(state)
        out.append((pkg, files))
    return out


def _rpmdb(tree: Tree, display: str, ctx: ReadContext) -> list[tuple[Package, list[str]]]:
    for d in RPMDB_DIRS:
        db = f"{d}/rpmdb.sqlite"
        real = tree.resolve(db)
        if real is not None and real in tree.disk:
            return _rpm_sqlite(tree.disk[real], db, display, ctx)
        for other in OTHER_RPMDBS:
            if tree.resolve(f"{d}/{other}") in tree.disk:
                raise ArtifactError(f"has an rpm database in {d}/{other}: unsupported rpmdb "
                                    "backend (Berkeley DB or NDB; xenlint reads rpmdb.sqlite)")
    return []


def _rpm_sqlite(path: Path, db: str, display: str,
                ctx: ReadContext) -> list[tuple[Package, list[str]]]:
    # immutable: SQLite takes no lock and writes no journal or -shm file next to it
    uri = f"file:{quote(str(path))}?mode=ro&immutable=1"
    out: list[tuple[Package, list[str]]] = []
    try:
        con = sqlite3.connect(uri, uri=True)
        try:
            rows = con.execute("SELECT hnum, blob FROM Packages ORDER BY hnum").fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise ArtifactError(f"{db}: is not a readable rpmdb ({exc})") from None
    for hnum, blob in rows:
        if not isinstance(blob, bytes):
            raise ArtifactError(f"{db}: package {hnum} has no header blob")
        art = installed_from_header(blob, f"{db} package {hnum}", ctx)
        assert art.package is not None
        out.append((art.package, list(art.entries)))
    return out

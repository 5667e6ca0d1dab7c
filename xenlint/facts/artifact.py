"""Generic facts: artifact identity, package fields and relations, the package set of a run."""

from __future__ import annotations

import re
from typing import Any

from xenlint.artifact import Artifact, Package
from xenlint.facts import NO_PATHS, Subject, fact

_ALL = ("package", "kernel", "initramfs", "module")

# A relation names a package first; everything after it is a version constraint or an
# architecture qualifier (Debian "foo:any (>= 1)", RPM "foo >= 1-2" or "libc.so.6()(64bit)").
_REL_NAME = re.compile(r"\s*([^\s(<>=!,|]+(?:\([^)]*\))*)")


def relation_names(relations: list[str]) -> set[str]:
    """Package names a list of Depends-style relations mentions (each alternative counts)."""
    names: set[str] = set()
    for rel in relations:
        for alt in rel.split("|"):
            m = _REL_NAME.match(alt)
            if m:
                name = m.group(1)
                # Debian multiarch qualifier (foo:any): the name is before the colon,
                # but an RPM rich name like perl(Foo::Bar) keeps its colons
                if "(" not in name:
                    name = name.split(":", 1)[0]
                names.add(name)
    return names


def _pkg(subject: Subject) -> Package | None:
    art = subject.artifact
    return art.package if art is not None else None


@fact("artifact.name", _ALL, paths=NO_PATHS)
def artifact_name(subject: Subject) -> str | None:
    """The file name of the artifact (its last path component)."""
    return subject.artifact.name if subject.artifact else None


@fact("artifact.path", _ALL, paths=NO_PATHS)
def artifact_path(subject: Subject) -> str | None:
    """The artifact's path as given, with `!` separating nested members."""
    return subject.artifact.path if subject.artifact else None


@fact("artifact.kind", _ALL, paths=NO_PATHS)
def artifact_kind(subject: Subject) -> str | None:
    """What the reader recognised: deb, rpm, directory, kernel-image, initramfs, ..."""
    return subject.artifact.kind.value if subject.artifact else None


@fact("artifact.files", _ALL)
def artifact_files(subject: Subject) -> set[str] | None:
    """Absolute paths of every non-directory entry (files, symlinks, devices)."""
    return set(subject.artifact.files) if subject.artifact else None


@fact("artifact.paths", _ALL)
def artifact_paths(subject: Subject) -> set[str] | None:
    """Absolute paths of every entry, directories included."""
    return set(subject.artifact.entries) if subject.artifact else None


@fact("artifact.symlinks", _ALL)
def artifact_symlinks(subject: Subject) -> dict[str, str] | None:
    """Symbolic links: path -> target as written."""
    art = subject.artifact
    if art is None:
        return None
    return {p: e.link_target or "" for p, e in art.entries.items() if e.link_target is not None}


@fact("package.name", ("package", "kernel"), paths=NO_PATHS)
def package_name(subject: Subject) -> str | None:
    """The package name (Package: / Name:)."""
    pkg = _pkg(subject)
    return pkg.name if pkg else None


@fact("package.version", ("package", "kernel"), paths=NO_PATHS)
def package_version(subject: Subject) -> str | None:
    """The full version as the package manager orders it: [epoch:]version[-revision|-release]."""
    pkg = _pkg(subject)
    if pkg is None:
        return None
    if pkg.flavor == "rpm" and pkg.release and not pkg.version.endswith(f"-{pkg.release}"):
        full = f"{pkg.version}-{pkg.release}"
        return f"{pkg.epoch}:{full}" if pkg.epoch else full
    return pkg.version


@fact("package.architecture", ("package", "kernel"), paths=NO_PATHS)
def package_architecture(subject: Subject) -> str | None:
    """The package architecture (amd64, x86_64, all, noarch, ...)."""
    pkg = _pkg(subject)
    return pkg.architecture if pkg else None


@fact("package.flavor", ("package", "kernel"), paths=NO_PATHS)
def package_flavor(subject: Subject) -> str | None:
    """`deb` or `rpm`: which relation syntax and version ordering the package follows."""
    pkg = _pkg(subject)
    return pkg.flavor if pkg else None


@fact("package.files", ("package", "kernel"))
def package_files(subject: Subject) -> set[str] | None:
    """Absolute paths of the files (and symlinks) the package ships."""
    art = subject.artifact
    return set(art.files) if art is not None and art.package else None


@fact("package.depends", ("package", "kernel"), paths=NO_PATHS)
def package_depends(subject: Subject) -> set[str] | None:
    """Names in Depends and Pre-Depends (RPM: Requires); alternatives each count."""
    pkg = _pkg(subject)
    return relation_names(pkg.depends + pkg.pre_depends) if pkg else None


@fact("package.recommends", ("package", "kernel"), paths=NO_PATHS)
def package_recommends(subject: Subject) -> set[str] | None:
    """Names in Recommends (RPM: weak Recommends)."""
    pkg = _pkg(subject)
    return relation_names(pkg.recommends) if pkg else None


@fact("package.provides", ("package", "kernel"), paths=NO_PATHS)
def package_provides(subject: Subject) -> set[str] | None:
    """The package's own name and the names it Provides."""
    pkg = _pkg(subject)
    return relation_names(pkg.provides) | {pkg.name} if pkg else None


@fact("package.relations", ("package", "kernel"), paths=NO_PATHS)
def package_relations(subject: Subject) -> dict[str, list[str]] | None:
    """Relations as written, by field: depends, pre_depends, recommends, suggests, ..."""
    pkg = _pkg(subject)
    if pkg is None:
        return None
    return {k: list(getattr(pkg, k)) for k in (
        "depends", "pre_depends", "recommends", "suggests", "provides", "conflicts", "breaks")}


@fact("package.scripts", ("package", "kernel"), paths=NO_PATHS)
def package_scripts(subject: Subject) -> dict[str, str] | None:
    """Maintainer scripts / scriptlets by name (postinst, post, ...) with their text."""
    pkg = _pkg(subject)
    return dict(pkg.scripts) if pkg else None


@fact("package.fields", ("package", "kernel"), paths=NO_PATHS)
def package_fields(subject: Subject) -> dict[str, str] | None:
    """Control fields or header tags as text (Section, Source, Group, ...)."""
    pkg = _pkg(subject)
    return dict(pkg.fields) if pkg else None


def _summary(art: Artifact) -> dict[str, Any]:
    pkg = art.package
    assert pkg is not None
    return {"name": pkg.name, "version": pkg.version, "architecture": pkg.architecture,
            "flavor": pkg.flavor, "path": art.path, "files": set(art.files),
            "depends": relation_names(pkg.depends + pkg.pre_depends),
            "provides": relation_names(pkg.provides) | {pkg.name}}


@fact("packages.list", ("packages",))
def packages_list(subject: Subject) -> list[dict[str, Any]]:
    """Every package of the run as {name, version, architecture, flavor, path, files,
    depends, provides}, for quantifiers (`all p in packages.list: ...`)."""
    return [_summary(a) for a in subject.run.packages]


@fact("packages.names", ("packages",), paths=NO_PATHS)
def packages_names(subject: Subject) -> set[str]:
    """Names of every package given in the run."""
    return {a.package.name for a in subject.run.packages if a.package}


@fact("packages.provides", ("packages",), paths=NO_PATHS)
def packages_provides(subject: Subject) -> set[str]:
    """Every name some package of the run is or provides."""
    out: set[str] = set()
    for a in subject.run.packages:
        if a.package:
            out |= relation_names(a.package.provides) | {a.package.name}
    return out


@fact("packages.files", ("packages",))
def packages_files(subject: Subject) -> set[str]:
    """Every file shipped by some package of the run, or present in a given root tree."""
    out: set[str] = set()
    for a in subject.run.artifacts:
        out.update(a.files)
    return out

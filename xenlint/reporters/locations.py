"""Where a finding is: the input file, the path inside it, and names that do not move.

A finding's `artifact` is the input path as given; its `location` is the path inside it, possibly
nested (`/boot/initrd.img-6.1!/usr/lib/modules/...`) and possibly spelled with the outer path in
front (`dir/x.deb!/boot/vmlinuz-6.1`), which is how nested artifacts name themselves.
"""

from __future__ import annotations

import posixpath

from xenlint.finding import Finding, Report

NEST = "!"


def artifact_file(artifact: str) -> str:
    """The file on disk an artifact string refers to (the part before any `!`)."""
    return artifact.split(NEST, 1)[0]


def artifact_name(artifact: str) -> str:
    """The file name alone: stable wherever the file sits (fingerprints use it)."""
    return posixpath.basename(artifact_file(artifact).replace("\\", "/").rstrip("/")) or artifact


def inner_location(artifact: str, location: str | None) -> str | None:
    """The path inside the artifact file, without the outer file's own path in front."""
    outer = artifact_file(artifact)
    loc = location or ""
    if loc.startswith(outer + NEST):
        # spelled from the file itself ("dir/x.deb!/boot/..."): complete as it is
        return loc[len(outer) + 1:] or None
    if loc in (artifact, outer):
        loc = ""
    elif outer.rstrip("/") and loc.startswith(outer.rstrip("/") + "/"):
        # a root tree (directory) artifact: its members are absolute paths inside the tree
        loc = loc[len(outer.rstrip("/")):]
    # an artifact given as "x.deb!/boot/initrd.img" already points inside the file
    prefix = artifact[len(outer) + 1:]
    return NEST.join(p for p in (prefix, loc) if p) or None


def finding_inner(finding: Finding) -> str | None:
    return inner_location(finding.artifact, finding.location)


def stable_location(finding: Finding) -> str:
    """The inner location with any leftover outer directory reduced to a file name.

    Used for fingerprints: `/srv/a/x.deb!/boot/vmlinuz` and `/tmp/x.deb!/boot/vmlinuz` are the
    same place in the same artifact, so they must give the same fingerprint.
    """
    inner = finding_inner(finding) or ""
    parts = inner.split(NEST)
    if len(parts) > 1 and parts[0] and "/" in parts[0] and not parts[0].startswith("/"):
        parts[0] = posixpath.basename(parts[0])
    return NEST.join(parts)


def display_location(finding: Finding) -> str:
    """`name!/inner/path` (or just the name): what a person reads in messages."""
    inner = finding_inner(finding)
    name = artifact_name(finding.artifact)
    return f"{name}{NEST}{inner}" if inner else name


def report_artifacts(report: Report) -> list[str]:
    """Every input file the report names (checked, with findings, or unreadable), in order."""
    names = [*report.artifacts, *(f.artifact for f in report.findings),
             *(u.artifact for u in report.unknowns), *(e.artifact for e in report.errors)]
    return list(dict.fromkeys(artifact_file(n) for n in names))

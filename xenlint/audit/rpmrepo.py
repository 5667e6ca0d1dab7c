"""An RPM repository: `repodata/repomd.xml`, then the `primary` and `filelists` indexes."""

from __future__ import annotations

import os
from collections.abc import Container
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from xenlint.artifact import Artifact, Entry, EntryType, Kind, Package, ReaderNotes
from xenlint.audit.index import local, named_timeout, xml_elements
from xenlint.audit.model import inside
from xenlint.audit.timer import ArtifactTimeout
from xenlint.limits import Limits

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

FLAGS = {"EQ": "=", "LT": "<", "GT": ">", "LE": "<=", "GE": ">="}
RELATIONS = {"requires": "depends", "recommends": "recommends", "suggests": "suggests",
             "provides": "provides", "conflicts": "conflicts"}


def is_rpm_repo(root: Path) -> bool:
    return (root / "repodata" / "repomd.xml").is_file()


def index_files(root: Path, limits: Limits | None = None) -> dict[str, Path]:
    """type (primary, filelists, ...) -> index file, as repomd.xml lists them (read
    under the same limits as the indexes themselves: entities refused, depth bounded)."""
    out: dict[str, Path] = {}
    for data in xml_elements(root / "repodata" / "repomd.xml", limits or Limits(), "data"):
        loc = next((c for c in data if local(c.tag) == "location"), None)
        href = str(loc.get("href", "")) if loc is not None else ""
        if inside(href):
            out[str(data.get("type"))] = root / href
    return out


def _child(el: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in el if local(c.tag) == name), None)


def _evr(e: ET.Element) -> str:
    epoch, ver, rel = e.get("epoch"), e.get("ver"), e.get("rel")
    if not ver:
        return ""
    text = f"{epoch}:{ver}" if epoch and epoch != "0" else ver
    return f"{text}-{rel}" if rel else text


def _relation(e: ET.Element) -> str:
    name = e.get("name", "")
    op = FLAGS.get(e.get("flags", ""), "")
    ver = _evr(e)
    return f"{name} {op} {ver}" if op and ver else name


def package_artifact(root: Path, el: ET.Element) -> tuple[str, Artifact]:
    """(pkgid, header-only artifact) of one primary.xml <package>."""
    text = {local(c.tag): (c.text or "") for c in el}
    version = _child(el, "version")
    v = version.attrib if version is not None else {}
    epoch = v.get("epoch")
    pkg = Package(name=text.get("name", ""), version=v.get("ver", ""),
                  architecture=text.get("arch", ""),
                  epoch=epoch if epoch and epoch != "0" else None, release=v.get("rel"),
                  flavor="rpm")
    fmt = _child(el, "format")
    files: list[str] = []
    for c in fmt if fmt is not None else ():
        tag = local(c.tag)
        if tag in RELATIONS:
            rels = [_relation(e) for e in c if not e.get("name", "").startswith("rpmlib(")]
            setattr(pkg, RELATIONS[tag], rels)
        elif tag in ("license", "sourcerpm") and c.text:
            pkg.fields[tag] = c.text
        elif tag == "file" and c.text:
            files.append(c.text)
    for tag in ("summary", "url"):
        if text.get(tag):
            pkg.fields[tag] = text[tag]
    checksum = _child(el, "checksum")
    pkgid = checksum.text or "" if checksum is not None else ""
    sha = pkgid if checksum is not None and checksum.get("type") == "sha256" else None
    loc = _child(el, "location")
    href = loc.get("href", "") if loc is not None else ""
    art = Artifact(str(root / href), Kind.RPM, package=pkg, sha256=sha,
                   meta=ReaderNotes(metadata_only=True, index="primary"))
    for f in files:
        art.entries[f] = Entry(f, EntryType.FILE)
    return pkgid, art


def read_repo(root: Path, limits: Limits) -> list[Artifact]:
    idx = index_files(root, limits)
    by_id = read_primary(root, idx, limits)
    add_filelists(idx, by_id, limits)
    return list(by_id.values())


def read_primary(root: Path, idx: dict[str, Path], limits: Limits) -> dict[str, Artifact]:
    """pkgid -> header-only artifact of every package primary.xml lists (its file list as
    far as primary gives one: the files of bin directories and /etc)."""
    by_id: dict[str, Artifact] = {}
    try:
        for el in xml_elements(idx["primary"], limits, "package"):
            pkgid, art = package_artifact(root, el)
            if not inside(os.path.relpath(art.path, root)):
                art = Artifact(art.path, Kind.RPM, error="is named by primary.xml outside "
                                                         "the repository; not read")
            by_id[pkgid] = art
    except ArtifactTimeout as exc:
        raise named_timeout(idx["primary"])(exc) from None
    return by_id


def add_filelists(idx: dict[str, Path], by_id: dict[str, Artifact], limits: Limits,
                  wanted: Container[str] | None = None) -> None:
    """Complete the artifacts' file lists from filelists.xml, when the repository has one;
    only those of the pkgids `wanted`, when given."""
    if "filelists" not in idx:
        return
    try:
        _filelists(idx["filelists"], by_id, limits, wanted)
    except ArtifactTimeout as exc:
        raise named_timeout(idx["filelists"])(exc) from None


def _filelists(path: Path, by_id: dict[str, Artifact], limits: Limits,
               wanted: Container[str] | None) -> None:
    for el in xml_elements(path, limits, "package"):
        pkgid = el.get("pkgid", "")
        found = by_id.get(pkgid)
        if found is None or found.error is not None or (wanted is not None and
                                                        pkgid not in wanted):
            continue
        art = found
        art.meta = replace(art.meta, index="filelists")
        for f in el:
            if local(f.tag) == "file" and f.text:
                etype = EntryType.DIRECTORY if f.get("type") == "dir" else EntryType.FILE
                art.entries[f.text] = Entry(f.text, etype)

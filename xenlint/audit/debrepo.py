"""A Debian repository: `dists/<suite>/<component>/binary-<arch>/Packages*` plus `pool/`
(and `<component>/debian-installer/binary-<arch>/` for the installer's udebs).

Each suite is one package set. Index entries become header-only artifacts; their file
lists come from `Contents-<arch>` when the repository has one.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Iterator
from pathlib import Path

from debian.deb822 import Deb822

from xenlint.artifact import Artifact, Entry, EntryType, Kind, Package
from xenlint.audit.index import lines
from xenlint.audit.model import METADATA_ONLY, inside
from xenlint.limits import ArtifactError, Limits
from xenlint.readers.deb import package_from_fields

# first found wins, per index directory
INDEX_NAMES = ("Packages.xz", "Packages.gz", "Packages.zst", "Packages.bz2", "Packages")
CONTENTS_RE = re.compile(r"^Contents-(?!udeb)([\w-]+?)(?:\.(?:gz|xz|zst|bz2))?$")
# "path<whitespace>section/package[,section/package...]"; the path may hold spaces
CONTENTS_LINE = re.compile(r"^(\S.*?)\s+(\S+)$")
# fields only an archive index has; the package's own control file lacks them
INDEX_FIELDS = {"Filename", "Size", "MD5sum", "SHA1", "SHA256", "SHA512", "Description-md5"}


def _has_index(suite: Path) -> bool:
    return any(suite.glob("*/binary-*/Packages*")) or \
        any(suite.glob("*/debian-installer/binary-*/Packages*"))


def is_deb_repo(root: Path) -> bool:
    dists = root / "dists"
    return dists.is_dir() and any(_has_index(d) for d in dists.iterdir() if d.is_dir())


def suites(root: Path) -> list[Path]:
    """Suite directories, each once (`stable` is often a symlink to the codename)."""
    seen: dict[Path, Path] = {}
    for d in sorted((root / "dists").iterdir()):
        if d.is_dir():
            seen.setdefault(d.resolve(), d)
    return [d for d in seen.values() if _has_index(d)]


def _indexes(suite: Path) -> list[Path]:
    """One index per component and architecture, the installer's udebs included."""
    out = []
    for d in sorted([*suite.glob("*/binary-*"), *suite.glob("*/debian-installer/binary-*")]):
        found = next((d / n for n in INDEX_NAMES if (d / n).is_file()), None)
        if found is not None:
            out.append(found)
    return out


def contents(suite: Path, limits: Limits,
             wanted: Container[str] | None = None) -> dict[str, list[str]]:
    """package name -> files, from every Contents-<arch> of the suite (components too);
    only for the packages `wanted`, when given (a piece of a parse keeps its own)."""
    files: dict[str, list[str]] = {}
    chosen: dict[tuple[Path, str], Path] = {}
    for p in sorted([*suite.glob("Contents-*"), *suite.glob("*/Contents-*")]):
        m = CONTENTS_RE.match(p.name)
        if m:
            chosen.setdefault((p.parent, m.group(1)), p)
    for p in chosen.values():
        for raw in lines(p, limits):
            m = CONTENTS_LINE.match(raw.decode("utf-8", "replace").rstrip("\n"))
            if m is None or m.group(1) == "FILE":
                continue
            path, where = m.groups()
            for qualified in where.split(","):
                name = qualified.rsplit("/", 1)[-1]
                if wanted is None or name in wanted:
                    files.setdefault(name, []).append("/" + path.lstrip("/"))
    return files


def package_of(para: Deb822) -> Package:
    """The Package the deb reader would make of the control file, from the index paragraph."""
    return package_from_fields(para, "an index entry", INDEX_FIELDS)


def paragraph_artifact(root: Path, para: Deb822) -> Artifact:
    """A header-only artifact; `add_files` completes it once Contents is read."""
    pkg = package_of(para)
    art = Artifact(str(root / para["Filename"]), Kind.DEB, package=pkg,
                   sha256=para.get("SHA256"))
    art.meta[METADATA_ONLY] = True
    return art


def add_files(art: Artifact, files: Iterable[str]) -> None:
    """The file list `Contents` gives a header-only artifact (none: the index names it
    without one)."""
    for f in files:
        art.entries[f] = Entry(f, EntryType.FILE)
    art.meta["index"] = "Contents" if art.entries else "Packages"


# One index paragraph's outcome: (ordinal in the suite, Filename, artifact or error text).
Record = tuple[int, str, Artifact | str]
# What one part of a suite's parse gives: its records, and the index-level errors.
Part = tuple[list[Record], list[str]]


def paragraphs(raw: Iterable[bytes]) -> Iterator[list[bytes]]:
    """The lines of each paragraph, split as python-debian splits them: comment lines are
    dropped, and an empty or whitespace-only line ends a paragraph."""
    para: list[bytes] = []
    for line in raw:
        if line.startswith(b"#"):
            continue
        if not line.strip():  # empty, or whitespace only
            if para:
                yield para
                para = []
            continue
        para.append(line)
    if para:
        yield para


def read_part(root: Path, suite: Path, limits: Limits, part: int = 0, parts: int = 1) -> Part:
    """Every `parts`-th paragraph of the suite's indexes, from the `part`-th: the unit of
    parallel parsing. Each part reads the index files whole (decompressing is the cheap
    share), parses only its own paragraphs, and then keeps, of the Contents file lists,
    those of its own packages."""
    records: list[Record] = []
    errors: list[str] = []
    # this part's artifacts by package name, which the Contents lists then complete
    mine: list[tuple[str, Artifact]] = []
    ordinal = 0
    for index in _indexes(suite):
        try:
            for lines_of in paragraphs(lines(index, limits)):
                n, ordinal = ordinal, ordinal + 1
                if n % parts != part:
                    continue
                para = Deb822(lines_of)
                filename = para.get("Filename")
                if not filename:
                    continue
                if not inside(filename):
                    records.append((n, filename, f"{index}: names a file outside the "
                                                 f"repository: {filename!r}"))
                    continue
                try:
                    art = paragraph_artifact(root, para)
                except ArtifactError as exc:  # one bad entry, not the whole index
                    records.append((n, filename, f"{index}: {filename} {exc}"))
                    continue
                records.append((n, filename, art))
                mine.append((para.get("Package", ""), art))
        except ArtifactError as exc:
            errors.append(str(exc))
    try:
        file_lists = contents(suite, limits, {name for name, _art in mine})
    except ArtifactError as exc:
        errors.append(str(exc))
        file_lists = {}
    for name, art in mine:
        add_files(art, file_lists.get(name, ()))
    return records, errors


def join_parts(parts: list[Part]) -> tuple[list[Artifact], list[str]]:
    """The suite's header-only artifacts (the first entry of a Filename wins) and errors,
    in index order, from the parts of its parse."""
    arts: dict[str, Artifact] = {}
    errors: list[str] = []
    for _records, errs in parts:  # every part meets the same broken index
        errors += [e for e in errs if e not in errors]
    for _n, filename, outcome in sorted((r for recs, _e in parts for r in recs),
                                        key=lambda r: r[0]):
        if filename in arts:
            continue
        if isinstance(outcome, str):
            errors.append(outcome)
        else:
            arts[filename] = outcome
    return list(arts.values()), errors


def read_suite(root: Path, suite: Path, limits: Limits) -> tuple[list[Artifact], list[str]]:
    """Header-only artifacts of a suite (deduplicated by Filename), and index errors."""
    return join_parts([read_part(root, suite, limits)])

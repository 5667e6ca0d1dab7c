"""A Debian repository: `dists/<suite>/<component>/binary-<arch>/Packages*` plus `pool/`
(and `<component>/debian-installer/binary-<arch>/` for the installer's udebs).

Each suite is one package set. Index entries become header-only artifacts; their file
lists come from `Contents-<arch>` when the repository has one.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Container, Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from debian.deb822 import Deb822

from xenlint.artifact import Artifact, Entry, EntryType, Kind, Package, ReaderNotes
from xenlint.audit.index import line_blocks, lines
from xenlint.audit.model import inside
from xenlint.limits import ArtifactError, Limits
from xenlint.readers.deb import package_from_fields

# first found wins, per index directory
INDEX_NAMES = ("Packages.xz", "Packages.gz", "Packages.zst", "Packages.bz2", "Packages.lz4",
               "Packages")
# the compressions an index may come in (apt's lists directory keeps lz4)
COMPRESSED = r"(?:\.(?:gz|xz|zst|bz2|lz4))?"
CONTENTS_RE = re.compile(rf"^Contents-(?!udeb)([\w-]+?){COMPRESSED}$")
# fields only an archive index has; the package's own control file lacks them
INDEX_FIELDS = {"Filename", "Size", "MD5sum", "SHA1", "SHA256", "SHA512", "Description-md5"}


def has_index(suite: Path) -> bool:
    return any(suite.glob("*/binary-*/Packages*")) or \
        any(suite.glob("*/debian-installer/binary-*/Packages*"))


def is_deb_repo(root: Path) -> bool:
    dists = root / "dists"
    return dists.is_dir() and any(has_index(d) for d in dists.iterdir() if d.is_dir())


def suites(root: Path) -> list[Path]:
    """Suite directories, each once (`stable` is often a symlink to the codename)."""
    seen: dict[Path, Path] = {}
    for d in sorted((root / "dists").iterdir()):
        if d.is_dir():
            seen.setdefault(d.resolve(), d)
    return [d for d in seen.values() if has_index(d)]


def indexes(suite: Path) -> list[Path]:
    """One index per component and architecture, the installer's udebs included."""
    out = []
    for d in sorted([*suite.glob("*/binary-*"), *suite.glob("*/debian-installer/binary-*")]):
        found = next((d / n for n in INDEX_NAMES if (d / n).is_file()), None)
        if found is not None:
            out.append(found)
    return out


def contents_files(suite: Path) -> list[Path]:
    """The suite's Contents-<arch> files (components' too), one per directory and
    architecture, the first compression found."""
    chosen: dict[tuple[Path, str], Path] = {}
    for p in sorted([*suite.glob("Contents-*"), *suite.glob("*/Contents-*")]):
        m = CONTENTS_RE.match(p.name)
        if m:
            chosen.setdefault((p.parent, m.group(1)), p)
    return list(chosen.values())


def contents(suite: Path, limits: Limits,
             wanted: Collection[str] | None = None) -> dict[str, list[str]]:
    """package name -> files, from every Contents-<arch> of the suite (components too);
    only for the packages `wanted`, when given (a piece of a parse keeps its own)."""
    return read_contents(contents_files(suite), limits, wanted)


# apt's lists directory names one `<mirror>_dists_<suite>_<component>_Contents-<arch>.lz4`
_CONTENTS_ARCH = re.compile(r"(?:^|_)Contents-(?!udeb)([\w-]+?)(?:\.\w+)?$")


def contents_arch(path: Path) -> str:
    """The architecture a Contents file lists (`Contents-arm64.gz` -> arm64, `all`), as a
    suite or apt's lists directory names it."""
    m = _CONTENTS_ARCH.search(path.name)
    return m.group(1) if m else ""


def lists(path: Path, art: Artifact) -> bool:
    """Whether the Contents file `path` lists the files of `art`: Contents-<arch> those of
    its architecture (a package name built for two has a file list in each, and
    /usr/lib/x86_64-linux-gnu/ is amd64's); an `all` package's, any of them."""
    pkg = art.package
    return pkg is not None and (pkg.architecture == "all"
                                or contents_arch(path) in (pkg.architecture, "all"))


def contents_by_arch(suite: Path, limits: Limits, wanted: Collection[str] | None = None
                     ) -> dict[str, dict[str, list[str]]]:
    """architecture (`<arch>` of Contents-<arch>: amd64, arm64, all) -> package name -> files,
    from every Contents file of the suite (components too); only for the packages `wanted`,
    when given."""
    by_arch: dict[str, list[Path]] = {}
    for p in contents_files(suite):
        by_arch.setdefault(contents_arch(p), []).append(p)
    return {arch: read_contents(files, limits, wanted) for arch, files in by_arch.items()}


def files_for(art: Artifact, by_arch: dict[str, dict[str, list[str]]]) -> list[str]:
    """The Contents file list of an index entry: its own architecture's (or
    Contents-all's); for an `all` package, Contents-all's, else the first architecture's
    that lists it."""
    pkg = art.package
    if pkg is None:
        return []
    keys = ("all", *sorted(by_arch)) if pkg.architecture == "all" else \
        (pkg.architecture, "all")
    for key in keys:
        found = by_arch.get(key, {}).get(pkg.name)
        if found:
            return found
    return []


def read_contents(files: Iterable[Path], limits: Limits,
                  wanted: Collection[str] | None = None) -> dict[str, list[str]]:
    """package name -> files, from the Contents files given; only for the packages
    `wanted`, when given."""
    want = None if wanted is None else {w.encode() for w in wanted}
    out: dict[bytes, list[str]] = {}
    for p in files:
        for chunk in line_blocks(p, limits):
            # a Contents file has millions of lines, of which a few hundred are wanted:
            # the loop stays on bytes, and decodes only what it keeps
            for line in chunk.split(b"\n"):
                parts = line.rsplit(None, 1)
                if len(parts) != 2 or line[:1].isspace() or parts[0] == b"FILE":
                    continue
                path = None
                for qualified in parts[1].split(b","):
                    name = qualified.rpartition(b"/")[2]
                    if want is None or name in want:
                        if path is None:
                            path = "/" + parts[0].decode("utf-8", "replace").lstrip("/")
                        out.setdefault(name, []).append(path)
    return {k.decode("utf-8", "replace"): v for k, v in out.items()}


def package_of(para: Deb822) -> Package:
    """The Package the deb reader would make of the control file, from the index paragraph."""
    return package_from_fields(para, "an index entry", INDEX_FIELDS)


def paragraph_artifact(root: Path, para: Deb822) -> Artifact:
    """A header-only artifact; `add_files` completes it once Contents is read."""
    pkg = package_of(para)
    return Artifact(str(root / para["Filename"]), Kind.DEB, package=pkg,
                    sha256=para.get("SHA256"), meta=ReaderNotes(metadata_only=True))


def add_files(art: Artifact, files: Iterable[str]) -> None:
    """The file list `Contents` gives a header-only artifact (none: the index names it
    without one)."""
    for f in files:
        art.entries[f] = Entry(f, EntryType.FILE)
    art.meta = replace(art.meta, index="Contents" if art.entries else "Packages")


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
    records, errors = read_indexes(root, indexes(suite), limits, part, parts)
    # this part's artifacts by package name, which the Contents lists then complete
    mine = [(art.package.name, art) for _n, _f, art in records
            if isinstance(art, Artifact) and art.package is not None]
    try:
        file_lists = contents_by_arch(suite, limits, {name for name, _art in mine})
    except ArtifactError as exc:
        errors.append(str(exc))
        file_lists = {}
    for _name, art in mine:
        add_files(art, files_for(art, file_lists))
    return records, errors


def read_indexes(root: Path, files: Iterable[Path], limits: Limits, part: int = 0,
                 parts: int = 1, only: Container[int] | None = None) -> Part:
    """Header-only artifacts, without file lists, of every `parts`-th paragraph of the
    Packages files `files`, from the `part`-th (or of the paragraphs whose ordinals are
    `only`); `Filename` is taken relative to `root`."""
    records: list[Record] = []
    errors: list[str] = []
    ordinal = 0
    for index in files:
        try:
            for lines_of in paragraphs(lines(index, limits)):
                n, ordinal = ordinal, ordinal + 1
                if n % parts != part or (only is not None and n not in only):
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
        except ArtifactError as exc:
            errors.append(str(exc))
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

"""A Debian repository: `dists/<suite>/<component>/binary-<arch>/Packages*` plus `pool/`
(and `<component>/debian-installer/binary-<arch>/` for the installer's udebs).

Each suite is one package set. Index entries become header-only artifacts; their file
lists come from `Contents-<arch>` when the repository has one, kept to the paths the
selected rules' facts ask about (facts.Paths). Each index and each Contents file is parsed
once, by one piece of the suite's parse (`split`, `read_part`, `contents_piece`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Container, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from sys import intern

from debian.deb822 import Deb822

from xenlint.artifact import Artifact, Entry, EntryType, Kind, Package, ReaderNotes
from xenlint.audit.index import IndexWarning, line_blocks, lines, named_timeout
from xenlint.audit.model import inside
from xenlint.audit.timer import ArtifactTimeout
from xenlint.facts import DOC_DIRS, Paths
from xenlint.limits import ArtifactError, LimitExceeded, Limits
from xenlint.readers.deb import package_from_fields

# first found wins, per index directory
INDEX_NAMES = ("Packages.xz", "Packages.gz", "Packages.zst", "Packages.bz2", "Packages.lz4",
               "Packages")
# the compressions an index may come in (apt's lists directory keeps lz4)
COMPRESSED = r"(?:\.(?:gz|xz|zst|bz2|lz4))?"
CONTENTS_RE = re.compile(rf"^Contents-(?!udeb)([\w-]+?){COMPRESSED}$")
# "path<whitespace>section/package[,section/package...]"; the path may hold spaces
CONTENTS_LINE = re.compile(r"^(\S.*?)\s+(\S+)$")
# longer values are rarely shared (descriptions, long Depends lines)
SHARED_MAX = 120
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


def _prefixes(under: tuple[str, ...]) -> tuple[bytes, ...]:
    """A Contents line's path has no leading slash, or has one, or "./"."""
    out: list[bytes] = []
    for prefix in under:
        rel = prefix.lstrip("/").encode()
        out += [rel, b"/" + rel, b"./" + rel]
    return tuple(out)


_DOC_LINE = _prefixes(DOC_DIRS)


def file_lists(path: Path, limits: Limits, keep: Paths | None = None,
               warnings: list[str] | None = None) -> dict[str, list[str]]:
    """package name -> files, from one Contents file: the paths `keep` covers (all when
    None) and, of every package, one more: a path outside the documentation directories
    when it ships any (see facts.Paths). Only the lines kept are decoded and split; the
    others cost a prefix test and, for the witness, a dictionary look-up. A line that is
    not UTF-8 is decoded with replacement characters, and named in `warnings`."""
    if warnings is None:
        warnings = []
    kept: list[bytes] = []
    # the last column of a line (its packages) -> a line of theirs, not documentation if
    # they ship anything else
    witness: dict[bytes, bytes] = {}
    # a Contents file names no more packages than an index may hold
    most = limits.max_index_paragraphs
    under = _prefixes(keep.under) if keep is not None else ()
    search = re.compile(b"|".join(re.escape(s.encode()) for s in keep.containing)).search \
        if keep is not None and keep.containing else None
    for block in line_blocks(path, limits):
        if keep is None:
            kept += block.split(b"\n")
            continue
        for line in block.split(b"\n"):
            if line.startswith(under) or (search is not None and search(line)):
                kept.append(line)
                continue
            where = line[line.rfind(b" ") + 1:]
            seen = witness.get(where)
            if seen is None and len(witness) >= most:
                raise too_many(path, most)
            if seen is None or (seen.startswith(_DOC_LINE) and not line.startswith(_DOC_LINE)):
                witness[where] = line
    files: dict[str, list[str]] = {}
    bad: bytes | None = None
    for raw in [*kept, *witness.values()]:
        text, ok = as_apt_reads(raw)
        bad = bad or (None if ok else raw)
        m = CONTENTS_LINE.match(text.rstrip("\r"))
        if m is None or m.group(1) == "FILE":
            continue
        found, where_text = m.groups()
        for qualified in where_text.split(","):
            name = qualified.rsplit("/", 1)[-1]
            if name not in files and len(files) >= most:
                raise too_many(path, most)
            files.setdefault(name, []).append("/" + found.lstrip("/"))
    if bad is not None:
        warnings.append(not_utf8(path, f"the line {bad[:80]!r}"))
    return files


def too_many(path: Path, most: int) -> LimitExceeded:
    return LimitExceeded(f"{path}: names more than {most} packages (max_index_paragraphs); "
                         "not read")


def contents_piece(path: Path, limits: Limits, keep: Paths | None = None) -> Lists:
    """One Contents file's piece of a suite's parse: its architecture and file lists."""
    arch = contents_arch(path)
    warnings: list[str] = []
    try:
        return arch, file_lists(path, limits, keep, warnings), warnings
    except ArtifactError as exc:
        return arch, {}, [*warnings, str(exc)]
    except ArtifactTimeout as exc:
        raise named_timeout(path)(exc) from None


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
                  wanted: Collection[str] | None = None,
                  warnings: list[str] | None = None) -> dict[str, list[str]]:
    """package name -> files, from the Contents files given; only for the packages
    `wanted`, when given. A kept line that is not UTF-8 is decoded with replacement
    characters, and named in `warnings` (the first of each file)."""
    want = None if wanted is None else {w.encode() for w in wanted}
    out: dict[bytes, list[str]] = {}
    for p in files:
        bad: bytes | None = None
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
                            text, ok = as_apt_reads(parts[0])
                            bad = bad or (None if ok else line)
                            path = "/" + text.lstrip("/")
                        out.setdefault(name, []).append(path)
        if bad is not None and warnings is not None:
            warnings.append(not_utf8(p, f"the line {bad[:80]!r}"))
    return {k.decode("utf-8", "replace"): v for k, v in out.items()}


def package_of(para: Deb822) -> Package:
    """The Package the deb reader would make of the control file, from the index paragraph."""
    return package_from_fields(para, "an index entry", INDEX_FIELDS)


def _compact(pkg: Package) -> None:
    """An archive's entries repeat the same field names, relations and short values
    (Priority, Section, Maintainer, `libc6 (>= 2.34)`) tens of thousands of times: one
    string each, shared, and a pickle of the parse writes each once."""
    pkg.fields = {intern(k): intern(v) if len(v) <= SHARED_MAX else v
                  for k, v in pkg.fields.items()}
    pkg.architecture = intern(pkg.architecture)
    for attr in ("depends", "pre_depends", "recommends", "suggests", "provides",
                 "conflicts", "breaks"):
        setattr(pkg, attr, [intern(r) if len(r) <= SHARED_MAX else r
                            for r in getattr(pkg, attr)])


def paragraph_artifact(root: Path, para: Deb822) -> Artifact:
    """A header-only artifact; `add_files` completes it once Contents is read."""
    pkg = package_of(para)
    _compact(pkg)
    return Artifact(str(root / para["Filename"]), Kind.DEB, package=pkg,
                    sha256=para.get("SHA256"), meta=ReaderNotes(metadata_only=True))


def add_files(art: Artifact, files: Iterable[str], trimmed: bool = False) -> None:
    """The file list `Contents` gives a header-only artifact (none: the index names it
    without one); `trimmed` when Contents was read for some paths only (`file_lists`)."""
    for f in files:
        art.entries[f] = Entry(f, EntryType.FILE)
    art.meta = replace(art.meta, index="Contents" if art.entries else "Packages",
                       trimmed=trimmed and bool(art.entries))


# One index paragraph's outcome: (ordinal in the files read, Filename, artifact or error
# text), and what a read of index files gives: its records and the index-level errors.
Record = tuple[int, str, Artifact | str]
Part = tuple[list[Record], list[str]]
# In a suite's parse: ((index, ordinal in it), Filename, outcome); a piece gives records
# and errors (from Packages), or an architecture, its file lists and errors (from a
# Contents file)
SuiteRecord = tuple[tuple[int, int], str, Artifact | str]
Records = tuple[list[SuiteRecord], list[str]]
Lists = tuple[str, dict[str, list[str]], list[str]]
Piece = Records | Lists


def paragraphs(raw: Iterable[bytes], limits: Limits | None = None,
               label: str = "") -> Iterator[list[bytes]]:
    """The lines of each paragraph, split as python-debian splits them: comment lines are
    dropped, and an empty or whitespace-only line ends a paragraph. With `limits`, a field
    (with its continuation lines) longer than max_index_field_bytes, a paragraph longer
    than twice that, or more than max_index_paragraphs paragraphs stop the index `label`
    (LimitExceeded)."""
    para: list[bytes] = []
    most = limits.max_index_paragraphs if limits is not None else 0
    cap = limits.max_index_field_bytes if limits is not None else 0
    count = size = 0  # paragraphs so far, bytes of this paragraph
    field = -1  # bytes of the current field, counted once the paragraph passes `cap`
    for n, line in enumerate(raw, 1):
        if line.startswith(b"#"):
            continue
        if not line.strip():  # empty, or whitespace only
            if para:
                yield para
                para, size, field = [], 0, -1
            continue
        if limits is not None:
            if not para:
                count += 1
                if count > most:
                    raise LimitExceeded(f"{label}: more than {most} paragraphs "
                                        f"(max_index_paragraphs) at line {n}; not read")
            size += len(line)
            # a field is no longer than its paragraph: real paragraphs (77 KB at most in
            # bookworm) never pay for counting fields
            if size > cap:
                field = _field_bytes(para, line, field)
                if field > cap:
                    raise LimitExceeded(f"{label}: a field longer than {cap} bytes "
                                        f"(max_index_field_bytes) at line {n}; not read")
                if size > 2 * cap:
                    raise LimitExceeded(f"{label}: a paragraph longer than {2 * cap} bytes "
                                        f"(twice max_index_field_bytes) at line {n}; "
                                        "not read")
        para.append(line)
    if para:
        yield para


def _field_bytes(para: list[bytes], line: bytes, field: int) -> int:
    """Bytes of the field `line` adds to (its own, if it starts one), given those of the
    field before it (-1: not counted yet, so counted back through `para`)."""
    if line[:1] not in (b" ", b"\t"):
        return len(line)
    if field >= 0:
        return field + len(line)
    total = len(line)
    for before in reversed(para):
        total += len(before)
        if before[:1] not in (b" ", b"\t"):
            break
    return total


def not_utf8(path: Path, where: str) -> IndexWarning:
    return IndexWarning(f"{path}: {where} is not UTF-8; read with replacement characters, "
                        "as apt and dpkg read it")


def as_apt_reads(raw: bytes) -> tuple[str, bool]:
    """Index text as apt and dpkg read it (replacement characters for what is not
    UTF-8), and whether it was UTF-8."""
    try:
        return raw.decode(), True
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace"), False


def decoded(lines_of: list[bytes]) -> tuple[list[str], int]:
    """A paragraph's lines as text, and the number (from 1) of its first line that is not
    UTF-8 (0: none), decoded with replacement characters as apt and dpkg decode it."""
    try:
        return [line.decode() for line in lines_of], 0
    except UnicodeDecodeError:
        pass
    first = 0
    out = []
    for k, line in enumerate(lines_of, 1):
        text, ok = as_apt_reads(line)
        out.append(text)
        first = first or (0 if ok else k)
    return out, first


def read_part(root: Path, suite: Path, limits: Limits, part: int = 0, parts: int = 1,
              only: int | None = None) -> Records:
    """Every `parts`-th paragraph of the suite's indexes (of its `only`-th index, when
    given), from the `part`-th: a unit of parallel parsing. A piece reads its index files
    whole (decompressing is the cheap share) and parses its own paragraphs only; file
    lists come from the Contents pieces (`contents_piece`)."""
    records: list[SuiteRecord] = []
    errors: list[str] = []
    for k, index in enumerate(indexes(suite)):
        if only is None or k == only:
            recs, errs = read_indexes(root, [index], limits, part, parts)
            records += [((k, n), filename, outcome) for n, filename, outcome in recs]
            errors += errs
    return records, errors


def split(suite: Path, pieces: int) -> list[tuple[int, int, int | None]]:
    """(part, parts, index) of each Packages piece: one per index while there are enough
    of them for `pieces` workers, each index split further while there are not."""
    n = len(indexes(suite))
    if pieces <= 1 or n == 0:
        return [(0, 1, None)]
    parts = -(-pieces // n)
    return [(k, parts, i) for i in range(n) for k in range(parts)]


def read_indexes(root: Path, files: Iterable[Path], limits: Limits, part: int = 0,
                 parts: int = 1, only: Container[int] | None = None) -> Part:
    """Header-only artifacts, without file lists, of every `parts`-th paragraph of the
    Packages files `files`, from the `part`-th (or of the paragraphs whose ordinals are
    `only`); `Filename` is taken relative to `root`."""
    records: list[Record] = []
    errors: list[str] = []
    ordinal = 0
    for index in files:
        bad = ""  # where the first paragraph that is not UTF-8 is
        try:
            for k, lines_of in enumerate(paragraphs(lines(index, limits), limits, str(index))):
                n, ordinal = ordinal, ordinal + 1
                mine = n % parts == part and (only is None or n in only)
                if mine or (not bad and not all(line.isascii() for line in lines_of)):
                    # every piece looks at every paragraph, so that all name the same one
                    text, first = decoded(lines_of)
                    if first and not bad:
                        # its first line, as much of it as a one-line warning holds
                        name = lines_of[0][:80].rstrip().decode("utf-8", "replace")
                        bad = f"paragraph {k + 1} ({name!r}), its line {first},"
                if not mine:
                    continue
                para = Deb822(text)
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
        except ArtifactTimeout as exc:
            raise named_timeout(index)(exc) from None
        if bad:
            errors.append(not_utf8(index, bad))
    return records, errors


def join_parts(parts: list[Piece], trimmed: bool = False) -> tuple[list[Artifact], list[str]]:
    """The suite's header-only artifacts (the first entry of a Filename wins) with their
    file lists (`files_for`), and errors, in index order, from the pieces of its parse;
    `trimmed` when the Contents pieces kept some paths only."""
    arts: dict[str, Artifact] = {}
    errors: list[str] = []
    records: list[SuiteRecord] = []
    by_arch: dict[str, dict[str, list[str]]] = {}
    for piece in parts:
        if isinstance(piece[0], str):  # a Contents file's
            arch, found, errs = piece
            merged = by_arch.setdefault(arch, {})
            for name, files in found.items():
                merged.setdefault(name, []).extend(files)
        else:
            recs, errs = piece
            records += recs
        errors += [e for e in errs if e not in errors]  # every piece meets a broken index
    for _n, filename, outcome in sorted(records, key=lambda r: r[0]):
        if filename in arts:
            continue
        if isinstance(outcome, str):
            errors.append(outcome)
            continue
        arts[filename] = outcome
        add_files(outcome, files_for(outcome, by_arch), trimmed)
    return list(arts.values()), errors


def read_suite(root: Path, suite: Path, limits: Limits,
               keep: Paths | None = None) -> tuple[list[Artifact], list[str]]:
    """Header-only artifacts of a suite (deduplicated by Filename), and index errors; of
    Contents, the paths `keep` covers (all when None, see `file_lists`)."""
    return join_parts([read_part(root, suite, limits),
                       *(contents_piece(p, limits, keep) for p in contents_files(suite))],
                      trimmed=keep is not None)

"""An upload: a Debian `.changes` file and the files it lists, checked as one package set.

A `.changes` is recognised by its content (a deb822 paragraph, maybe PGP-signed, with
Format, Distribution and Files fields), whatever its name. Each listed file's checksum is
verified before the file is read: Checksums-Sha256, else the md5 of Files. A listed file
that is missing, does not match, or is named with a directory is an unreadable input; the
others are still read. Files xenlint has no reader for (.dsc, source tarballs, .buildinfo)
are verified and then left out.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from debian.deb822 import Changes

from xenlint.artifact import Artifact, Kind
from xenlint.limits import ArtifactError, LimitExceeded, Limits

_SIGNED = b"-----BEGIN PGP SIGNED MESSAGE-----"
_FIELD = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:")
_BLOCK = 1 << 20
_HEAD = 4096


def looks_like(head: bytes) -> bool:
    """Whether the first bytes of a file could be a .changes (the parse decides)."""
    if b"\0" in head:
        return False
    body = head
    if body.startswith(_SIGNED):
        # the armour header lines (Hash: ...) end at the first empty line
        cut = body.find(b"\n\n")
        body = body[cut + 2:] if cut >= 0 else b""
    lines = body.split(b"\n")
    return bool(lines) and _FIELD.match(lines[0]) is not None and \
        any(line.startswith(b"Format:") for line in lines)


@dataclass(frozen=True, slots=True)
class Listed:
    """One file a .changes lists, with the checksum to verify it by."""

    name: str
    size: int | None
    algorithm: str  # "sha256" or "md5"
    digest: str


@dataclass(frozen=True, slots=True)
class Verified:
    """A listed file that matches its .changes: where it is, and its sha256."""

    path: Path
    display: str
    sha256: str


def parse(path: Path, limits: Limits) -> list[Listed] | None:
    """The files the .changes at `path` lists; None when it is no .changes after all."""
    size = path.stat().st_size
    if size > limits.max_held_bytes:
        raise LimitExceeded(f"is larger than {limits.max_held_bytes} bytes held in memory "
                            "(max_held_bytes)")
    with path.open("rb") as f:
        para = Changes(f.read(size + 1))
    if not all(k in para for k in ("Format", "Distribution", "Files")):
        return None
    sha = {e["name"]: e for e in para.get("Checksums-Sha256", []) if "name" in e}
    out: list[Listed] = []
    for entry in [*para.get("Files", []), *sha.values()]:
        name = entry.get("name", "")
        if not name or any(x.name == name for x in out):
            continue
        best = sha.get(name, entry)
        algorithm = "sha256" if "sha256" in best else "md5"
        digest = best.get("sha256") or best.get("md5sum", "")
        raw_size = str(best.get("size", ""))
        out.append(Listed(name, int(raw_size) if raw_size.isdigit() else None, algorithm,
                          digest.lower()))
    return out


def verify(changes: Path, display: str, listed: list[Listed]
           ) -> tuple[list[Verified], list[Artifact]]:
    """Each listed file hashed in one bounded pass (sha256, and md5 when that is what the
    .changes gives): those that match, and an error artifact for each that does not."""
    ok: list[Verified] = []
    bad: list[Artifact] = []
    base = display.rsplit("/", 1)[0] + "/" if "/" in display else ""
    for item in listed:
        shown = base + item.name
        if "/" in item.name or item.name in (".", ".."):
            bad.append(Artifact(shown, Kind.FILE, error="is named in its .changes with a "
                                                        "directory; not read"))
            continue
        path = changes.parent / item.name
        if not path.is_file():
            bad.append(Artifact(shown, Kind.FILE,
                                error="is listed in its .changes but does not exist"))
            continue
        try:
            size, sha256, md5 = _hash(path, item.algorithm == "md5")
        except OSError as exc:
            bad.append(Artifact(shown, Kind.FILE, error=f"cannot be opened: {exc.strerror}"))
            continue
        have = sha256 if item.algorithm == "sha256" else md5
        if item.size is not None and size != item.size:
            bad.append(Artifact(shown, Kind.FILE,
                                error="does not match its .changes (size)"))
        elif have != item.digest:
            bad.append(Artifact(shown, Kind.FILE,
                                error=f"does not match its .changes ({item.algorithm})"))
        else:
            ok.append(Verified(path, shown, sha256))
    return ok, bad


def _hash(path: Path, with_md5: bool) -> tuple[int, str, str]:
    sha = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False) if with_md5 else None
    size = 0
    with path.open("rb") as f:
        while block := f.read(_BLOCK):
            size += len(block)
            sha.update(block)
            if md5 is not None:
                md5.update(block)
    return size, sha.hexdigest(), md5.hexdigest() if md5 is not None else ""


def open_upload(path: Path, display: str, limits: Limits
                ) -> tuple[list[Verified], list[Artifact]] | None:
    """The verified files of the .changes at `path` and the error artifacts of the others;
    None when the file is no .changes (read_path and audit then read it as usual)."""
    try:
        with path.open("rb") as f:
            head = f.read(_HEAD)
    except OSError:
        return None
    if not looks_like(head):
        return None
    try:
        listed = parse(path, limits)
    except (ArtifactError, OSError) as exc:
        message = str(exc) if isinstance(exc, ArtifactError) else \
            f"cannot be opened: {exc.strerror}"
        return [], [Artifact(display, Kind.FILE, error=message)]
    except Exception:  # python-debian found no paragraph it could read: not a .changes
        return None
    if listed is None:
        return None
    return verify(path, display, listed)

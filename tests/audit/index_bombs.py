"""Hostile repository indexes (issue 16), each built from a real repository: the index
dpkg-scanpackages or createrepo_c writes, changed as an attacker would, and compressed
again with xz or gzip. Used by tests/audit/test_index_limits.py and
bench/bench_index_limits.py; every builder writes under the directory it is given.

    python tests/audit/index_bombs.py OUT_DIR     (builds every case in OUT_DIR/<case>)
"""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from audit_repos import FIXTURE_RPMS, REPO, deb_repo, rpm_repo  # noqa: E402
from conftest import need_tools  # noqa: E402

SAMPLES = sorted((REPO / "fixtures" / "samples").glob("*.deb"))
SOUND = "sound"
LONG_LINE = 200 * 1024 * 1024  # the 200 MB line
SHORT_LINES = 14_700_000  # the 14.7M short lines
NESTED = 2_000_000  # the 2M nested elements
BOMB_CHUNKS, BOMB_CHUNK = 256, 16 * 1024 * 1024  # 4 GiB of text from a 4 MB primary.xml.gz


def _xz(data: Iterator[bytes], out: Path) -> None:
    """Stream `data` through xz into `out` (the uncompressed text never exists on disk)."""
    need_tools("xz")
    with out.open("wb") as f:
        proc = subprocess.Popen(["xz", "-c", "-T1"], stdin=subprocess.PIPE, stdout=f)
        assert proc.stdin is not None
        for chunk in data:
            proc.stdin.write(chunk)
        proc.stdin.close()
        assert proc.wait() == 0


def _gzip(data: bytes) -> bytes:
    need_tools("gzip")
    return subprocess.run(["gzip", "-9", "-n", "-c"], input=data, check=True,
                          capture_output=True).stdout


def _packages_xz(root: Path) -> Path:
    return root / "dists" / "main" / "main" / "binary-amd64" / "Packages.xz"


def _sample_repo(root: Path) -> tuple[Path, bytes]:
    """The sample packages' repository (dpkg-scanpackages, xz) with two suites, `main`
    (whose index the case changes) and `sound` (the rest of the audit, that must still be
    reported), and main's Packages text."""
    deb_repo(root, {"main": SAMPLES, SOUND: SAMPLES})
    index = _packages_xz(root)
    text = subprocess.run(["xz", "-dc", str(index)], check=True, capture_output=True).stdout
    return index, text


def latin1(root: Path) -> Path:
    """One Latin-1 byte (a maintainer named José) in the second paragraph."""
    index, text = _sample_repo(root)
    paras = text.split(b"\n\n")
    paras[1] = paras[1].replace(b"Maintainer: ", b"Maintainer: Jos\xe9 ", 1)
    _xz(iter([b"\n\n".join(paras)]), index)
    return root


def long_line(root: Path) -> Path:
    """A 200 MB Description line, in a paragraph after the real ones."""
    index, text = _sample_repo(root)
    block = b"a" * (1 << 20)

    def data() -> Iterator[bytes]:
        yield text.rstrip(b"\n") + b"\n\nPackage: evil\nVersion: 1\nArchitecture: amd64\n" \
            b"Filename: pool/main/evil_1_amd64.deb\nDescription: "
        for _ in range(LONG_LINE // len(block)):
            yield block
        yield b"\n"

    _xz(data(), index)
    return root


def _after(text: bytes, lines: Iterator[bytes]) -> Iterator[bytes]:
    yield text.rstrip(b"\n") + b"\n\n"
    batch: list[bytes] = []
    for line in lines:
        batch.append(line)
        if len(batch) == 100_000:
            yield b"".join(batch)
            batch = []
    yield b"".join(batch)


def one_paragraph(root: Path) -> Path:
    """14.7M short lines in one paragraph (a field each), after the real paragraphs."""
    index, text = _sample_repo(root)
    _xz(_after(text, (b"X: y\n" for _ in range(SHORT_LINES))), index)
    return root


def many_paragraphs(root: Path) -> Path:
    """14.7M short lines making 7.35M one-line paragraphs, after the real paragraphs."""
    index, text = _sample_repo(root)
    _xz(_after(text, (b"Package: p\n\n" for _ in range(SHORT_LINES // 2))), index)
    return root


def _rpm_case(root: Path, edit: Callable[[bytes], list[bytes]]) -> Path:
    """An RPM repository (createrepo_c) whose primary.xml.gz is replaced by the gzip
    members `edit` makes of its text (gzip reads concatenated members as one stream)."""
    rpm_repo(root, FIXTURE_RPMS)
    primary = next((root / "repodata").glob("*primary.xml.gz"))
    with gzip.open(primary) as f:
        text = f.read()
    primary.write_bytes(b"".join(edit(text)))
    return root


def primary_bomb(root: Path) -> Path:
    """4 GiB of description text in a 4 MB primary.xml.gz."""
    def edit(text: bytes) -> list[bytes]:
        head, sep, tail = text.partition(b"<description>")
        chunk = _gzip(b"a" * BOMB_CHUNK)
        return [_gzip(head + sep), *[chunk] * BOMB_CHUNKS, _gzip(tail)]
    return _rpm_case(root, edit)


def primary_nested(root: Path) -> Path:
    """2M nested elements inside the first package's <format>."""
    def edit(text: bytes) -> list[bytes]:
        head, sep, tail = text.partition(b"<format>")
        return [_gzip(head + sep + b"<x>" * NESTED + b"</x>" * NESTED + tail)]
    return _rpm_case(root, edit)


LAUGHS = (b'<!DOCTYPE metadata [\n<!ENTITY lol "lol">\n' + b"".join(
    b'<!ENTITY lol%d "%s">\n' % (k, (b"&lol%d;" % (k - 1) if k > 1 else b"&lol;") * 10)
    for k in range(1, 10)) + b"]>\n")


def primary_laughs(root: Path) -> Path:
    """Billion laughs: nested entities in a DOCTYPE, expanded in the first summary."""
    def edit(text: bytes) -> list[bytes]:
        decl, _sep, body = text.partition(b"?>\n")
        body = re.sub(rb"<summary>[^<]*", b"<summary>&lol9;", body, count=1)
        return [_gzip(decl + b"?>\n" + LAUGHS + body)]
    return _rpm_case(root, edit)


def tree_with(case: Callable[[Path], Path], root: Path) -> Path:
    """A tree holding the hostile RPM repository (ROOT/hostile) beside a sound Debian
    one (ROOT/sound): the rest of the audit, that must still be reported."""
    case(root / "hostile")
    deb_repo(root / SOUND, {"main": SAMPLES})
    return root


def target(name: str, root: Path) -> Path:
    """Build case `name` under ROOT; the path to audit: the Debian repository itself
    (its indexes are parsed ahead in the pool), or the tree holding an RPM one."""
    build = CASES[name]
    if name.startswith("primary"):
        return tree_with(build, root)
    return build(root)


CASES: dict[str, Callable[[Path], Path]] = {
    "latin1": latin1, "long-line": long_line, "one-paragraph": one_paragraph,
    "many-paragraphs": many_paragraphs, "primary-bomb": primary_bomb,
    "primary-nested": primary_nested, "primary-laughs": primary_laughs}


if __name__ == "__main__":
    out = Path(sys.argv[1])
    for name in CASES:
        shutil.rmtree(out / name, ignore_errors=True)
        print(name, target(name, out / name))

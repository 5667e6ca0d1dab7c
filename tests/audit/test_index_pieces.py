"""A big Debian index is parsed in pieces that workers run side by side: the pieces must
give exactly what one parse gives, and a repository is split only where it pays."""

from __future__ import annotations

import functools
import gzip
import lzma
import pickle
import random
from pathlib import Path

import pytest
from debian.deb822 import Deb822

from xenlint.audit import debrepo, targets
from xenlint.audit.run import AuditSettings, audit
from xenlint.audit.targets import SPLIT_BYTES, index_jobs
from xenlint.engine.lint import LintOptions
from xenlint.facts import Paths
from xenlint.limits import Limits

OPTIONS = LintOptions(search_config=False)


def _stanza(i: int, rnd: random.Random, filename: str | None = None) -> str:
    dep = f"Depends: pkg-{rnd.randrange(400):04d} (>= 1.0) | pkg-{rnd.randrange(400):04d}\n" \
        if i % 3 else ""
    return (f"Package: pkg-{i:04d}\nVersion: 1.{i}-1\nArchitecture: amd64\n{dep}"
            f"Filename: {filename or f'pool/main/pkg-{i:04d}_1.{i}-1_amd64.deb'}\n"
            f"Size: {rnd.randrange(1000, 90000)}\nSHA256: {rnd.getrandbits(256):064x}\n"
            f"Description: generated {i}\n line two\n .\n line three\n")


def _repo(root: Path, stanzas: list[str], *, contents: bool = False) -> Path:
    """A Debian repository of index entries only (nothing in it is a Xen package, so
    nothing is opened): what a large archive index looks like to discovery."""
    index = root / "dists" / "big" / "main" / "binary-amd64"
    index.mkdir(parents=True)
    (index / "Packages.xz").write_bytes(lzma.compress("\n".join(stanzas).encode()))
    if contents:  # a component's list and the suite's, one path shared, one with a space
        (root / "dists" / "big" / "Contents-amd64").write_text(
            "FILE LOCATION\nusr/bin/pkg0 misc/pkg-0000\n"
            "usr/lib/shared misc/pkg-0002,libs/pkg-0003\nusr/bin/with space  misc/pkg-0003\n")
        (root / "dists" / "big" / "main" / "Contents-amd64.gz").write_bytes(gzip.compress(
            b"usr/share/doc/pkg-0000/copyright doc/pkg-0000\n"))
    return root


def _big(tmp: Path, n: int = 400, **kw: bool) -> Path:
    rnd = random.Random(7)
    stanzas = [_stanza(i, rnd) for i in range(n)]
    # a duplicate Filename, met by another piece than the entry after it: the first wins
    stanzas.insert(1, _stanza(9000, rnd, filename="pool/main/pkg-0001_1.1-1_amd64.deb"))
    # entries the index gets wrong: one outside the repository, one without a version
    stanzas.insert(17, _stanza(9001, rnd, filename="../../etc/passwd"))
    stanzas.insert(30, "Package: broken\nFilename: pool/main/broken.deb\n")
    return _repo(tmp / "repo", stanzas, **kw)


@pytest.fixture
def split_small(monkeypatch: pytest.MonkeyPatch) -> None:
    """Split the 400-entry test index (20 KiB) as a big one is split: parsing a big one
    in each test would cost seconds."""
    monkeypatch.setattr(targets, "SPLIT_BYTES", 16 * 1024)


def _shape(arts_errors: tuple[list, list[str]]) -> tuple[list[tuple[str, str, str]], list[str]]:
    arts, errors = arts_errors
    return [(a.path, a.package.name, a.package.version) for a in arts], errors


@pytest.mark.parametrize("parts", [2, 3, 7])
def test_pieces_join_to_what_one_parse_gives(tmp_path: Path, parts: int) -> None:
    root = _big(tmp_path)
    suite = root / "dists" / "big"
    whole = debrepo.read_suite(root, suite, Limits())
    joined = debrepo.join_parts([debrepo.read_part(root, suite, Limits(), k, parts)
                                 for k in range(parts)])
    assert _shape(joined) == _shape(whole)
    paths, errors = _shape(whole)
    assert len(paths) == 400  # pkg-0001's Filename went to the entry before it
    names = {p[0]: p[1] for p in paths}
    assert names[str(root / "pool/main/pkg-0001_1.1-1_amd64.deb")] == "pkg-9000"
    assert any("outside the repository" in e for e in errors)
    assert any("without Package or Version" in e for e in errors)
    # each piece parsed its share only
    sizes = [len(debrepo.read_part(root, suite, Limits(), k, parts)[0]) for k in range(parts)]
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == 403


def test_paragraphs_split_as_python_debian_does() -> None:
    raw = (b"# a comment line\n\nPackage: a\nVersion: 1\n# inside\nDescription: x\n y\n .\n"
           b" z\n \t\nPackage: b\nVersion: 2\n\n\n\nPackage: c\r\nVersion: 3\r\n")
    lines = raw.splitlines(keepends=True)
    ours = [dict(Deb822(p)) for p in debrepo.paragraphs(lines)]
    theirs = [dict(p) for p in Deb822.iter_paragraphs(lines, use_apt_pkg=False)]
    assert ours == theirs and [p["Package"] for p in ours] == ["a", "b", "c"]


def test_a_big_index_is_split_for_the_workers_and_a_small_one_is_not(tmp_path: Path) -> None:
    big = _big(tmp_path / "a", n=1200)
    assert (big / "dists/big/main/binary-amd64/Packages.xz").stat().st_size >= SPLIT_BYTES
    [job] = index_jobs(str(big), Limits(), pieces=2)
    assert len(job.pieces) == 2 and job.join is not None
    # every piece travels to a worker
    results = [pickle.loads(pickle.dumps(p))() for p in job.pieces]
    assert _shape(job.result(results)) == _shape(job.compute())
    [one] = index_jobs(str(big), Limits(), pieces=1)
    assert one.calls() == (one.compute,)
    # 400 entries (20 KiB) parse in about 30 ms, faster in one piece than in two
    small = _big(tmp_path / "b")
    assert (small / "dists/big/main/binary-amd64/Packages.xz").stat().st_size < SPLIT_BYTES
    [job] = index_jobs(str(small), Limits(), pieces=2)
    assert job.pieces == ()


def test_a_suite_with_contents_is_parsed_in_pieces_each_keeping_its_own_files(
        tmp_path: Path, split_small: None) -> None:
    root = _big(tmp_path, contents=True)
    suite = root / "dists" / "big"
    [job] = index_jobs(str(root), Limits(), pieces=4)
    assert len(job.pieces) == 4 + 2  # the index's four, one per Contents file
    whole = debrepo.read_suite(root, suite, Limits())
    files = {a.package.name: set(a.entries) for a in whole[0] if a.package}
    assert files["pkg-0000"] == {"/usr/bin/pkg0", "/usr/share/doc/pkg-0000/copyright"}
    assert files["pkg-0002"] == {"/usr/lib/shared"}  # a path two packages ship
    assert files["pkg-0003"] == {"/usr/lib/shared", "/usr/bin/with space"}
    assert not files["pkg-0004"]
    joined = job.result([piece() for piece in job.pieces])
    assert [(a.path, a.entries, a.meta) for a in joined[0]] == \
        [(a.path, a.entries, a.meta) for a in whole[0]]
    contents = debrepo.contents_files(suite)
    joined = debrepo.join_parts([debrepo.read_part(root, suite, Limits()),
                                 *(debrepo.contents_piece(p, Limits()) for p in contents)])
    assert [(a.path, a.entries) for a in joined[0]] == [(a.path, a.entries) for a in whole[0]]
    assert debrepo.file_lists(suite / "Contents-amd64", Limits()) == {
        "pkg-0000": ["/usr/bin/pkg0"], "pkg-0002": ["/usr/lib/shared"],
        "pkg-0003": ["/usr/lib/shared", "/usr/bin/with space"]}


def test_an_audit_in_pieces_reports_what_a_serial_one_does(tmp_path: Path) -> None:
    root = _big(tmp_path, n=1500)

    def summary(jobs: int) -> tuple[list[str], list[tuple[str, str]], int]:
        result = audit(str(root), OPTIONS, AuditSettings(jobs=jobs))
        rep = result.report
        return (rep.artifacts, [(e.artifact, e.message) for e in rep.errors],
                result.stats.from_index)

    in_pieces = summary(2)
    assert in_pieces == summary(1)  # the same packages, in the same order, and errors
    artifacts, errors, from_index = in_pieces
    assert from_index == 1500 and str(root / "pool/main/pkg-1499_1.1499-1_amd64.deb") in artifacts
    assert [m.split(": ", 1)[1] for _a, m in errors] == [
        "names a file outside the repository: '../../etc/passwd'",
        "pool/main/broken.deb has an index entry without Package or Version"]


def test_a_piece_that_kills_its_worker_is_the_suites_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, split_small: None) -> None:
    from xenlint.audit import run as audit_run

    root = _big(tmp_path)
    real = index_jobs

    def one_piece_dies(target: str, limits: Limits, pieces: int = 1,
                       keep: Paths | None = None) -> list:
        import dataclasses
        return [dataclasses.replace(j, pieces=(j.pieces[0], functools.partial(_die)))
                for j in real(target, limits, pieces, keep)]

    monkeypatch.setattr(audit_run, "index_jobs", one_piece_dies)
    result = audit(str(root), OPTIONS, AuditSettings(jobs=2))
    assert [(e.artifact, e.message) for e in result.report.errors] == [
        (str(root / "dists" / "big"),
         "has an unreadable index (its parser crashed the worker process)")]


def _die() -> None:
    import os
    os._exit(3)

"""What an audit reads is what it judges and caches (issue 16): a hash an index claims is
checked, never trusted; every cache layer is keyed by the bytes read; a file that changes
under the reader is read again; pool entries never lead outside the repository."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from audit_repos import REPO, deb_repo, make_deb
from click.testing import CliRunner

from xenlint.audit import worker
from xenlint.audit.cache import StatIndex
from xenlint.audit.model import WorkItem
from xenlint.audit.worker import MISMATCH, WorkerConfig, analyse
from xenlint.cli import main
from xenlint.limits import Limits

SAMPLES = sorted((REPO / "fixtures" / "samples").glob("*.deb"))
META = "xen-system-sample_4.17.3-1_amd64.deb"


def audit(*args: str) -> tuple[int, dict[str, Any]]:
    res = CliRunner().invoke(main, ["audit", *args, "--format", "json", "--no-summary",
                                    "--fail-on", "warning"],
                             catch_exceptions=False)
    assert res.exit_code in (0, 1, 2), res.stderr
    return res.exit_code, json.loads(res.stdout)


def _benign_meta(tmp: Path) -> bytes:
    """Another package under the meta-package's name: it has the documentation whose
    absence is the trusted package's finding."""
    deb = make_deb(tmp, "xen-system-sample", "4.17.3-1",
                   files={"/usr/share/doc/xen-system-sample/copyright": "c\n",
                          "/usr/share/doc/xen-system-sample/changelog.Debian.gz": "x\n"})
    return deb.read_bytes()


def _relative(doc: dict[str, Any], root: Path) -> str:
    return json.dumps(doc).replace(str(root), "ROOT")


def test_a_lying_repository_does_not_change_a_trusted_ones_report(tmp_path: Path) -> None:
    trusted = deb_repo(tmp_path / "trusted", {"main": SAMPLES})
    code, expected = audit(str(trusted), "--no-cache")
    assert code == 1 and expected["findings"]
    # the hostile copy: the same index (so the same claimed sha256) over other bytes
    hostile = tmp_path / "hostile"
    shutil.copytree(trusted, hostile)
    (hostile / "pool" / "main" / META).write_bytes(_benign_meta(tmp_path / "stage"))
    cache = str(tmp_path / "cache")
    for args in (("--cache-dir", cache), ("--no-cache",)):
        hcode, hdoc = audit(str(hostile), *args)
        assert hcode == 2
        assert [(Path(e["artifact"]).name, e["message"]) for e in hdoc["errors"]] == \
            [(META, MISMATCH)]
    # the trusted repository, after the hostile one, with the same cache: unchanged
    assert audit(str(trusted), "--cache-dir", cache) == (code, expected)
    assert audit(str(trusted), "--cache-dir", cache) == (code, expected)


def test_a_pool_file_caught_half_written_is_read_again_once_whole(tmp_path: Path) -> None:
    root = deb_repo(tmp_path / "repo", {"main": SAMPLES})
    code, expected = audit(str(root), "--no-cache")
    meta = root / "pool" / "main" / META
    whole = meta.read_bytes()
    meta.write_bytes(whole[: len(whole) // 2])  # the mirror is mid-sync
    cache = str(tmp_path / "cache")
    hcode, half = audit(str(root), "--cache-dir", cache)
    assert hcode == 2 and [e["message"] for e in half["errors"]] == [MISMATCH]
    meta.write_bytes(whole)  # the sync ends
    assert audit(str(root), "--cache-dir", cache) == (code, expected)


def test_a_file_that_changes_while_read_is_read_again(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = SAMPLES[0].read_bytes(), SAMPLES[1].read_bytes()
    deb = tmp_path / "p.deb"
    deb.write_bytes(first)
    real_hash = worker._hash
    calls: list[int] = []

    def hash_then_replace(fd: int) -> str:
        sha = real_hash(fd)
        calls.append(fd)
        if len(calls) == 1:  # a writer rewrites the file in place right after the hash
            with deb.open("r+b") as f:
                f.write(second)
                f.truncate()
        return sha

    monkeypatch.setattr(worker, "_hash", hash_then_replace)
    out = analyse(WorkItem(str(deb), str(deb)), WorkerConfig(Limits(), 0, None, "salt"))
    assert len(calls) == 2  # read again
    assert out.artifact is not None and out.artifact.error is None
    assert out.artifact.package is not None
    assert out.artifact.package.name == SAMPLES[1].name.split("_")[0]  # what was read
    assert out.sha256 == real_hash(os.open(SAMPLES[1], os.O_RDONLY))  # and it is its hash
    st = deb.stat()
    assert out.stamp == (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def test_a_file_that_never_settles_is_reported(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    deb = tmp_path / "p.deb"
    deb.write_bytes(SAMPLES[0].read_bytes())
    real_hash = worker._hash

    def hash_then_touch(fd: int) -> str:
        sha = real_hash(fd)
        with deb.open("ab") as f:
            f.write(b"x")
        return sha

    monkeypatch.setattr(worker, "_hash", hash_then_touch)
    out = analyse(WorkItem(str(deb), str(deb)), WorkerConfig(Limits(), 0, None, "salt"))
    assert out.artifact is not None
    assert out.artifact.error == "changed while it was read (3 times); not read"


def test_the_run_memo_follows_a_symlink_to_its_bytes(tmp_path: Path) -> None:
    target = tmp_path / "p.deb"
    target.write_bytes(SAMPLES[0].read_bytes())
    link = tmp_path / "link.deb"
    link.symlink_to(target)
    cache = str(tmp_path / "cache")
    _code, one = audit(str(link), "--cache-dir", cache)
    assert one["artifacts"] == [str(link)]
    stat_before = link.lstat()
    target.write_bytes(SAMPLES[1].read_bytes())  # the link itself does not change
    assert link.lstat() == stat_before
    _code, two = audit(str(link), "--cache-dir", cache)
    assert two != one
    assert two == audit(str(link), "--no-cache")[1]
    # and a link moved to other bytes is a new run as well
    other = tmp_path / "q.deb"
    other.write_bytes(SAMPLES[2].read_bytes())
    link.unlink()
    link.symlink_to(other)
    assert audit(str(link), "--cache-dir", cache)[1] == audit(str(link), "--no-cache")[1]


def test_a_damaged_stat_index_is_a_miss(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(SAMPLES[0], tree)
    cache = tmp_path / "cache"
    expected = audit(str(tree), "--no-cache")
    for text in ("[]", "{", '{"x": 1}', json.dumps({str(tree / SAMPLES[0].name): [1, 2]})):
        cache.mkdir(mode=0o700, exist_ok=True)
        (cache / "stat-index.json").write_text(text)
        assert audit(str(tree), "--cache-dir", str(cache), "--jobs", "1") == expected
        assert StatIndex(cache).lookup(str(tree / SAMPLES[0].name)) is not None or \
            text != "[]"
        shutil.rmtree(cache)


def test_pool_entries_outside_the_repository_are_not_read(tmp_path: Path) -> None:
    root = deb_repo(tmp_path / "repo", {"main": SAMPLES})
    pool = root / "pool" / "main"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    meta = pool / META
    shutil.move(meta, outside / META)
    meta.symlink_to(outside / META)  # same bytes, same hash: still not read
    hyper = next(pool.glob("xen-hypervisor-*.deb"))
    hyper.unlink()
    hyper.symlink_to("/etc/shadow")
    tools = next(pool.glob("xen-tools-*.deb"))
    tools.unlink()
    os.mkfifo(tools)  # a FIFO would block a reader that opened it
    code, doc = audit(str(root), "--no-cache")
    assert code == 2
    errors = {Path(e["artifact"]).name: e["message"] for e in doc["errors"]}
    assert errors == {
        META: "names a file outside the repository; not read",
        hyper.name: "names a file outside the repository; not read",
        tools.name: "is a FIFO, not a regular file; not read",
    }


def test_a_pool_directory_symlinked_outside_is_not_read(tmp_path: Path) -> None:
    root = deb_repo(tmp_path / "repo", {"main": SAMPLES})
    pool = root / "pool" / "main"
    shutil.move(pool, tmp_path / "moved")
    pool.symlink_to(tmp_path / "moved")
    code, doc = audit(str(root), "--no-cache")
    assert code == 2
    assert {e["message"] for e in doc["errors"]} == \
        {"names a file outside the repository; not read"}
    assert len(doc["errors"]) == len(SAMPLES)

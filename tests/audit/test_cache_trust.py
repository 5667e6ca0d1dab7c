"""The audit cache holds data only, and its damage is a miss (issue 16): a pickle planted
at an entry's path runs nothing, a damaged or wrongly shaped entry is read again, the
cache's directories and files are the user's alone, and a root others may write is not
used unless a shared cache is asked for."""

from __future__ import annotations

import json
import os
import pickle
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgpack
import pytest
from audit_repos import REPO, deb_repo
from click.testing import CliRunner

from xenlint.cli import main

SAMPLES = sorted((REPO / "fixtures" / "samples").glob("*.deb"))
ENTRY = "*.msgpack"


def audit(*args: str) -> tuple[int, dict[str, Any], str]:
    """(exit status, JSON report, stderr) of `xenlint audit` in this process."""
    res = CliRunner().invoke(main, ["audit", *args, "--format", "json", "--no-summary",
                                    "--fail-on", "warning", "--jobs", "1"],
                             catch_exceptions=False)
    assert res.exit_code in (0, 1, 2), res.stderr
    return res.exit_code, json.loads(res.stdout), res.stderr


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Debian repository: an audit of it uses every cache layer (index parse, views,
    reports, run memo, stat index)."""
    return deb_repo(tmp_path_factory.mktemp("trust") / "repo", {"main": SAMPLES})


@pytest.fixture(scope="module")
def uncached(repo: Path) -> tuple[int, dict[str, Any]]:
    code, doc, _err = audit(str(repo), "--no-cache")
    assert code == 1 and doc["findings"]  # a report with something to get wrong
    return code, doc


def _entries(cache: Path) -> dict[str, list[Path]]:
    layers = {layer: sorted((cache / layer).rglob(ENTRY))
              for layer in ("views", "reports", "indexes", "runs")}
    assert all(layers.values()), layers  # every layer was written
    return layers


class _Plant:
    """What a pickle of this runs when loaded: it makes the directory `marker`."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.mkdir, (str(self.marker),)


def test_a_pickle_planted_at_every_entry_runs_nothing(repo: Path, uncached: Any,
                                                      tmp_path: Path) -> None:
    # the payload works: loaded by pickle, it makes its marker
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(_Plant(probe)))
    assert probe.is_dir()
    cache = tmp_path / "cache"
    assert audit(str(repo), "--cache-dir", str(cache))[:2] == uncached
    marker = tmp_path / "marker"
    planted = pickle.dumps(_Plant(marker))
    for files in _entries(cache).values():
        for f in files:
            f.write_bytes(planted)
    assert audit(str(repo), "--cache-dir", str(cache))[:2] == uncached
    assert not marker.exists()
    # the entries were rewritten as data, and serve the next run
    assert audit(str(repo), "--cache-dir", str(cache))[:2] == uncached
    assert not marker.exists()
    assert all(f.read_bytes() != planted for fs in _entries(cache).values() for f in fs)


def _flip(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:]


def _sealed(value: Any) -> bytes:
    """Well-formed msgpack with a matching digest, of a shape the cache never writes."""
    from xenlint.audit.codec import pack

    return pack(value)


DAMAGE = {
    "a flipped bit": _flip,
    "a truncated file": lambda data: data[: len(data) // 2],
    "an empty file": lambda data: b"",
    "msgpack of another type": lambda data: _sealed({"findings": []}),
    "msgpack of the right outer shape": lambda data: _sealed([None, None, None]),
    "unsealed msgpack": lambda data: msgpack.packb([1, 2, 3]),
    "an extension type": lambda data: _sealed(msgpack.ExtType(5, b"x")),
    "a nested array": lambda data: _sealed([[[[["x"]]]]] * 3),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_entry_is_a_miss(repo: Path, uncached: Any, tmp_path: Path,
                                   damage: str) -> None:
    cache = tmp_path / "cache"
    audit(str(repo), "--cache-dir", str(cache))
    for files in _entries(cache).values():
        for f in files:
            f.write_bytes(DAMAGE[damage](f.read_bytes()))
    code, doc, err = audit(str(repo), "--cache-dir", str(cache))
    assert (code, doc) == uncached
    assert err == ""  # a miss is silent


def test_each_layer_alone_damaged_is_a_miss(repo: Path, uncached: Any,
                                             tmp_path: Path) -> None:
    """The layers are consulted in turn (run memo, report, view, index): with only one of
    them damaged, the one behind it answers, and the report is the same."""
    cache = tmp_path / "cache"
    audit(str(repo), "--cache-dir", str(cache))
    for layer in ("runs", "reports", "views", "indexes"):
        for f in _entries(cache)[layer]:
            f.write_bytes(_flip(f.read_bytes()))
        assert audit(str(repo), "--cache-dir", str(cache))[:2] == uncached, layer


@pytest.mark.parametrize("text", ["[]", "[" * 100_000, '"x"', "\xff"])
def test_a_wrong_stat_index_is_a_miss(repo: Path, uncached: Any, tmp_path: Path,
                                      text: str) -> None:
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    (cache / "stat-index.json").write_bytes(text.encode("latin-1"))
    assert audit(str(repo), "--cache-dir", str(cache))[:2] == uncached


def test_a_fifo_at_an_entry_path_does_not_block(repo: Path, uncached: Any,
                                                tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    audit(str(repo), "--cache-dir", str(cache))
    for files in _entries(cache).values():
        for f in files:
            f.unlink()
            os.mkfifo(f)
    (cache / "stat-index.json").unlink()
    os.mkfifo(cache / "stat-index.json")
    assert audit(str(repo), "--cache-dir", str(cache))[:2] == uncached


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def test_directories_are_0700_and_files_0600_whatever_the_umask(repo: Path,
                                                                tmp_path: Path) -> None:
    cache = tmp_path / "a" / "cache"  # its parent is made too
    with _umask(0o002):
        audit(str(repo), "--cache-dir", str(cache))
        # in a cache made under a lax umask: every layer, the stat index included
        dirs = [cache, cache.parent, *(p for p in cache.rglob("*") if p.is_dir())]
        files = [p for p in cache.rglob("*") if not p.is_dir()]
    _entries(cache)
    assert (cache / "stat-index.json") in files
    assert {oct(stat.S_IMODE(d.stat().st_mode)) for d in dirs} == {"0o700"}
    assert {oct(stat.S_IMODE(f.stat().st_mode)) for f in files} == {"0o600"}


def _written(cache: Path) -> list[Path]:
    return [p for p in cache.rglob("*") if p.is_file()]


@pytest.mark.parametrize("how", ["group-writable", "world-writable", "another user's"])
def test_a_root_others_may_write_is_refused_unless_shared(repo: Path, uncached: Any,
                                                          tmp_path: Path, how: str) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    if how == "another user's":
        cache.chmod(0o755)
        os.chown(cache, 65534, 65534)  # nobody; the tests run as root in CI
        assert cache.stat().st_uid != os.geteuid()
    else:
        cache.chmod(0o775 if how == "group-writable" else 0o757)
    code, doc, err = audit(str(repo), "--cache-dir", str(cache))
    assert (code, doc) == uncached
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"xenlint: warning: not using the cache "
                                                   f"{cache}: ")
    assert "--shared-cache" in lines[0]
    assert _written(cache) == []  # neither read nor written
    # asked for, the same root is used: its entries are data, whoever wrote them
    code, doc, err = audit(str(repo), "--cache-dir", str(cache), "--shared-cache")
    assert (code, doc, err) == (*uncached, "")
    _entries(cache)
    assert audit(str(repo), "--cache-dir", str(cache), "--shared-cache")[:2] == uncached


def test_a_shared_cache_gives_its_users_the_roots_permissions(repo: Path,
                                                              tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o2770)  # a team's cache: the group reads and writes it
    with _umask(0o077):
        audit(str(repo), "--cache-dir", str(cache), "--shared-cache")
    inside = [p for p in cache.rglob("*")]
    assert {oct(stat.S_IMODE(p.stat().st_mode) & 0o777) for p in inside if p.is_dir()} == \
        {"0o770"}
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in inside if p.is_file()} == {"0o660"}


def test_a_refused_root_is_refused_by_the_python_api_too(repo: Path, uncached: Any,
                                                         tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    from xenlint.audit.run import AuditSettings
    from xenlint.audit.run import audit as run_audit
    from xenlint.engine.lint import LintOptions

    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    cache.chmod(0o777)
    result = run_audit(str(repo), LintOptions(), AuditSettings(jobs=1, cache_root=cache))
    assert "not using the cache" in capsys.readouterr().err
    assert result.report.findings and _written(cache) == []


def test_no_pickle_is_read_by_the_cache() -> None:
    for name in ("cache.py", "runmemo.py", "codec.py"):
        text = (REPO / "xenlint" / "audit" / name).read_text()
        assert "pickle.load" not in text and "import pickle" not in text, name


def test_a_repositorys_report_comes_from_the_cache_after_its_index_does(
        tmp_path: Path) -> None:
    """A package set's report is keyed by its header-only packages: those of the second
    run come from the index cache, and must key the report as the fresh parse did."""
    from audit_repos import make_deb

    from xenlint.audit.run import AuditSettings
    from xenlint.audit.run import audit as run_audit
    from xenlint.engine.lint import LintOptions

    other = make_deb(tmp_path, "hello", files={"/usr/bin/hello": "#!/bin/sh\n"})
    root = deb_repo(tmp_path / "repo", {"main": [*SAMPLES, other]})
    settings = AuditSettings(jobs=1, cache_root=tmp_path / "cache")
    options = LintOptions(search_config=False)
    one = run_audit(str(root), options, settings)
    assert one.stats.from_index >= 1  # hello is judged from the index: group metadata
    for view in (tmp_path / "cache" / "views").rglob(ENTRY):
        view.unlink()  # were the report missed, its views would be read again
    two = run_audit(str(root), options, settings)
    assert two.stats.opened == 0 and two.report == one.report
    assert list((tmp_path / "cache" / "indexes").rglob(ENTRY))

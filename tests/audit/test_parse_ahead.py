"""Parse-ahead: an audit parses a repository's indexes in its worker pool (one call per
suite) while it loads the rules, and `discover` takes those results. Also the pieces it
rests on: `Cache.has_memo`, `LocalExecutor.submit`/`abandon`, and the main process's
paused garbage collector (`paused_gc`)."""

from __future__ import annotations

import dataclasses
import functools
import gc
import multiprocessing
import os
import pickle
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

import pytest
from audit_repos import FIXTURE_RPMS, deb_repo, make_deb, rpm_repo

from xenlint.artifact import Artifact
from xenlint.audit import debrepo, rpmrepo
from xenlint.audit import run as audit_run
from xenlint.audit.cache import Cache
from xenlint.audit.codec import SUITE
from xenlint.audit.executor import LocalExecutor, paused_gc
from xenlint.audit.model import Group
from xenlint.audit.run import AuditResult, AuditSettings, audit
from xenlint.audit.targets import IndexJob, discover, index_jobs
from xenlint.engine.lint import LintError, LintOptions
from xenlint.facts import Paths
from xenlint.limits import ArtifactError, Limits

T = TypeVar("T")
R = TypeVar("R")
OPTIONS = LintOptions(search_config=False)
# generous bound for anything that must not wait for a worker: a pool start and a kill
PROMPT = 15.0


# --- functions a worker runs: module level, so that they pickle by reference ----------

def _double(x: int) -> int:
    return 2 * x


def _die() -> None:
    os._exit(1)  # as a crash in a C library would: no exception, the process is gone


def _nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def _late(seconds: float, compute: Callable[[], T]) -> T:
    time.sleep(seconds)
    return compute()


def _given(value: T) -> T:
    return value


def _roundtrip(obj: T) -> T:
    """What crossing to a worker (or back) does to a call or a result."""
    copy: T = pickle.loads(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))
    return copy


# --- repositories --------------------------------------------------------------------

@pytest.fixture(scope="module")
def debs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Built once: dpkg-deb is the slow part of a repository."""
    out = tmp_path_factory.mktemp("debs")
    return {
        # a meta-package and a toolstack package give findings; hello is index-only
        "meta": make_deb(out, "xen-system-test", depends="xen-utils-test", files={}),
        "tools": make_deb(out, "xen-utils-test", files={"/usr/sbin/xl": "#!/bin/sh\n"}),
        "hello": make_deb(out, "hello", depends="libc6", files={"/usr/bin/hello": "hi\n"}),
    }


def _two_suites(tmp: Path, debs: dict[str, Path]) -> Path:
    return deb_repo(tmp / "repo", {"stable": list(debs.values()),
                                   "testing": [debs["tools"], debs["hello"]]}, contents=True)


def _suite(group: Group) -> str:
    return group.name.rsplit(":", 1)[-1]  # "<root>:<suite>"


def _by_suite(groups: list[Group]) -> dict[str, Group]:
    return {_suite(g): g for g in groups}


def _jobs_by_suite(root: Path) -> dict[str, IndexJob]:
    """index_jobs keyed by the suite directory holding each job's files."""
    out: dict[str, IndexJob] = {}
    for job in index_jobs(str(root), Limits()):
        [suite] = {p.relative_to(root / "dists").parts[0] for p in job.files}
        out[suite] = job
    assert len(out) == len(index_jobs(str(root), Limits())), "one job per suite"
    return out


def _packages(group: Group) -> set[str]:
    """The package names a group holds, opened or judged from the index."""
    opened = {Path(i.path).name.split("_")[0] for i in group.items}
    return opened | {a.package.name for a in group.metadata if a.package is not None}


# --- index_jobs ------------------------------------------------------------------------

def test_debian_repo_has_one_picklable_index_job_per_suite(tmp_path: Path,
                                                           debs: dict[str, Path]) -> None:
    root = _two_suites(tmp_path, debs)
    jobs = _jobs_by_suite(root)
    assert set(jobs) == {"stable", "testing"}
    assert len({j.tag for j in jobs.values()}) == 2
    for suite, job in jobs.items():
        # the memo must see a change to the suite's index
        assert root / "dists" / suite / "main/binary-amd64/Packages.xz" in job.files
    # run as a worker would: the call and its result both cross a pickle
    results = {j.tag: _roundtrip(_roundtrip(j.compute)()) for j in jobs.values()}
    given = {tag: functools.partial(_given, result) for tag, result in results.items()}
    own = discover(str(root), Limits())
    assert discover(str(root), Limits(), parsed=given) == own
    # a comparison of empty groups would prove nothing
    assert {s: _packages(g) for s, g in _by_suite(own).items()} == {
        "stable": {"xen-system-test", "xen-utils-test", "hello"},
        "testing": {"xen-utils-test", "hello"}}


def test_rpm_repo_has_one_picklable_index_job(tmp_path: Path) -> None:
    root = rpm_repo(tmp_path / "rpms", FIXTURE_RPMS)
    [job] = index_jobs(str(root), Limits())
    assert rpmrepo.index_files(root)["primary"] in job.files
    result = _roundtrip(_roundtrip(job.compute)())
    own = discover(str(root), Limits())
    assert discover(str(root), Limits(), parsed={job.tag: lambda: result}) == own
    assert sum(len(g.items) + len(g.metadata) for g in own) == len(FIXTURE_RPMS)


def test_no_index_jobs_outside_a_repository(tmp_path: Path, debs: dict[str, Path]) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    shutil.copy(debs["tools"], plain / debs["tools"].name)
    # a tree holding a repository parses it as discover meets it, not ahead
    tree = tmp_path / "tree"
    deb_repo(tree / "mirror", {"stable": [debs["tools"]]})
    assert index_jobs(str(tree / "mirror"), Limits()) != []  # the repository itself has one
    for target in (plain, plain / debs["tools"].name, tmp_path / "missing", tree):
        assert index_jobs(str(target), Limits()) == [], target


# --- discover(parsed=...) --------------------------------------------------------------

def test_discover_takes_the_given_parses_instead_of_parsing(
        tmp_path: Path, debs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    root = _two_suites(tmp_path, debs)
    jobs = _jobs_by_suite(root)
    stable = jobs["stable"].compute()
    calls: list[str] = []

    def counted(tag: str) -> Callable[[], Any]:
        def give() -> Any:
            calls.append(tag)
            return stable  # testing gets stable's parse: other data than its own index
        return give

    def no_parsing(*args: object) -> None:
        raise AssertionError("discover parsed an index it was given")

    monkeypatch.setattr(debrepo, "read_suite", no_parsing)
    groups = _by_suite(discover(str(root), Limits(),
                                parsed={j.tag: counted(j.tag) for j in jobs.values()}))
    assert sorted(calls) == sorted(j.tag for j in jobs.values())  # each once
    # testing's own index has no meta-package: the group shows the given result
    assert _packages(groups["testing"]) == _packages(groups["stable"]) == {
        "xen-system-test", "xen-utils-test", "hello"}


def test_a_dead_parse_is_an_index_error_of_its_suite(tmp_path: Path,
                                                     debs: dict[str, Path]) -> None:
    root = _two_suites(tmp_path, debs)
    jobs = _jobs_by_suite(root)

    def boom() -> Any:
        raise ArtifactError("boom")

    cache = Cache(tmp_path / "cache", "salt")
    for with_cache in (None, cache):
        groups = _by_suite(discover(str(root), Limits(), cache=with_cache,
                                    parsed={jobs["testing"].tag: boom}))
        testing = groups["testing"]
        assert testing.items == []
        [err] = testing.metadata
        assert err.path == str(root / "dists" / "testing")
        # labelled like a sound suite: its overrides are looked for in the same place
        assert testing.label == str(root / "dists" / "testing") == err.path
        assert err.error is not None and "boom" in err.error
        # the other suite is parsed as usual
        assert _packages(groups["stable"]) == {"xen-system-test", "xen-utils-test", "hello"}
    # a parse that died is not remembered: the next audit parses the suite again
    assert not cache.has_memo(jobs["testing"].tag, list(jobs["testing"].files))
    assert cache.has_memo(jobs["stable"].tag, list(jobs["stable"].files))


def test_a_dead_parse_is_an_index_error_of_the_rpm_repo(tmp_path: Path) -> None:
    root = rpm_repo(tmp_path / "rpms", FIXTURE_RPMS[:1])
    [job] = index_jobs(str(root), Limits())

    def boom() -> Any:
        raise ArtifactError("boom")

    [group] = discover(str(root), Limits(), parsed={job.tag: boom})
    assert group.items == []
    [err] = group.metadata
    assert err.error is not None and "boom" in err.error


# --- Cache.has_memo --------------------------------------------------------------------

def test_has_memo_tells_whether_memo_would_compute(tmp_path: Path) -> None:
    index = tmp_path / "Packages.xz"
    index.write_bytes(b"index")
    cache = Cache(tmp_path / "cache", "salt")
    files = [index]

    parsed: tuple[list[Artifact], list[str]] = ([], ["parsed"])

    def must_not_compute() -> tuple[list[Artifact], list[str]]:
        raise AssertionError("memo computed although has_memo said it holds the value")

    assert not cache.has_memo("tag", files)
    assert cache.memo("tag", files, lambda: parsed, SUITE) == parsed
    assert cache.has_memo("tag", files)
    assert cache.memo("tag", files, must_not_compute, SUITE) == parsed
    assert not cache.has_memo("other tag", files)

    st = index.stat()
    os.utime(index, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # mtime alone
    assert not cache.has_memo("tag", files)
    cache.memo("tag", files, lambda: ([], ["again"]), SUITE)
    assert cache.has_memo("tag", files)

    st = index.stat()
    with index.open("ab") as f:  # size alone: same inode, mtime put back
        f.write(b"more")
    os.utime(index, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert not cache.has_memo("tag", files)

    index.unlink()  # memo would fail to stat it; has_memo just says no
    assert not cache.has_memo("tag", files)


# --- LocalExecutor.submit / abandon ------------------------------------------------------

def test_submit_survives_a_worker_crash() -> None:
    ex = LocalExecutor(1)
    try:
        assert ex.submit(_double, 21).result(timeout=30) == 42
        with pytest.raises(BrokenProcessPool):
            ex.submit(_die).result(timeout=30)
        # the broken pool refuses work: submit must start a fresh one
        assert ex.submit(_double, 4).result(timeout=30) == 8
    finally:
        ex.close()


def test_workers_collect_garbage_and_the_main_process_state_is_restored() -> None:
    before = (gc.isenabled(), gc.get_freeze_count())
    ex = LocalExecutor(1)
    try:
        # the worker forks while the main process's collector is paused; it reads
        # packages (run) with its own collector on
        assert dict(ex.run(_gc_enabled, ["x"])) == {"x": True}
        # a submitted call (an index parse) runs with it paused, and it is on again after
        assert ex.submit(gc.isenabled).result(timeout=30) is False
        assert dict(ex.run(_gc_enabled, ["y"])) == {"y": True}
        if multiprocessing.get_start_method() == "fork":
            # what existed was frozen before the fork, and the worker keeps it so
            assert ex.submit(gc.get_freeze_count).result(timeout=30) > 0
        assert (gc.isenabled(), gc.get_freeze_count()) == before
    finally:
        ex.close()


def _gc_enabled(_item: str) -> bool:
    return gc.isenabled()


def test_abandon_stops_running_work_at_once() -> None:
    ex = LocalExecutor(1)
    try:
        fut = ex.submit(_nap, 120)
        deadline = time.monotonic() + 30
        while not fut.running() and time.monotonic() < deadline:
            time.sleep(0.01)
        start = time.monotonic()
        ex.abandon()
        assert time.monotonic() - start < PROMPT
        with pytest.raises(BrokenProcessPool):
            fut.result(timeout=5)  # whoever waits on it is not left hanging
        assert ex.submit(_double, 5).result(timeout=30) == 10
    finally:
        ex.close()


# --- paused_gc -------------------------------------------------------------------------

@pytest.mark.parametrize("enabled", [True, False])
def testpaused_gc_pauses_and_restores(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        if enabled:
            gc.enable()
        else:
            gc.disable()
        frozen = gc.get_freeze_count()
        with paused_gc():
            assert not gc.isenabled()
            assert gc.get_freeze_count() > frozen  # what exists now is frozen
        assert gc.isenabled() is enabled
        assert gc.get_freeze_count() == frozen
        with pytest.raises(RuntimeError), paused_gc():
            raise RuntimeError("an audit failing while the pool runs")
        assert gc.isenabled() is enabled
        assert gc.get_freeze_count() == frozen
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()


def testpaused_gc_keeps_an_earlier_freeze() -> None:
    gc.freeze()  # as a pre-fork server embedding xenlint would
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with paused_gc():
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


# --- audit() end to end ----------------------------------------------------------------

class InProcessExecutor:
    """An executor without `submit` (as a cluster adapter may be): no parse-ahead."""

    jobs = 1

    def run(self, fn: Callable[[T], R], items: Sequence[T], *, deadline: float = 0,
            costs: Sequence[int] | None = None) -> Iterator[tuple[T, R | BaseException]]:
        for item in items:
            yield item, fn(item)

    def close(self) -> None:
        pass


def _count_submits(monkeypatch: pytest.MonkeyPatch) -> list[Callable[..., Any]]:
    """The functions given to LocalExecutor.submit (run() feeds its pool directly, so
    these are the parse-ahead calls)."""
    calls: list[Callable[..., Any]] = []
    real = LocalExecutor.submit

    def counting(self: LocalExecutor, fn: Callable[..., R], *args: Any) -> Future[R]:
        calls.append(fn)
        return real(self, fn, *args)

    monkeypatch.setattr(LocalExecutor, "submit", counting)
    return calls


Summary = tuple[list[tuple[str, str, str, str]], list[tuple[str, str]], list[str]]


def _summary(result: AuditResult) -> Summary:
    """(rule, artifact, location, message) of every finding, (artifact, message) of every
    read error, and the artifacts: sorted, since the pool's order is not the report's."""
    report = result.report
    findings = sorted((f.rule, f.artifact, f.location or "", f.message)
                      for f in report.findings)
    errors = sorted((e.artifact, e.message) for e in report.errors)
    return findings, errors, sorted(report.artifacts)


def test_parse_ahead_changes_nothing_in_the_report(tmp_path: Path, debs: dict[str, Path],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    root = _two_suites(tmp_path, debs)
    submits = _count_submits(monkeypatch)
    ahead = audit(str(root), OPTIONS, AuditSettings(jobs=2))
    assert len(submits) == 2  # one parse per suite did go to the pool
    inline = audit(str(root), OPTIONS, AuditSettings(jobs=2), executor=InProcessExecutor())
    assert len(submits) == 2  # and none without an executor that can submit
    assert _summary(ahead) == _summary(inline)
    assert _summary(ahead)[0], "no findings: the comparison would prove nothing"
    assert _summary(ahead)[1] == []
    assert (ahead.stats.opened, ahead.stats.from_index) == (
        inline.stats.opened, inline.stats.from_index)


def test_cached_indexes_are_not_parsed_ahead_again(tmp_path: Path, debs: dict[str, Path],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    root = _two_suites(tmp_path, debs)
    settings = AuditSettings(cache_root=tmp_path / "c", jobs=2)
    submits = _count_submits(monkeypatch)
    first = audit(str(root), OPTIONS, settings)
    assert len(submits) == 2
    submits.clear()
    again = audit(str(root), OPTIONS, settings)
    assert submits == []
    assert _summary(again) == _summary(first) and _summary(first)[0]
    # one suite's index changes: only that suite is parsed ahead
    index = root / "dists/testing/main/binary-amd64/Packages.xz"
    st = index.stat()
    os.utime(index, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    third = audit(str(root), OPTIONS, settings)
    assert len(submits) == 1
    assert _summary(third) == _summary(first)


def test_usage_error_abandons_the_pool_without_waiting(
        tmp_path: Path, debs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    root = _two_suites(tmp_path, debs)

    def slow_jobs(target: str, limits: Limits, pieces: int = 1,
                  keep: Paths | None = None) -> list[IndexJob]:
        # parses that would outlive any test: waiting for them would show
        return [dataclasses.replace(j, pieces=(), compute=functools.partial(_nap, 120))
                for j in index_jobs(target, limits, pieces, keep)]

    def usage_error(*_args: Any) -> list[Group]:
        raise LintError("a problem found once the parses run")

    abandoned: list[LocalExecutor] = []
    real_abandon = LocalExecutor.abandon

    def recording(self: LocalExecutor) -> None:
        abandoned.append(self)
        real_abandon(self)

    monkeypatch.setattr(audit_run, "index_jobs", slow_jobs)
    monkeypatch.setattr(LocalExecutor, "abandon", recording)
    submits = _count_submits(monkeypatch)
    start = time.monotonic()
    # the rules choose what of Contents to keep: a bad selection is found before any parse
    with pytest.raises(LintError, match="no rule matches 'no-such-rule'"):
        audit(str(root), LintOptions(search_config=False, select=("no-such-rule",)),
              AuditSettings(jobs=2))
    assert submits == []
    abandoned.clear()
    monkeypatch.setattr(audit_run, "discover", usage_error)
    with pytest.raises(LintError, match="once the parses run"):
        audit(str(root), OPTIONS, AuditSettings(jobs=2))
    assert time.monotonic() - start < PROMPT
    assert len(submits) == 2  # the parses had started: there was something to abandon
    assert len(abandoned) == 1


def test_a_worker_dying_on_an_index_is_that_suites_error(
        tmp_path: Path, debs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    root = _two_suites(tmp_path, debs)
    real_jobs = index_jobs

    def hostile_stable(target: str, limits: Limits, pieces: int = 1,
                       keep: Paths | None = None) -> list[IndexJob]:
        # only stable is parsed ahead, and its parse kills the worker; testing is parsed
        # by discover and its packages are opened in the pool that replaces the dead one
        return [dataclasses.replace(j, pieces=(), compute=_die)
                for j in real_jobs(target, limits, pieces, keep) if j.tag.endswith("/dists/stable")]

    monkeypatch.setattr(audit_run, "index_jobs", hostile_stable)
    result = audit(str(root), OPTIONS, AuditSettings(jobs=2))
    findings, errors, _arts = _summary(result)
    assert errors == [(str(root / "dists" / "stable"),
                       "has an unreadable index (its parser crashed the worker process)")]
    opened = {Path(artifact).name for _rule, artifact, *_rest in findings}
    assert opened == {debs["tools"].name}  # testing's xen package, read by a fresh pool


def test_a_worker_dying_on_one_index_spares_the_other_suites(
        tmp_path: Path, debs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    root = _two_suites(tmp_path, debs)
    real_jobs = index_jobs

    def hostile_stable(target: str, limits: Limits, pieces: int = 1,
                       keep: Paths | None = None) -> list[IndexJob]:
        # testing's parse is sound, merely slower than stable's crash (a big index)
        return [dataclasses.replace(j, pieces=(), compute=_die)
                if j.tag.endswith("/dists/stable") else
                dataclasses.replace(j, pieces=(), compute=functools.partial(_late, 1.0, j.compute))
                for j in real_jobs(target, limits, pieces, keep)]

    monkeypatch.setattr(audit_run, "index_jobs", hostile_stable)
    result = audit(str(root), OPTIONS, AuditSettings(jobs=2))
    _findings, errors, arts = _summary(result)
    assert [a for a, _m in errors] == [str(root / "dists" / "stable")]
    assert str(root / "pool" / "testing" / debs["tools"].name) in arts

"""`--executor dask://HOST:PORT` on a real Dask cluster: a scheduler and two single-threaded
worker processes on 127.0.0.1 (distributed.LocalCluster, closed when the module's tests
end; its workers are children of this process and die with it). The reports must be the
local executor's byte for byte, and the local pool's guarantees hold: a time limit per
item, a culprit named after its worker died twice, a worker lost mid-run retried."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import distributed
import pytest
from audit_repos import FIXTURE_DEBS, deb_repo
from click.testing import CliRunner

from xenlint.audit.cluster import ClusterError, DaskExecutor, address_of
from xenlint.audit.executor import WorkerCrashed, WorkerTimeout, executor_for
from xenlint.cli import main


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    import dask

    # a worker's death is noticed by its nanny at once; it restarts it
    with dask.config.set({"distributed.scheduler.allowed-failures": 5}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     host="127.0.0.1", scheduler_port=0,
                                     dashboard_address=None) as lc:
        yield "dask://" + lc.scheduler_address.removeprefix("tcp://")


def _cli(*args: str) -> tuple[int, bytes]:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return res.exit_code, res.stdout_bytes


def _same_report(target: Path, url: str) -> bytes:
    local = _cli("audit", str(target), "--format", "json", "--no-cache", "-j", "2")
    dask = _cli("audit", str(target), "--format", "json", "--no-cache", "--executor", url)
    assert dask == local
    return local[1]


def test_the_corpus_audited_on_dask_is_the_local_report(corpus: Path, cluster: str) -> None:
    out = _same_report(corpus, cluster)
    assert b'"findings": [' in out and b"xen-utils-4.17" in out


def test_a_repository_audited_on_dask_is_the_local_report(
        corpus: Path, tmp_path: Path, cluster: str) -> None:
    debs = [*FIXTURE_DEBS, *sorted((corpus / "deb").glob("xen*.deb"))]
    root = deb_repo(tmp_path / "repo", {"stable": debs}, contents=True)
    out = _same_report(root, cluster)
    assert b"dists/stable" in out


def test_a_cache_on_shared_storage_serves_the_next_run(tmp_path: Path, cluster: str) -> None:
    root = deb_repo(tmp_path / "repo", {"stable": FIXTURE_DEBS})
    cache = str(tmp_path / "cache")
    first = _cli("audit", str(root), "--format", "json", "--cache-dir", cache,
                 "--executor", cluster)
    assert list((tmp_path / "cache" / "views").rglob("*")), "the workers wrote the views"
    again = _cli("audit", str(root), "--format", "json", "--cache-dir", cache, "-j", "1")
    assert again == first


# --- the guarantees, on items that misbehave ------------------------------------------------

def _item(item: str) -> str:
    if item.startswith("crash"):
        time.sleep(1)  # reading something, then a segfault in a C library
        os.kill(os.getpid(), signal.SIGKILL)
    if item == "hang":
        time.sleep(600)  # stuck in C: only a restart of its worker stops it
    if item.startswith("once:"):
        marker = Path(item.removeprefix("once:"))
        if not marker.exists():
            marker.write_text("died once")
            time.sleep(1)
            os.kill(os.getpid(), signal.SIGKILL)
    return item.upper()


def test_crash_hang_and_lost_worker_on_dask(tmp_path: Path, cluster: str) -> None:
    once = f"once:{tmp_path / 'marker'}"
    items = ["a", "crash", "b", "hang", once, "c", "d"]
    ex = executor_for(cluster, None)
    assert isinstance(ex, DaskExecutor) and ex.jobs == 2
    start = time.monotonic()
    try:
        results = dict(ex.run(_item, items, deadline=8))
    finally:
        ex.close()
    assert time.monotonic() - start < 120
    assert isinstance(results.pop("crash"), WorkerCrashed)
    assert isinstance(results.pop("hang"), WorkerTimeout)
    # the worker lost under `once` was replaced and the item ran again
    assert results == {"a": "A", "b": "B", once: once.upper(), "c": "C", "d": "D"}


def test_an_unreachable_scheduler_is_a_usage_error() -> None:
    assert address_of("dask://10.0.0.1:8786") == "tcp://10.0.0.1:8786"
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler"):
        DaskExecutor("dask://127.0.0.1:9", connect_timeout=2)
    with pytest.raises(ValueError, match="dask://HOST:PORT"):
        executor_for("ray://head:10001", 2)

"""`--executor dask://HOST:PORT` on a real Dask cluster: a scheduler and two single-threaded
worker processes on 127.0.0.1 (`dask scheduler` and `dask worker`, stopped when the
module's tests end). The reports must be the
local executor's byte for byte, and the local pool's guarantees hold: a time limit per
item, a culprit named after its worker died twice, a worker lost mid-run retried."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import distributed
import pytest
from audit_repos import FIXTURE_DEBS, deb_repo

from xenlint.audit.cluster import ClusterError, DaskExecutor, address_of
from xenlint.audit.executor import WorkerCrashed, WorkerTimeout, executor_for


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """`dask scheduler` and two `dask worker` processes (one thread each, each with a
    nanny that replaces it when it dies). They stop with the fixture, and by themselves
    if this process is gone: the scheduler after 10 idle minutes, the workers a minute
    after losing the scheduler. Nothing of Dask runs in this process between tests, so
    that lint may still fork (shards.py)."""
    dask = str(Path(sys.executable).parent / "dask")
    port = _free_port()
    # the workers import this module to run _item, and what it imports
    here = Path(__file__).resolve().parent
    path = os.pathsep.join([str(here), str(here.parent), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "5",
           "PYTHONPATH": path}
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard", "--idle-timeout", "600"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    procs += [subprocess.Popen([dask, "worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1",
                                "--no-dashboard", "--death-timeout", "60",
                                "--memory-limit", "0"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
              for _ in range(2)]
    try:
        with distributed.Client(f"tcp://127.0.0.1:{port}", timeout=60,
                                set_as_default=False) as client:
            client.wait_for_workers(2, timeout=120)
        yield f"dask://127.0.0.1:{port}"
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _cli(*args: str) -> tuple[int, bytes]:
    """`xenlint ARGS` in a child process: a Dask client leaves nothing behind here."""
    res = subprocess.run([sys.executable, "-m", "xenlint", *args], capture_output=True,
                         check=False, timeout=900)
    assert res.returncode in (0, 1, 2), res.stderr.decode()
    return res.returncode, res.stdout


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
        time.sleep(3)  # reading something (the workers are asked 4 times a second)...
        # ...then a segfault in a C library
        os.kill(os.getpid(), signal.SIGKILL)
    if item == "hang":
        time.sleep(600)  # stuck in C: only a restart of its worker stops it
    if item.startswith("once:"):
        marker = Path(item.removeprefix("once:"))
        if not marker.exists():
            marker.write_text("died once")
            time.sleep(3)
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
    assert time.monotonic() - start < 300  # nannies restart the workers it took
    assert isinstance(results.pop("crash"), WorkerCrashed)
    assert isinstance(results.pop("hang"), WorkerTimeout)
    # the worker lost under `once` was replaced and the item ran again
    assert results == {"a": "A", "b": "B", once: once.upper(), "c": "C", "d": "D"}


def test_an_unreachable_scheduler_is_a_usage_error() -> None:
    import threading

    assert address_of("dask://10.0.0.1:8786") == "tcp://10.0.0.1:8786"
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler"):
        DaskExecutor(f"dask://127.0.0.1:{_free_port()}", connect_timeout=2)
    assert threading.active_count() == 1  # nothing left that would keep lint from forking
    with pytest.raises(ValueError, match="dask://HOST:PORT"):
        executor_for("ray://head:10001", 2)

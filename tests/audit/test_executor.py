"""A slow or crashing artifact is recorded as an error and the rest of the audit goes on."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from xenlint.audit.executor import LocalExecutor, WorkerCrashed, WorkerTimeout, executor_for
from xenlint.audit.model import WorkItem
from xenlint.audit.worker import WorkerConfig, analyse
from xenlint.limits import Limits


def _job(item: str) -> str:
    if item == "crash":
        os.kill(os.getpid(), signal.SIGKILL)  # as a segfault in a C library would
    if item == "hang":
        time.sleep(600)  # stuck in C: no Python-level timer can interrupt it
    return item.upper()


def test_crash_and_hang_are_isolated() -> None:
    items = ["a", "crash", "b", "hang", "c", "d"]
    ex = LocalExecutor(2)
    start = time.monotonic()
    try:
        results = dict(ex.run(_job, items, deadline=3))
    finally:
        ex.close()
    assert time.monotonic() - start < 60
    assert isinstance(results.pop("crash"), WorkerCrashed)
    assert isinstance(results.pop("hang"), WorkerTimeout)
    assert results == {"a": "A", "b": "B", "c": "C", "d": "D"}


def test_jobs_default_to_all_cores() -> None:
    assert LocalExecutor().jobs == (os.cpu_count() or 1)
    assert LocalExecutor(3).jobs == 3


def test_unknown_executor_is_a_usage_error() -> None:
    try:
        executor_for("dask://scheduler:8786", 2)
    except ValueError as exc:
        assert "docs/audit.md" in str(exc)
    else:
        raise AssertionError("dask:// accepted without an adapter")


def test_per_artifact_timer_turns_a_blocked_read_into_an_error(tmp_path: Path) -> None:
    fifo = tmp_path / "never-written.deb"
    os.mkfifo(fifo)  # opening it blocks until a writer comes: a read that never ends
    item = WorkItem(str(fifo), str(fifo))
    start = time.monotonic()
    out = analyse(item, WorkerConfig(Limits(), 0.5, None, "salt"))
    assert time.monotonic() - start < 10
    assert out.artifact is not None and out.artifact.error is not None
    assert "took longer than 0.5 s" in out.artifact.error

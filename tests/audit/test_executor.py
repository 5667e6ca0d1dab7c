"""A slow or crashing artifact is recorded as an error and the rest of the audit goes on."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from xenlint.audit import worker
from xenlint.audit.executor import (
    ALONE,
    MAX_BATCH,
    LocalExecutor,
    WorkerCrashed,
    WorkerTimeout,
    batches,
    executor_for,
)
from xenlint.audit.model import WorkItem
from xenlint.audit.worker import WorkerConfig, analyse
from xenlint.limits import Limits


def _job(item: str) -> str:
    if item == "crash":
        os.kill(os.getpid(), signal.SIGKILL)  # as a segfault in a C library would
    if item == "hang":
        time.sleep(600)  # stuck in C: no Python-level timer can interrupt it
    return item.upper()


def _run_isolated(fn: Callable[[str], str], items: list[str], jobs: int,
                  deadline: float) -> dict[str, object]:
    """Run the items; the crash and the hang must be named, every other item's result
    given back. Returns the rest of the results."""
    ex = LocalExecutor(jobs)
    start = time.monotonic()
    try:
        results: dict[str, object] = dict(ex.run(fn, items, deadline=deadline))
    finally:
        ex.close()
    assert time.monotonic() - start < 60
    assert isinstance(results.pop("crash"), WorkerCrashed)
    assert isinstance(results.pop("hang"), WorkerTimeout)
    return results


def test_crash_and_hang_are_isolated() -> None:
    results = _run_isolated(_job, ["a", "crash", "b", "hang", "c", "d"], 2, 3)
    assert results == {"a": "A", "b": "B", "c": "C", "d": "D"}


def _odd(item: str) -> str:
    if item == "odd":
        raise ValueError("odd input")
    return _job(item)


def test_a_crash_or_hang_inside_a_batch_costs_only_its_own_item() -> None:
    # 40 items on one worker: the crash and the hang share their batch with healthy
    # items, which must still get their results
    items = [f"i{n}" for n in range(40)]
    items[7], items[23], items[31] = "crash", "hang", "odd"
    assert all(len(b) > 1 for b in batches([1] * 40, 1) if 7 in b or 23 in b)
    results = _run_isolated(_odd, items, 1, 1)
    assert isinstance(results.pop("odd"), ValueError)
    assert results == {i: i.upper() for i in items if i not in ("crash", "hang", "odd")}


def test_batches_shrink_towards_the_end() -> None:
    costs = [10_000, ALONE, *([50] * 100), *([1] * 40)]
    got = batches(costs, 2)
    assert [i for b in got for i in b] == list(range(len(costs)))  # each once, in order
    # the share starts at a quarter of a worker's half: 15_040 // 8 = 1880, so the big
    # item and the tree go alone; then 5_040 // 8 = 630, 13 items of 50
    assert got[0] == (0,) and got[1] == (1,)
    sizes = [len(b) for b in got[2:] if all(costs[i] == 50 for i in b)]
    assert sizes[0] == 13 and sizes == sorted(sizes, reverse=True) and sizes[-1] == 1
    assert len(batches([1] * 1000, 1)[0]) == MAX_BATCH
    assert len(got[-1]) == 1  # the last items go one by one: the workers end together
    assert batches([], 2) == []


def test_jobs_default_to_all_cores() -> None:
    assert LocalExecutor().jobs == (os.cpu_count() or 1)
    assert LocalExecutor(3).jobs == 3


def test_unknown_executor_is_a_usage_error() -> None:
    with pytest.raises(ValueError, match="dask://HOST:PORT"):
        executor_for("ray://head:10001", 2)


def test_per_artifact_timer_turns_a_blocked_read_into_an_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deb = tmp_path / "slow.deb"
    deb.write_bytes(b"!<arch>\n")

    def blocked(_fd: int) -> str:
        time.sleep(30)  # a read that does not end (a stalled network file system)
        return ""

    monkeypatch.setattr(worker, "_hash", blocked)
    start = time.monotonic()
    out = analyse(WorkItem(str(deb), str(deb)), WorkerConfig(Limits(), 0.5, None, "salt"))
    assert time.monotonic() - start < 10
    assert out.artifact is not None and out.artifact.error is not None
    assert "took longer than 0.5 s" in out.artifact.error


def test_a_fifo_is_diagnosed_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "never-written.deb"
    os.mkfifo(fifo)  # opening it for reading would block until a writer comes
    start = time.monotonic()
    out = analyse(WorkItem(str(fifo), str(fifo)), WorkerConfig(Limits(), 0, None, "salt"))
    assert time.monotonic() - start < 10
    assert out.artifact is not None
    assert out.artifact.error == "is a FIFO, not a regular file; not read"

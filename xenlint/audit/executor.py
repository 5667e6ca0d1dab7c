"""Where work items run: a small protocol, and a local process pool behind it.

An executor takes a picklable function and items, and yields (item, result or exception)
as they finish. `LocalExecutor` wraps `concurrent.futures.ProcessPoolExecutor` and adds only
what a pool lacks for hostile inputs: a hard per-item deadline and recovery when a worker
dies. A cluster engine (Dask, Ray) plugs in as another class with the same `run`; see
docs/audit.md. Nothing here schedules work itself: ordering and placement are the pool's.
"""

from __future__ import annotations

import importlib
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, TypeVar

QUEUED_PER_WORKER = 4

T = TypeVar("T")
R = TypeVar("R")


class WorkerCrashed(Exception):
    """The worker process died while handling this item (a crash in a C library)."""


class WorkerTimeout(Exception):
    """The item outlived its hard deadline and its worker was killed."""


class Executor(Protocol):
    jobs: int

    def run(self, fn: Callable[[T], R], items: Sequence[T], *,
            deadline: float = 0) -> Iterator[tuple[T, R | BaseException]]:
        """Run fn on every item; yield each item with its result or exception, as they end.
        `deadline` (seconds, 0 = none) is the hard limit after which an item is abandoned."""
        ...

    def close(self) -> None: ...


def _init_worker() -> None:
    # Facts register the member contents they capture at import time: a spawned worker
    # must know them exactly as `check` does, or its views would differ.
    importlib.import_module("xenlint.facts")


class LocalExecutor:
    """A process pool on this machine (`--executor local`, the default)."""

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def _fresh_pool(self) -> ProcessPoolExecutor:
        self._kill()
        self._pool = ProcessPoolExecutor(self.jobs, initializer=_init_worker)
        return self._pool

    def _kill(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # ProcessPoolExecutor cannot cancel a running task (3.14 adds terminate_workers);
        # a stuck or crashed worker is killed through its process table.
        for proc in list(getattr(pool, "_processes", {}).values()):
            if proc.is_alive():
                proc.kill()
        pool.shutdown(wait=True, cancel_futures=True)

    def run(self, fn: Callable[[T], R], items: Sequence[T], *,
            deadline: float = 0) -> Iterator[tuple[T, R | BaseException]]:
        pending: deque[int] = deque(range(len(items)))
        # items that were in the pool when a worker died: retried one at a time, so the
        # culprit is found and the others still get their result
        suspects: deque[int] = deque()
        suspected: set[int] = set()
        # future -> [item index, when a worker took it (None while queued)]
        inflight: dict[Future[R], list[Any]] = {}
        pool = self._pool or self._fresh_pool()
        try:
            while pending or suspects or inflight:
                self._fill(pool, fn, items, pending, suspects, inflight)
                done, _ = wait(list(inflight), timeout=0.25, return_when=FIRST_COMPLETED)
                broken = False
                for fut in done:
                    try:
                        result = fut.result()
                    except BrokenProcessPool:
                        broken = True  # handled with the others below
                        continue
                    except Exception as exc:
                        yield items[inflight.pop(fut)[0]], exc
                        continue
                    yield items[inflight.pop(fut)[0]], result
                now = time.monotonic()
                for fut, slot in inflight.items():
                    if slot[1] is None and fut.running():
                        slot[1] = now
                overdue = [f for f, (_i, t0) in inflight.items()
                           if deadline and t0 is not None and now - t0 > deadline]
                for fut in overdue:
                    idx = inflight.pop(fut)[0]
                    yield items[idx], WorkerTimeout(f"still running after {deadline:g} s")
                if broken or overdue:
                    for idx, _t0 in inflight.values():
                        if not broken:  # we killed the pool for a stuck item: no suspicion
                            pending.appendleft(idx)
                        elif idx in suspected:
                            yield items[idx], WorkerCrashed("the worker process died")
                        else:
                            suspected.add(idx)
                            suspects.append(idx)
                    inflight.clear()
                    pool = self._fresh_pool()
        finally:
            if inflight:
                self._kill()

    def _fill(self, pool: ProcessPoolExecutor, fn: Callable[[T], R], items: Sequence[T],
              pending: deque[int], suspects: deque[int],
              inflight: dict[Future[R], list[Any]]) -> None:
        # a few items queued per worker hide the round trip between two items
        while len(inflight) < self.jobs * QUEUED_PER_WORKER:
            if suspects:
                if inflight:
                    return
                idx = suspects.popleft()
                inflight[pool.submit(fn, items[idx])] = [idx, None]
                return
            if not pending:
                return
            idx = pending.popleft()
            inflight[pool.submit(fn, items[idx])] = [idx, None]

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)


def executor_for(spec: str, jobs: int | None) -> Executor:
    """`local`, or a cluster URL such as `dask://HOST:PORT` (see docs/audit.md)."""
    scheme = spec.split("://", 1)[0] if "://" in spec else spec
    if scheme == "local":
        return LocalExecutor(jobs)
    raise ValueError(f"executor {spec!r} is not available in this build; "
                     "`local` is (docs/audit.md explains how to add dask:// or ray://)")

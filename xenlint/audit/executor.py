"""Where work items run: a small protocol, and a local process pool behind it.

An executor takes a picklable function and items, and yields (item, result or exception)
as they finish. `LocalExecutor` wraps `concurrent.futures.ProcessPoolExecutor` and adds only
what a pool lacks: batches of small items (one message per batch, not per file), a hard
per-item deadline and recovery when a worker dies. A Dask cluster is another class with
the same `run` (cluster.py). Which worker runs a batch, and when,
is the pool's business: nothing here schedules work.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import importlib
import os
import pickle
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

# Items travel in batches: one future, one pickle and one result message per batch instead
# of per item, which is most of what the main process spends on an audit of small packages.
# A batch takes 1/SHARE_DIVISOR of a worker's share of what is left, so batches shrink
# towards the end and the workers finish together (guided self-scheduling).
SHARE_DIVISOR = 4
MAX_BATCH = 16
# batches queued per worker hide the round trip between two batches
QUEUED_PER_WORKER = 2
# the cost of an item that must be a batch by itself, whatever the others cost
ALONE = -1

T = TypeVar("T")
R = TypeVar("R")


class WorkerCrashed(Exception):
    """The worker process died while handling this item (a crash in a C library)."""


class WorkerTimeout(Exception):
    """The item outlived its hard deadline and its worker was killed."""


class Executor(Protocol):
    jobs: int

    def run(self, fn: Callable[[T], R], items: Sequence[T], *, deadline: float = 0,
            costs: Sequence[int] | None = None) -> Iterator[tuple[T, R | BaseException]]:
        """Run fn on every item; yield each item with its result or exception, as they end.
        `deadline` (seconds, 0 = none) is the hard limit after which an item is abandoned.
        `costs` (file sizes, say) may guide how items are grouped; an engine may ignore it."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Submitter(Protocol):
    """What an executor may add: run one call now and return its future, so that work
    needing no rule (parsing repository indexes) overlaps the main process's own."""

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]: ...

    def abandon(self) -> None:
        """Stop at once, running work included (the audit failed before it needed it)."""
        ...


# prctl(2): deliver a signal to this process when its parent dies
PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Make a worker end when the process that started it does, even by SIGKILL.

    On Linux the kernel sends SIGKILL at the parent's death (PR_SET_PDEATHSIG); elsewhere
    a daemon thread watches the parent's pid. Signals meant for the parent are not the
    worker's: the terminal sends Ctrl-C to the whole process group, and the parent alone
    decides to stop (it kills its workers); SIGTERM gets its default action again, not the
    handler a forked worker inherits."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
        if armed:
            if os.getppid() != parent:  # it died before prctl took effect
                os._exit(1)
            return
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _init_worker(parent: int) -> None:
    die_with_parent(parent)
    # A forked worker inherits the parent's paused collector (see paused_gc); it makes and
    # drops artifacts with cycles (parents and children) and must collect them.
    gc.enable()
    # Facts register the member contents they capture at import time: a spawned worker
    # must know them exactly as `check` does, or its views would differ.
    importlib.import_module("xenlint.facts")


@contextmanager
def paused_gc() -> Iterator[None]:
    """No garbage collection, and what exists frozen (before workers fork), until the end.

    For work that builds many objects and drops few cycles: the main process of an audit,
    which receives views and index parses and lints them, and a worker parsing an index.
    A collection would walk every object held, again and again as they pile up
    (several times the cost of the work itself; bench/RESULTS.md),
    and its writes to object headers would copy the pages forked workers share (the
    pattern the `gc.freeze` documentation gives). Cycles made meanwhile are collected
    when it ends."""
    was_enabled = gc.isenabled()
    # unfreeze() releases every frozen object: only when nobody had frozen any before us
    was_frozen = gc.get_freeze_count() > 0
    gc.disable()
    gc.freeze()
    try:
        yield
    finally:
        if not was_frozen:
            gc.unfreeze()
        if was_enabled:
            gc.enable()


def _without_gc(fn: Callable[..., R], *args: Any) -> R:
    """A submitted call (an index parse: tens of thousands of entries) runs unpaused by
    collections, in the worker too."""
    with paused_gc():
        return fn(*args)


def _portable(exc: Exception) -> BaseException:
    """The exception itself if it survives pickling, else its text: one item's odd
    exception must not turn its whole batch into a failure."""
    try:
        pickle.dumps(exc)
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _run_batch(fn: Callable[[T], R], batch: Sequence[T]) -> list[R | BaseException]:
    out: list[R | BaseException] = []
    for item in batch:
        try:
            out.append(fn(item))
        except Exception as exc:
            out.append(_portable(exc))
    return out


def batches(costs: Sequence[int], jobs: int) -> list[tuple[int, ...]]:
    """Consecutive item indices grouped into batches that shrink as the work left does;
    an item that costs a batch's share or more goes alone, and so does one that costs
    ALONE."""
    left = sum(c for c in costs if c > 0)
    out: list[tuple[int, ...]] = []
    current: list[int] = []
    spent = 0
    share = max(1, left // (jobs * SHARE_DIVISOR))
    for idx, cost in enumerate(costs):
        if cost == ALONE:
            out.append((idx,))
            continue
        current.append(idx)
        spent += max(cost, 0)
        if spent >= share or len(current) >= MAX_BATCH:
            out.append(tuple(current))
            left -= spent
            current, spent = [], 0
            share = max(1, left // (jobs * SHARE_DIVISOR))
    if current:
        out.append(tuple(current))
    return out


class _Flight(Generic[T, R]):
    """The bookkeeping of one `run`: what waits, what is in the pool, what is suspected.

    An item that was in the pool when a worker died or hung is a suspect: it is retried
    alone, first in an empty pool, so that what happens next is its own doing. A suspect
    that crashes a worker again is the culprit; one that outlives the deadline alone times
    out. Every other item still gets its result."""

    def __init__(self, fn: Callable[[T], R], items: Sequence[T],
                 batched: list[tuple[int, ...]], cap: int) -> None:
        self.fn, self.items, self.cap = fn, items, cap
        self.pending: deque[tuple[int, ...]] = deque(batched)
        self.suspects: deque[int] = deque()
        self.crash_suspects: set[int] = set()
        # future -> [item indices, when a worker took the batch (None while queued),
        #            whether it went first into an empty pool (its clock is then its own)]
        self.inflight: dict[Future[list[R | BaseException]], list[Any]] = {}

    def busy(self) -> bool:
        return bool(self.pending or self.suspects or self.inflight)

    def fill(self, pool: ProcessPoolExecutor) -> None:
        while len(self.inflight) < self.cap:
            if self.suspects:
                if not self.inflight:
                    self._submit(pool, (self.suspects.popleft(),), alone=True)
                return
            if not self.pending:
                return
            self._submit(pool, self.pending.popleft(), alone=False)

    def _submit(self, pool: ProcessPoolExecutor, batch: tuple[int, ...], alone: bool) -> None:
        fut = pool.submit(_run_batch, self.fn, [self.items[i] for i in batch])
        self.inflight[fut] = [batch, None, alone]

    def collect(self, done: set[Future[list[R | BaseException]]]
                ) -> Iterator[tuple[T, R | BaseException] | None]:
        """Results of finished batches; None once for a broken pool."""
        for fut in done:
            try:
                results: list[R | BaseException] = fut.result()
            except BrokenProcessPool:
                yield None
                continue
            except Exception as exc:
                results = [exc] * len(self.inflight[fut][0])
            for idx, result in zip(self.inflight.pop(fut)[0], results, strict=True):
                yield self.items[idx], result

    def overdue(self, deadline: float) -> list[tuple[T, R | BaseException]] | None:
        """None while no batch is past its deadline, else the items that timed out, and the
        pool must go. A whole batch gets one item's deadline: batches hold only small files,
        and a batch that is merely slow loses nothing, since its items are retried alone
        (where the deadline is each one's own), while a stuck one is found after one
        deadline, not after one per item of its batch."""
        now = time.monotonic()
        for fut, slot in self.inflight.items():
            if slot[1] is None and fut.running():
                slot[1] = now
        late = [f for f, (batch, t0, _a) in self.inflight.items()
                if deadline and t0 is not None and now - t0 > deadline]
        if not late:
            return None
        timeouts: list[tuple[T, R | BaseException]] = []
        for fut in late:
            batch, _t0, alone = self.inflight.pop(fut)
            if alone:
                timeouts.append((self.items[batch[0]],
                                 WorkerTimeout(f"still running after {deadline:g} s")))
            else:  # queued behind a stuck item, or sharing its batch: not proven guilty
                self.suspects.extend(batch)
        return timeouts

    def requeue(self, crashed: bool) -> Iterator[tuple[T, R | BaseException]]:
        """Everything in a pool about to be replaced goes back in line."""
        for batch, _t0, _alone in self.inflight.values():
            if not crashed:  # we killed the pool for a stuck item: no suspicion
                self.pending.appendleft(batch)
                continue
            for idx in batch:
                if idx in self.crash_suspects:
                    yield self.items[idx], WorkerCrashed("the worker process died")
                else:
                    self.crash_suspects.add(idx)
                    self.suspects.append(idx)
        self.inflight.clear()


class LocalExecutor:
    """A process pool on this machine (`--executor local`, the default)."""

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def _fresh_pool(self) -> ProcessPoolExecutor:
        self._kill()
        self._pool = ProcessPoolExecutor(self.jobs, initializer=_init_worker,
                                         initargs=(os.getpid(),))
        return self._pool

    def _live_pool(self) -> ProcessPoolExecutor:
        # a pool whose worker died under a submitted call refuses all work
        if self._pool is None or getattr(self._pool, "_broken", False):
            return self._fresh_pool()
        return self._pool

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        with paused_gc():  # the workers fork at the first submit
            return self._live_pool().submit(_without_gc, fn, *args)

    def abandon(self) -> None:
        self._kill()

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

    def run(self, fn: Callable[[T], R], items: Sequence[T], *, deadline: float = 0,
            costs: Sequence[int] | None = None) -> Iterator[tuple[T, R | BaseException]]:
        weights = costs if costs is not None else [1] * len(items)
        flight = _Flight(fn, items, batches(weights, self.jobs), self.jobs * QUEUED_PER_WORKER)
        with paused_gc():
            yield from self._drive(flight, deadline)

    def _drive(self, flight: _Flight[T, R], deadline: float
               ) -> Iterator[tuple[T, R | BaseException]]:
        pool = self._live_pool()
        try:
            while flight.busy():
                flight.fill(pool)
                done, _ = wait(list(flight.inflight), timeout=0.25,
                               return_when=FIRST_COMPLETED)
                broken = False
                for out in flight.collect(done):
                    if out is None:
                        broken = True  # handled with the rest of the pool below
                    else:
                        yield out
                late = flight.overdue(deadline)
                if late is not None:
                    yield from late
                if broken or late is not None:
                    yield from flight.requeue(crashed=broken)
                    pool = self._fresh_pool()
        finally:
            if flight.inflight:
                self._kill()

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)


def executor_for(spec: str, jobs: int | None) -> Executor:
    """`local`, or a Dask scheduler's address: `dask://HOST:PORT` (docs/audit.md)."""
    scheme = spec.split("://", 1)[0] if "://" in spec else spec
    if scheme == "local":
        return LocalExecutor(jobs)
    if scheme == "dask":
        from xenlint.audit.cluster import DaskExecutor  # only a cluster run needs it

        return DaskExecutor(spec, jobs)
    raise ValueError(f"executor {spec!r} is not known: use `local` or `dask://HOST:PORT`")

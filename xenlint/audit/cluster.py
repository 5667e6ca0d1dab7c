"""`--executor dask://HOST:PORT`: the audit's work items on an existing Dask cluster.

The scheduler places and retries the work; this class only adds what the local pool
guarantees beyond that (executor.py):

- a per-item time limit: an item processing longer than the deadline gets a
  `WorkerTimeout` and the worker stuck with it is restarted through its nanny
  (`Client.restart_workers`); a task thread cannot be interrupted any other way;
- a crash: when a worker dies, the scheduler runs what it held again elsewhere (a worker
  lost mid-run costs nothing but time); an item that was running on a worker when it died
  twice is the culprit and gets a `WorkerCrashed`, as is one the scheduler itself gives up
  on (`KilledWorker`).

Which items run where is asked of the workers (`Client.run`) while the audit waits; a
worker that dies within one poll of taking an item is left to the scheduler's own limit
(`distributed.scheduler.allowed-failures`). With several threads per worker every item
running on a dying worker counts as suspect, so workers meant for hostile input run one
thread each.
Workers must see the audited paths, and the cache when there is one, at the same paths
as this process (shared storage).
"""

from __future__ import annotations

import socket
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from xenlint.audit.executor import WorkerCrashed, WorkerTimeout

T = TypeVar("T")
R = TypeVar("R")

# how often the scheduler is asked which items run where while results are awaited
POLL_SECONDS = 0.25
# seconds to reach the scheduler before the audit gives up on the cluster
CONNECT_TIMEOUT = 30
# a worker that died while running an item this many times names the item the culprit
DEATHS = 2


class ClusterError(ValueError):
    """The cluster cannot be used (no scheduler at the address, `distributed` missing)."""


def address_of(spec: str) -> str:
    """`dask://HOST:PORT` -> `tcp://HOST:PORT` (a `tls://` or `tcp://` spec is kept)."""
    scheme, _, rest = spec.partition("://")
    if scheme == "dask":
        return f"tcp://{rest}"
    return spec


def _call(fn: Callable[[T], R], item: T) -> R | BaseException:
    """One item on a worker: its exception comes back as a value, as the local pool's
    batches give it, so that the scheduler does not take it for a failure to retry."""
    from xenlint.audit.executor import _portable  # same pickling rules as the local pool

    try:
        return fn(item)
    except Exception as exc:
        return _portable(exc)


def executing_keys(dask_worker: Any) -> list[str]:
    """Run on each worker: the keys of the tasks its threads execute now (the scheduler's
    `processing` also counts those waiting there for a thread)."""
    return [str(ts.key) for ts in dask_worker.state.executing]


def _first_done(futures: list[Any]) -> list[Any]:
    """The futures done within POLL_SECONDS (at most one per worker thread is in flight:
    asking each is cheaper than a round trip to the scheduler)."""
    end = time.monotonic() + POLL_SECONDS
    while True:
        done = [f for f in futures if f.done()]
        if done or time.monotonic() >= end:
            return done
        time.sleep(0.01)


class DaskExecutor:
    """An `Executor` (and `Submitter`) over a `distributed.Client`."""

    def __init__(self, spec: str, jobs: int | None = None,
                 connect_timeout: float = CONNECT_TIMEOUT) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ClusterError("the dask executor needs `distributed`: "
                               "pip install 'xenlint[dask]'") from None
        address = address_of(spec)
        try:
            # a Client that fails to connect leaves its event-loop thread running, which
            # would keep lint from forking (shards.py): try the port alone first
            host, _, port = address.partition("://")[2].rpartition(":")
            socket.create_connection((host.strip("[]"), int(port)), connect_timeout).close()
            self._client = Client(address, timeout=connect_timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {spec}: {exc}") from None
        threads = sum(self._client.nthreads().values())
        self.jobs = max(1, jobs or threads or 1)

    # --- Submitter: index parses ahead of the rules --------------------------------------

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        """Run fn(*args) on the cluster. A worker lost under it surfaces as the local
        pool's BrokenProcessPool once the scheduler gives up on the call (KilledWorker),
        so the audit retries it alone and then names the index, as it does locally."""
        from distributed import KilledWorker

        out: Future[R] = Future()
        dask_future = self._client.submit(fn, *args, pure=False)

        def settle(done: Any) -> None:
            try:
                out.set_result(done.result())
            except KilledWorker:
                out.set_exception(BrokenProcessPool("a Dask worker died running it"))
            except BaseException as exc:  # the caller's to see, as a local future's
                out.set_exception(exc)

        dask_future.add_done_callback(settle)
        return out

    def abandon(self) -> None:
        self.close()

    # --- Executor -------------------------------------------------------------------------

    def run(self, fn: Callable[[T], R], items: Sequence[T], *, deadline: float = 0,
            costs: Sequence[int] | None = None) -> Iterator[tuple[T, R | BaseException]]:
        """One task per item, at most one per worker thread at a time, so that what the
        scheduler says a worker is processing is what it runs (`costs` is not needed:
        the scheduler balances the tasks)."""
        from distributed import KilledWorker

        client = self._client
        pending = deque(range(len(items)))
        futures: dict[Any, int] = {}
        by_key: dict[Any, Any] = {}
        started: dict[str, float] = {}  # key -> when the scheduler first had it running
        running_on: dict[str, str] = {}  # key -> worker address, as last seen
        deaths: dict[str, int] = {}
        try:
            while pending or futures:
                while pending and len(futures) < self.jobs:
                    idx = pending.popleft()
                    fut = client.submit(_call, fn, items[idx], pure=False)
                    futures[fut] = idx
                    by_key[fut.key] = fut
                done = _first_done(list(futures))
                for fut in done:
                    idx = futures.pop(fut)
                    try:
                        result: R | BaseException = fut.result()
                    except KilledWorker:  # the scheduler's own limit on worker deaths
                        result = WorkerCrashed("the worker process died")
                    except Exception as exc:  # the task could not even start (pickling)
                        result = exc
                    yield items[idx], result
                given_up, stuck_on = self._watch(futures, started, running_on, deaths,
                                                 deadline)
                gone = [by_key[key] for key, _culprit in given_up]
                if gone:
                    # cancelled before any restart: a worker that leaves hands what it
                    # holds back to the scheduler, which would start the stuck item on
                    # another worker and tie that one up in turn
                    client.cancel(gone)
                for worker in stuck_on:
                    self._restart(worker)
                for key, culprit in given_up:
                    yield items[futures.pop(by_key[key])], culprit
        finally:
            if futures:
                client.cancel(list(futures))

    def _watch(self, futures: dict[Any, int], started: dict[str, float],
               running_on: dict[str, str], deaths: dict[str, int],
               deadline: float) -> tuple[list[tuple[str, BaseException]], list[str]]:
        """Items to give up on now: those past the deadline and those whose worker died
        under them twice; and the workers stuck with the former, to restart."""
        now = time.monotonic()
        try:
            executing = self._client.run(executing_keys, on_error="ignore")
        except OSError:  # a worker went away while asked: ask again at the next poll
            return [], []
        alive = set(executing)
        live = {f.key for f in futures}
        seen: dict[str, str] = {key: worker for worker, keys in executing.items()
                                for key in keys if key in live}
        out: list[tuple[str, BaseException]] = []
        for key, worker in list(running_on.items()):
            if key not in live:
                del running_on[key]
            elif worker not in alive:  # its worker is gone: the scheduler reruns it
                deaths[key] = deaths.get(key, 0) + 1
                del running_on[key]
                started.pop(key, None)
                if deaths[key] >= DEATHS:
                    out.append((key, WorkerCrashed("the worker process died")))
        for key, worker in seen.items():
            if running_on.get(key) != worker:
                started[key] = now
            running_on[key] = worker
        stuck = [key for key, t0 in started.items() if key in live and deadline
                 and now - t0 > deadline and all(k != key for k, _e in out)]
        restart: list[str] = []
        for key in stuck:
            out.append((key, WorkerTimeout(f"still running after {deadline:g} s")))
            started.pop(key, None)
            if key in running_on:
                restart.append(running_on.pop(key))
        return out, restart

    def _restart(self, worker: str) -> None:
        """A thread stuck in C cannot be stopped: its worker is restarted by its nanny."""
        try:
            self._client.restart_workers([worker], timeout=CONNECT_TIMEOUT)
        except Exception:  # no nanny: the worker keeps its thread
            return

    def close(self) -> None:
        client = getattr(self, "_client", None)
        if client is not None:
            self._client.close()

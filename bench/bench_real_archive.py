"""Benchmark (not a test): `xenlint audit` on a real Debian archive, with wall time and the
peak RSS of every process of the run.

    python bench/bench_real_archive.py ARCHIVE [--jobs 1,2] [--dask] [--cached] [--keep DIR]

ARCHIVE is what `build-archive.sh` makes (Debian bookworm main, amd64 and arm64 Packages
and Contents as the mirror serves them, the Xen-related packages in pool/). Each figure is
one run of `xenlint audit ARCHIVE --format json`: `--no-cache` for the first runs, then
(`--cached`) a run that fills a fresh cache, one that re-uses it, and one that re-uses it
after the run memo (`runs/`) is removed. `--dask` also runs the
audit on a local Dask cluster of 2 single-threaded worker processes (`dask scheduler` and
`dask worker`, started and stopped here).

Peak RSS is sampled every 50 ms over the process tree (psutil), so a process that lives
less than that, or a peak between two samples, can be missed; the main process's own peak
also comes from `ru_maxrss`, which misses nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
from _env import xenlint_env, xenlint_python

MB = 1024 * 1024


def _sample(proc: subprocess.Popen[bytes], peaks: dict[int, tuple[str, int]]) -> None:
    try:
        root = psutil.Process(proc.pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for p in tree:
        with contextlib.suppress(psutil.Error):
            rss = p.memory_info().rss
            name = " ".join(p.cmdline()[1:4])[:60]
            if rss > peaks.get(p.pid, ("", 0))[1]:
                peaks[p.pid] = (name, rss)


def run(cmd: list[str], env: dict[str, str], out: Path) -> tuple[float, float, int,
                                                                    dict[int, tuple[str, int]]]:
    """(wall s, cpu s of the process tree, main ru_maxrss bytes, pid -> (what, peak rss))."""
    peaks: dict[int, tuple[str, int]] = {}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with out.open("wb") as f:
        proc = subprocess.Popen(cmd, env=env, stdout=f, stderr=subprocess.PIPE)
        while proc.poll() is None:
            _sample(proc, peaks)
            time.sleep(0.05)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0, 1, 2):  # 2: some artifact unreadable (missing pool files)
        sys.exit(f"{' '.join(cmd)} exited {proc.returncode}:\n{err}")
    return wall, cpu, after.ru_maxrss * 1024, peaks


def report(label: str, cmd: list[str], result: tuple[float, float, int,
                                                      dict[int, tuple[str, int]]],
           out: Path) -> None:
    wall, cpu, _maxrss, peaks = result
    digest = hashlib.sha256(out.read_bytes()).hexdigest()[:12]
    print(f"{label}: wall {wall:.1f} s, cpu {cpu:.1f} s (children), report sha256 {digest}")
    print(f"  $ {' '.join(cmd)}")
    for pid, (what, rss) in sorted(peaks.items(), key=lambda kv: -kv[1][1]):
        print(f"  peak rss {rss / MB:7.0f} MB  pid {pid}  {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def dask_cluster(workers: int) -> Iterator[str]:
    """A scheduler and `workers` single-threaded worker processes on 127.0.0.1."""
    port = free_port()
    addr = f"127.0.0.1:{port}"
    bindir = Path(sys.executable).parent
    dask = str(bindir / "dask") if (bindir / "dask").exists() else "dask"
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], stderr=subprocess.DEVNULL)]
    time.sleep(2)
    procs += [subprocess.Popen([dask, "worker", addr, "--nthreads", "1", "--nworkers", "1",
                                "--no-dashboard", "--memory-limit", "0"],
                               env=xenlint_env(), stderr=subprocess.DEVNULL)
              for _ in range(workers)]
    time.sleep(4)
    try:
        yield f"dask://{addr}"
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("archive", type=Path)
    ap.add_argument("--jobs", default="1,2")
    ap.add_argument("--dask", action="store_true")
    ap.add_argument("--cached", action="store_true")
    ap.add_argument("--keep", type=Path, help="copy the JSON reports into this directory")
    args = ap.parse_args()
    env = xenlint_env()
    python = xenlint_python()
    tmp = Path(tempfile.mkdtemp(prefix="xenlint-real-archive-"))
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    base = [python, "-m", "xenlint", "audit", str(args.archive), "--format", "json",
            "--no-summary"]
    try:
        for j in (int(x) for x in args.jobs.split(",") if x):
            cmd = [*base, "--no-cache", "-j", str(j)]
            out = tmp / f"j{j}.json"
            report(f"-j{j} no cache", cmd, run(cmd, env, out), out)
        if args.cached:
            cache = tmp / "cache"
            cmd = [*base, "-j", "2", "--cache-dir", str(cache)]
            out = tmp / "fill.json"
            report("-j2 filling a fresh cache", cmd, run(cmd, env, out), out)
            out = tmp / "cached.json"
            report("-j2 cached re-run", cmd, run(cmd, env, out), out)
            # without the run memo: the index parse and the package sets' reports (or
            # views) come from their own layers of the cache
            shutil.rmtree(cache / "runs")
            out = tmp / "cached-no-memo.json"
            report("-j2 cached re-run, run memo removed", cmd, run(cmd, env, out), out)
        if args.dask:
            with dask_cluster(2) as url:
                cmd = [*base, "--no-cache", "--executor", url]
                out = tmp / "dask.json"
                report("dask, 2 workers, no cache", cmd, run(cmd, env, out), out)
    finally:
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            for report_file in tmp.glob("*.json"):
                shutil.copy(report_file, args.keep / report_file.name)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

"""`xenlint check` on a kernel .deb against `dpkg-deb --fsys-tarfile > /dev/null`, the floor
for reading the same package: wall time and CPU time (user + system, children included),
interleaved runs, best and median of each.

The goal (issue "archive scale"): within 1.3x dpkg-deb's wall time on 2 cores, CPU within 1.2x.

    .venv/bin/python bench/bench_kernel_deb.py [--deb PATH] [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _env import xenlint_env, xenlint_python

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DEB = (REPO.parent / "shared" / "corpus" / "deb"
               / "linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.deb")


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, cpu) seconds of one run of `cmd`, its output thrown away."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        proc = subprocess.Popen(cmd, stdout=devnull, stderr=devnull, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # 1: findings, which a kernel checked alone has
        sys.exit(f"{cmd[0]} exited {code}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deb", type=Path, default=DEFAULT_DEB)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    env = xenlint_env()
    commands = {
        "dpkg-deb": ["dpkg-deb", "--fsys-tarfile", str(args.deb)],
        "xenlint": [xenlint_python(), "-m", "xenlint", "check", str(args.deb)],
    }
    results: dict[str, list[tuple[float, float]]] = {k: [] for k in commands}
    for cmd in commands.values():  # warm the page cache and the byte-code
        timed(cmd, env)
    for _ in range(args.repeat):
        for name, cmd in commands.items():
            results[name].append(timed(cmd, env))
    print(f"{args.deb.name}, {args.repeat} interleaved runs, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}")
    for name, runs in results.items():
        walls = [w for w, _ in runs]
        cpus = [c for _, c in runs]
        print(f"  {name:9} wall best {min(walls):.3f} s median {statistics.median(walls):.3f} s"
              f" | cpu best {min(cpus):.3f} s median {statistics.median(cpus):.3f} s")
    for label, pick in (("best", min), ("median", statistics.median)):
        wall = (pick([w for w, _ in results["xenlint"]])
                / pick([w for w, _ in results["dpkg-deb"]]))
        cpu = (pick([c for _, c in results["xenlint"]])
               / pick([c for _, c in results["dpkg-deb"]]))
        print(f"  {label:6}: wall {wall:.2f}x (goal 1.3x: {'met' if wall <= 1.3 else 'NOT met'})"
              f", cpu {cpu:.2f}x (goal 1.2x: {'met' if cpu <= 1.2 else 'NOT met'})")


if __name__ == "__main__":
    main()

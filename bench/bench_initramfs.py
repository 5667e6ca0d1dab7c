#!/usr/bin/env python3
"""Benchmark: the largest corpus initramfs read by xenlint vs `lsinitramfs`.

Each side runs in its own subprocess, several times; wall time is the best of the runs
and peak memory is the child's maximum resident set size (getrusage RUSAGE_CHILDREN,
which covers lsinitramfs's whole pipeline of cpio and decompressor children too).

    python3 bench/bench_initramfs.py [--runs N] [--corpus DIR] [IMAGE]

Goal (issue 3): faster than lsinitramfs, xenlint's peak under 150 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from _env import xenlint_env, xenlint_python

REPO = Path(__file__).resolve().parent.parent
ENV = xenlint_env()
PYTHON = xenlint_python()  # an installed xenlint's start-up (_env.py)
PEAK_GOAL_MB = 150.0

# Read the image in a fresh interpreter, exactly as `xenlint inspect` would.
XENLINT_CHILD = (
    "import sys; from xenlint.readers import read_path; "
    "[a] = read_path(sys.argv[1]); "
    "assert a.error is None, a.error; "
    "print(len(a.entries), a.initramfs.segments[-1].compression)"
)


def measure(cmd: list[str], runs: int) -> tuple[float, float, float, str]:
    """(best wall s, best CPU s, peak RSS MB, output summary) of `cmd` in a subprocess."""
    best = float("inf")
    cpu = float("inf")
    peak = 0.0
    out = ""
    for _ in range(runs):
        # a fresh process per run: RUSAGE_CHILDREN's maxrss is the max over waited children
        probe = [PYTHON, "-c", (
            "import resource, subprocess, sys, time; "
            "t = time.perf_counter(); "
            "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
            "dt = time.perf_counter() - t; "
            "assert p.returncode == 0, p.stderr[-500:]; "
            "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "lines = p.stdout.strip().splitlines(); "
            "print(dt, u.ru_utime + u.ru_stime, u.ru_maxrss, len(lines), "
            "lines[-1] if lines else '')"
        ), *cmd]
        res = subprocess.run(probe, capture_output=True, text=True, check=True,
                             env=ENV)
        dt, cpu_s, rss_kb, nlines, last = res.stdout.strip().split(" ", 4)
        best = min(best, float(dt))
        cpu = min(cpu, float(cpu_s))
        peak = max(peak, int(rss_kb) / 1024)
        out = f"{nlines} lines, last: {last}"
    return best, cpu, peak, out


def largest_initramfs(corpus: Path) -> Path:
    images = sorted((corpus / "initramfs").glob("initrd.img-*"), key=lambda p: p.stat().st_size)
    if not images:
        raise SystemExit(f"bench: no initramfs images under {corpus / 'initramfs'}")
    return images[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", nargs="?", type=Path)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    image = args.image or largest_initramfs(args.corpus)
    print(f"image: {image} ({image.stat().st_size:,} bytes)")
    rows = [("xenlint", *measure([PYTHON, "-c", XENLINT_CHILD, str(image)], args.runs))]
    if shutil.which("lsinitramfs"):
        rows.append(("lsinitramfs", *measure(["lsinitramfs", str(image)], args.runs)))
    else:
        print("lsinitramfs not installed (initramfs-tools-core): xenlint figures only")
    print(f"{'tool':<12} {'best wall s':>11} {'best CPU s':>10} {'peak RSS MB':>12}  output")
    for name, wall, cpu, peak, out in rows:
        print(f"{name:<12} {wall:>11.2f} {cpu:>10.2f} {peak:>12.1f}  {out}")
    load = os.getloadavg()[0]
    print(f"load average during the run: {load:.2f} on {os.cpu_count()} CPUs "
          "(wall times of a single-threaded reader suffer most from a busy machine)")
    ok = rows[0][3] < PEAK_GOAL_MB
    if len(rows) > 1:
        wall, cpu = rows[0][1] < rows[1][1], rows[0][2] < rows[1][2]
        print(f"faster than lsinitramfs: wall {'yes' if wall else 'no'}, "
              f"CPU {'yes' if cpu else 'no'}")
        ok = ok and wall
    print(f"goal (faster than lsinitramfs, peak < {PEAK_GOAL_MB:.0f} MB): "
          f"{'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

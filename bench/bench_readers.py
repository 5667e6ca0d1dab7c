#!/usr/bin/env python3
"""Benchmark the package readers against the raw floors the Unix tools set. Not a test.

    python bench/bench_readers.py [--corpus DIR] [--repeat N]

(a) `xenlint inspect` on the corpus kernel package vs `dpkg-deb --fsys-tarfile X >/dev/null`
    (goal: at most 1.3x);
(b) RPM file-list facts vs a payload decompression `rpm2cpio X | cpio -t` (goal: at most 0.1x);
(c) peak RSS of `xenlint inspect` on every corpus artifact (goal: under 150 MB each).

Every command runs in a subprocess, best of N. Wall time is time.perf_counter around the
subprocess; CPU time is the growth of resource.getrusage(RUSAGE_CHILDREN) (user + system,
the subprocess and everything it waited for); peak RSS is the child's own ru_maxrss from
os.wait4, since RUSAGE_CHILDREN only keeps the maximum over all children. Ratios are given
for both clocks; CPU is the one to trust on a busy machine. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from _env import xenlint_env, xenlint_python

REPO = Path(__file__).resolve().parent.parent
ENV = xenlint_env()
PYTHON = xenlint_python()  # an installed xenlint's start-up (_env.py)
XENLINT = [PYTHON, "-m", "xenlint"]
GOAL_DEB, GOAL_RPM, GOAL_RSS_MB = 1.3, 0.1, 150.0

# Runs inside a subprocess: times only the reading (not interpreter start-up or imports),
# so (b) compares the cost of the facts themselves with the cost of decompressing.
FACTS_PROBE = """
import json, resource, sys, time
from xenlint.readers import read_path
path = sys.argv[1]
r0 = resource.getrusage(resource.RUSAGE_SELF); t0 = time.perf_counter()
[art] = read_path(path)
facts = (art.files, {p: (e.mode, e.link_target) for p, e in art.entries.items()},
         art.package.depends if art.package else None)
wall = time.perf_counter() - t0; r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
print(json.dumps({"wall": wall, "cpu": cpu, "files": len(facts[0]), "error": art.error}))
"""


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mb: float
    stdout: bytes = b""


def run(cmd: list[str] | str, *, capture: bool = False) -> Sample:
    """One subprocess: wall clock, CPU from RUSAGE_CHILDREN, peak RSS from wait4."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, shell=isinstance(cmd, str), cwd=REPO, env=ENV,
                            stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    out = proc.stdout.read() if capture and proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1, 2):
        raise SystemExit(f"bench: {cmd!r} failed with status {proc.returncode}")
    return Sample(wall, cpu, usage.ru_maxrss / 1024, out)


def best(cmd: list[str] | str, repeat: int, *, capture: bool = False) -> Sample:
    samples = [run(cmd, capture=capture) for _ in range(repeat)]
    return min(samples, key=lambda s: s.cpu)


def verdict(value: float, goal: float) -> str:
    return "ok" if value <= goal else "MISSED"


def bench_deb(corpus: Path, repeat: int) -> None:
    kernels = sorted((corpus / "deb").glob("linux-image-*.deb"), key=lambda p: p.stat().st_size)
    if not kernels:
        print("(a) skipped: no linux-image-*.deb in the corpus")
        return
    deb = kernels[-1]
    floor = best(f"dpkg-deb --fsys-tarfile '{deb}' >/dev/null", repeat)
    ours = best([*XENLINT, "inspect", str(deb)], repeat)
    ours_json = best([*XENLINT, "inspect", "--format", "json", str(deb)], repeat)
    reader = json.loads(best([PYTHON, "-c", FACTS_PROBE, str(deb)], repeat,
                             capture=True).stdout)
    startup = best([PYTHON, "-c", "import xenlint.cli, xenlint.commands.inspect"],
                   repeat)
    print(f"(a) {deb.name} ({deb.stat().st_size / 1e6:.1f} MB)")
    print(f"    floor  dpkg-deb --fsys-tarfile   wall {floor.wall:6.3f} s  cpu {floor.cpu:6.3f} s")
    print(f"    xenlint inspect (text)          wall {ours.wall:6.3f} s  cpu {ours.cpu:6.3f} s"
          f"  rss {ours.rss_mb:5.1f} MB")
    print(f"    xenlint inspect --format json   wall {ours_json.wall:6.3f} s  "
          f"cpu {ours_json.cpu:6.3f} s")
    print(f"    of which: start-up + imports    wall {startup.wall:6.3f} s  "
          f"cpu {startup.cpu:6.3f} s (interpreter + what inspect imports)")
    print(f"              reading (in-process)  wall {reader['wall']:6.3f} s  "
          f"cpu {reader['cpu']:6.3f} s")
    cpu_ratio, wall_ratio = ours.cpu / floor.cpu, ours.wall / floor.wall
    print(f"    ratio inspect/floor: cpu {cpu_ratio:.2f}x, wall {wall_ratio:.2f}x "
          f"(goal <= {GOAL_DEB}x): {verdict(cpu_ratio, GOAL_DEB)}")
    print(f"    ratio reading/floor: cpu {reader['cpu'] / floor.cpu:.2f}x")


def bench_rpm(corpus: Path, repeat: int) -> None:
    rpms = sorted((corpus / "rpm").glob("*.rpm"), key=lambda p: p.stat().st_size)
    if not rpms:
        print("(b) skipped: no .rpm in the corpus")
        return
    rpm = rpms[-1]
    floor = best(f"rpm2cpio '{rpm}' | cpio -t --quiet >/dev/null", repeat)
    facts = json.loads(best([PYTHON, "-c", FACTS_PROBE, str(rpm)], repeat,
                            capture=True).stdout)
    whole = best([*XENLINT, "inspect", str(rpm)], repeat)
    print(f"(b) {rpm.name} ({rpm.stat().st_size / 1e6:.1f} MB, {facts['files']} files)")
    print(f"    floor  rpm2cpio | cpio -t        wall {floor.wall:6.3f} s  cpu {floor.cpu:6.3f} s")
    print(f"    file-list facts (read_path)     wall {facts['wall']:6.3f} s  "
          f"cpu {facts['cpu']:6.3f} s")
    print(f"    whole xenlint inspect process   wall {whole.wall:6.3f} s  cpu {whole.cpu:6.3f} s"
          "  (mostly interpreter start-up)")
    ratio = facts["cpu"] / floor.cpu
    print(f"    ratio facts/floor: cpu {ratio:.3f}x, wall {facts['wall'] / floor.wall:.3f}x "
          f"(goal <= {GOAL_RPM}x): {verdict(ratio, GOAL_RPM)}")


def bench_memory(corpus: Path) -> None:
    inputs = sorted(p for p in corpus.rglob("*")
                    if p.is_file() and p.name != "MANIFEST.md" and p.parent.name != "specs")
    print(f"(c) peak RSS of xenlint inspect --format json, one subprocess per artifact "
          f"({len(inputs)} artifacts)")
    worst = 0.0
    for path in inputs:
        s = run([*XENLINT, "inspect", "--format", "json", str(path)])
        worst = max(worst, s.rss_mb)
        print(f"    {s.rss_mb:6.1f} MB  {s.wall:6.2f} s  {path.relative_to(corpus)}")
    print(f"    peak {worst:.1f} MB (goal < {GOAL_RSS_MB:.0f} MB): "
          f"{'ok' if worst < GOAL_RSS_MB else 'MISSED'}")


def main() -> int:
    default = Path(os.environ.get("XENLINT_CORPUS", REPO.parent / "shared" / "corpus"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=default)
    parser.add_argument("--repeat", type=int, default=3, help="best of N (default 3)")
    parser.add_argument("--only", choices=["a", "b", "c"], action="append",
                        help="run only these parts (repeatable)")
    args = parser.parse_args()
    if not (args.corpus / "MANIFEST.md").is_file():
        parser.error(f"no corpus at {args.corpus} (give --corpus DIR)")
    for tool in ("dpkg-deb", "rpm2cpio", "cpio"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} is needed for the floors")
    parts = args.only or ["a", "b", "c"]
    print(f"xenlint reader benchmark: corpus {args.corpus}, best of {args.repeat}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    if "a" in parts:
        bench_deb(args.corpus, args.repeat)
    if "b" in parts:
        bench_rpm(args.corpus, args.repeat)
    if "c" in parts:
        bench_memory(args.corpus)
    return 0


if __name__ == "__main__":
    sys.exit(main())

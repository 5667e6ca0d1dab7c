"""Benchmark (not a test): wall time and peak RSS of `xenlint audit` on each hostile
repository index of issue 16, against the issue's bar (30 s and 512 MB, or a one-line
refusal).

    python bench/bench_index_limits.py [--keep DIR] [--case NAME ...]

The cases are built by tests/audit/index_bombs.py (dpkg-scanpackages or createrepo_c,
then xz or gzip). Each run is `xenlint audit TARGET --format json --no-cache -j2` in a
fresh wrapper process that starts xenlint and reads `getrusage(RUSAGE_CHILDREN)` once it
ends: ru_maxrss is then the peak RSS of the largest process of the run (the main process
or one worker), not their sum.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

from _env import REPO, scratch, xenlint_env, xenlint_python

sys.path.insert(0, str(REPO / "tests" / "audit"))
from index_bombs import CASES, target

BAR_SECONDS, BAR_MB = 30, 512
# (row, case, extra flags): every case at the defaults, and the --timeout at work on a
# parse that no other limit stops
RUNS = [*((name, name, []) for name in CASES),
        ("many-paragraphs, no count limit, --timeout 10", "many-paragraphs",
         ["--max-index-paragraphs", "100000000", "--timeout", "10"])]

# Runs in a fresh interpreter per case, so that RUSAGE_CHILDREN covers that run alone.
WRAPPER = r'''
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
proc = subprocess.run(sys.argv[1:], capture_output=True)
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"exit": proc.returncode, "wall": wall, "cpu": ru.ru_utime + ru.ru_stime,
                  "peak_kib": ru.ru_maxrss,
                  "stderr": proc.stderr.decode("utf-8", "replace").splitlines()}))
'''


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, default=None,
                    help="build the cases here and leave them (default: a temporary dir)")
    ap.add_argument("--case", action="append", choices=sorted(CASES), default=None,
                    help="only the runs of this case (repeatable)")
    args = ap.parse_args()
    env = xenlint_env()
    python = xenlint_python()
    print("| case | index size | exit | wall | CPU | peak RSS | within bar | stderr |")
    print("|---|---|---|---|---|---|---|---|")
    with scratch(args.keep, "xenlint-index-limits-") as work:
        for row, name, flags in RUNS:
            if args.case and name not in args.case:
                continue
            root = work / name
            if not (root / ".built").exists():  # --keep: built by an earlier run
                target(name, root)
                (root / ".built").touch()
            index = max((p for p in root.rglob("*") if p.is_file() and
                         (p.name.startswith("Packages") or "primary.xml" in p.name)),
                        key=lambda p: p.stat().st_size)
            # the Debian repository, or the tree holding the RPM one
            cmd = [python, "-m", "xenlint", "audit", str(root), "--format", "json",
                   "--no-cache", "-j2", "--no-summary", "-o", str(work / f"{name}.json"),
                   *flags]
            out = subprocess.run([sys.executable, "-c", WRAPPER, *cmd], env=env,
                                 capture_output=True, text=True, check=True).stdout
            r = json.loads(out)
            mb = r["peak_kib"] / 1024
            ok = r["wall"] <= BAR_SECONDS and mb <= BAR_MB
            line = re.sub(r"[0-9a-f]{64}-", "", " / ".join(r["stderr"]))
            line = line.replace(str(root) + "/", "")
            print(f"| {row} | {index.stat().st_size / 1024:.0f} KB "
                  f"({index.name.split('-')[-1]}) | {r['exit']} | {r['wall']:.2f} s "
                  f"| {r['cpu']:.2f} s | {mb:.0f} MB | {'yes' if ok else 'NO'} "
                  f"| {line[:300]} |", flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Run every fuzz harness for a time budget each, restarting after a crash; print a summary.

    python3 fuzz/run_all.py --seconds 180            # all harnesses, 3 minutes each
    python3 fuzz/run_all.py --seconds 60 deb rpm     # some of them

Crash inputs land in fuzz/crashes/<reader>-crash-<sha1>; the summary line per harness
gives executions, crashes and the exception that each crash raised.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def harnesses() -> list[str]:
    return sorted(p.stem.removeprefix("fuzz_") for p in HERE.glob("fuzz_*.py"))


def run_one(name: str, seconds: int) -> tuple[int, int, list[str]]:
    deadline = time.monotonic() + seconds
    execs, sniffed, crashes = 0, 0, []
    while (left := int(deadline - time.monotonic())) > 2:
        proc = subprocess.run([sys.executable, str(HERE / f"fuzz_{name}.py"),
                               f"-max_total_time={left}", "-rss_limit_mb=1024",
                               "-timeout=10"],
                              capture_output=True, text=True, errors="replace")
        out = proc.stderr
        execs += sum(int(m) for m in re.findall(r"stat::number_of_executed_units: (\d+)", out))
        # the harness reports every 5000 inputs; the last report of each process counts
        reports = re.findall(r"fuzz: (\d+) of \d+ inputs passed", out)
        sniffed += int(reports[-1]) if reports else 0
        if proc.returncode != 0:
            unit = re.search(r"Test unit written to (\S+)", out)
            exc = re.findall(r"^((?:\w+\.)*\w+(?:Error|Exception|Exceeded|Exit)\b.*)$", out,
                             re.M)
            crashes.append(f"{unit.group(1) if unit else '?'}: "
                           f"{exc[-1][:160] if exc else out.strip().splitlines()[-1][:160]}")
            if not unit:
                break  # the harness itself is broken; don't spin
    return execs, sniffed, crashes


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=180)
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    failed = False
    for name in args.names or harnesses():
        execs, sniffed, crashes = run_one(name, args.seconds)
        failed |= bool(crashes)
        print(f"{name}: {execs} executions in {args.seconds}s ({sniffed} reached the reader), "
              f"{len(crashes)} crash(es)", flush=True)
        for c in crashes:
            print(f"  {c}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

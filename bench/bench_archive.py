"""Benchmark (not a test): audit an archive-scale Debian index with nothing to open.

    python3 bench/bench_archive.py [--entries 20000] [--files 0] [--repeat 3] [--keep DIR]

Writes one suite whose `Packages.xz` lists N generated packages (none of them matters for
Xen, so the audit judges every one from its index entry and opens no file), and with
`--files K` a `Contents-amd64.gz` that gives each package K files. Then times
`xenlint audit DIR --no-cache` end to end with -j1 and -j2, best of the runs. What this
measures is the part of an audit that grows with the archive: parsing the index, and
linting the package set (docs/audit.md, "Benchmark").
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import lzma
import os
import random
from pathlib import Path

from _env import scratch
from bench_audit import audit, best, cores_available


def paragraph(i: int, n: int, rnd: random.Random) -> str:
    depends = "" if i % 10 == 0 else \
        f"Depends: libc6 (>= 2.36), pkg-{rnd.randrange(n):05d} | pkg-{rnd.randrange(n):05d}\n"
    name = f"pkg-{i:05d}"
    return (f"Package: {name}\nVersion: 1.{i % 7}-1\nArchitecture: amd64\n"
            f"Maintainer: Someone <s@example.org>\nInstalled-Size: {rnd.randrange(10, 9000)}\n"
            f"{depends}Filename: pool/main/p/{name}_1.{i % 7}-1_amd64.deb\n"
            f"Size: {rnd.randrange(1000, 900_000)}\n"
            f"SHA256: {hashlib.sha256(name.encode()).hexdigest()}\n"
            "Section: misc\nPriority: optional\n"
            f"Description: generated package {i}\n long description line one\n .\n"
            " long description line two\n\n")


def build_archive(root: Path, n: int, files: int) -> Path:
    rnd = random.Random(n)
    suite = root / "dists" / "big"
    index = suite / "main" / "binary-amd64"
    index.mkdir(parents=True)
    text = "".join(paragraph(i, n, rnd) for i in range(n))
    (index / "Packages.xz").write_bytes(lzma.compress(text.encode()))
    if files:
        lines = ["FILE LOCATION\n"]
        lines += [f"usr/share/pkg-{i:05d}/file-{k}.txt misc/pkg-{i:05d}\n"
                  for i in range(n) for k in range(files)]
        (suite / "main" / "Contents-amd64.gz").write_bytes(gzip.compress("".join(lines).encode()))
    return root


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=20_000)
    ap.add_argument("--files", type=int, default=0, help="files per package in Contents")
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure (the best counts)")
    ap.add_argument("--keep", type=Path, default=None, help="build (or reuse) the archive here")
    args = ap.parse_args()
    with scratch(args.keep, "xenlint-archive-") as base:
        root = base / "archive"
        if not root.exists():
            build_archive(root, args.entries, args.files)
        load = os.getloadavg()[0]
        runs: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.repeat):
            for jobs in runs:
                runs[jobs].append(audit(root, "--no-cache", "-j", str(jobs)))
        j1, j2 = best(runs[1]), best(runs[2])
        contents = f", Contents with {args.files} files each" if args.files else ""
        print(f"index entries:          {args.entries}{contents}; best of {args.repeat} runs")
        print(f"load average (1 min):   {load:.2f}; two busy processes got "
              f"{cores_available():.2f} cores (an idle machine: 2.00)")
        print(f"  -j1, no cache:        {j1:6.2f} s  {args.entries / j1:8.0f} entries/s")
        print(f"  -j2, no cache:        {j2:6.2f} s  {args.entries / j2:8.0f} entries/s")
        print(f"  speed-up -j2 / -j1:   {j1 / j2:6.2f}x")

if __name__ == "__main__":
    main()

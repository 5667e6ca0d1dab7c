"""Shared body of every fuzz harness: feed bytes to one reader, allow only one-line errors.

A reader may reject input only with ArtifactError (LimitExceeded is one). Anything else
escaping it -- IndexError, struct.error, RecursionError, MemoryError -- is a bug, because
read_source would turn it into a vague "is corrupt or truncated (IndexError)" at best.
Limits are lowered so that a bomb the fuzzer finds costs milliseconds, not minutes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from xenlint.limits import ArtifactError, Limits, member_problem  # noqa: E402
from xenlint.readers import ReadContext, ReaderSpec, Source, readers  # noqa: E402

FUZZ_LIMITS = Limits(max_member_bytes=4 << 20, max_artifact_bytes=16 << 20, max_members=2000,
                     max_held_bytes=2 << 20, max_depth=4, max_header_entries=4096,
                     max_header_bytes=1 << 20)
os.environ["XENLINT_DEBUG"] = "1"  # nested reads re-raise too, so their bugs surface here


def spec(name: str) -> ReaderSpec:
    for s in readers():
        if s.name == name:
            return s
    raise SystemExit(f"fuzz: no reader named {name!r} (have {[s.name for s in readers()]})")


# inputs seen, and inputs the reader's sniff accepted (the ones that reach the parser)
COUNTS = {"seen": 0, "sniffed": 0}


def _report() -> None:
    # libFuzzer leaves through C exit(), so atexit never runs: report as we go
    print(f"fuzz: {COUNTS['sniffed']} of {COUNTS['seen']} inputs passed the sniff",
          file=sys.stderr, flush=True)


def one_input(reader: ReaderSpec, data: bytes) -> None:
    COUNTS["seen"] += 1
    if COUNTS["seen"] % 5000 == 0:
        _report()
    source = Source("fuzz-input", data=data)
    if not reader.sniff(source.head(), source):
        return
    COUNTS["sniffed"] += 1
    try:
        art = reader.read(source, ReadContext.top(FUZZ_LIMITS, "fuzz-input"))
        member_problem(art.unsafe_paths, art.entries)
        # the lazy second pass must be as careful as the first
        for a in art.walk():
            a.read_many(list(a.files)[:50])
    except ArtifactError:
        pass


def seeds(*globs: str) -> list[Path]:
    """Seed files from fixtures/ (committed, small), for the corpus directory."""
    out: list[Path] = []
    for g in globs:
        out.extend(sorted(p for p in (REPO / "fixtures").glob(g)
                          if p.is_file() and p.stat().st_size < 1 << 20))
    return out

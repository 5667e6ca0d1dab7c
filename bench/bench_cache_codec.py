#!/usr/bin/env python3
"""Benchmark (not a test): the audit cache's msgpack codec (xenlint/audit/codec.py)
against the pickle it replaced, on real views.

    python bench/bench_cache_codec.py [--corpus DIR] [--archive ARCHIVE] [--repeat N]

(a) the views of every corpus file (what `views/` holds): encode and decode of all of them,
    against pickle.dumps/pickle.loads of the same views;
(b) with --archive (what ../shared/tools/build-archive.sh makes), the parse of each of its
    Debian suites as an audit caches it in `indexes/` (Contents kept for the paths the
    default rules' facts ask about): encode to a file and decode, against pickle.

Best of N, in one process, with the garbage collector paused as the audit pauses it
(executor.paused_gc). Sizes are those of the bytes written.
"""

from __future__ import annotations

import argparse
import gc
import io
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from xenlint.artifact import Artifact  # noqa: E402
from xenlint.audit import codec  # noqa: E402
from xenlint.audit.model import WorkItem  # noqa: E402
from xenlint.audit.worker import WorkerConfig, analyse  # noqa: E402
from xenlint.limits import Limits  # noqa: E402


def best(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            t = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t)
        finally:
            gc.enable()
    return min(times), out


def row(what: str, p_enc: float, p_dec: float, p_size: int, m_enc: float, m_dec: float,
        m_size: int) -> None:
    print(f"| {what} | pickle | {p_enc:.3f} s | {p_dec:.3f} s | {p_size / 1e6:.1f} MB |")
    print(f"| {what} | msgpack (codec) | {m_enc:.3f} s | {m_dec:.3f} s | "
          f"{m_size / 1e6:.1f} MB |")
    print(f"| {what} | ratio msgpack/pickle | {m_enc / p_enc:.2f} | {m_dec / p_dec:.2f} | "
          f"{m_size / p_size:.2f} |")


def corpus_views(corpus: Path, repeat: int) -> None:
    config = WorkerConfig(Limits(), 0, None, "")
    views: list[Artifact] = []
    for path in sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix != ".md"):
        art = analyse(WorkItem(str(path), str(path), required=False), config).artifact
        if art is not None:
            views.append(art)
    entries = sum(len(a.entries) for v in views for a in v.walk())
    print(f"(a) {len(views)} corpus views, {entries} entries")
    p_enc, pickled = best(repeat, lambda: [pickle.dumps((v.path, v), protocol=5)
                                           for v in views])
    p_dec, _ = best(repeat, lambda: [pickle.loads(b) for b in pickled])
    m_enc, packed = best(repeat, lambda: [codec.encode_view(v.path, v) for v in views])
    m_dec, back = best(repeat, lambda: [codec.decode_view(b) for b in packed])
    assert len(back) == len(views)
    row("corpus views", p_enc, p_dec, sum(map(len, pickled)), m_enc, m_dec,
        sum(map(len, packed)))


def archive_parse(archive: Path, repeat: int) -> None:
    from xenlint.audit import debrepo
    from xenlint.audit.relevance import contents_paths
    from xenlint.audit.verdicts import Rules
    from xenlint.engine.lint import LintOptions

    keep = contents_paths(Rules.load(LintOptions(search_config=False)).facts)
    for suite in debrepo.suites(archive):
        value = debrepo.read_suite(archive, suite, Limits(), keep)
        entries = sum(len(a.entries) for a in value[0])
        print(f"(b) {suite}: {len(value[0])} packages, {entries} Contents paths kept")
        p_enc, pickled = best(repeat, lambda v=value: pickle.dumps(v, protocol=5))
        p_dec, _ = best(repeat, lambda p=pickled: pickle.loads(p))

        def encode(v: Any = value) -> bytes:
            out = io.BytesIO()
            codec.SUITE.encode(v, out)
            return out.getvalue()

        m_enc, packed = best(repeat, encode)
        m_dec, back = best(repeat, lambda p=packed: codec.SUITE.decode(p))
        assert back == value
        row(f"index parse of {suite.name}", p_enc, p_dec, len(pickled), m_enc, m_dec,
            len(packed))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    ap.add_argument("--archive", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print("| what | format | encode | decode | size |")
    print("|---|---|---|---|---|")
    corpus_views(args.corpus, args.repeat)
    if args.archive is not None:
        archive_parse(args.archive, args.repeat)


if __name__ == "__main__":
    main()

"""`python fuzz/fuzz_<reader>.py [libFuzzer flags] [corpus dirs]`: the atheris entry point."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import atheris  # type: ignore[import-not-found]

with atheris.instrument_imports(include=["xenlint"]):
    import _driver


def run(reader_name: str, seed_globs: tuple[str, ...]) -> None:
    reader = _driver.spec(reader_name)
    args = list(sys.argv)
    crashes = Path(__file__).resolve().parent / "crashes"
    crashes.mkdir(exist_ok=True)
    if not any(a.startswith("-artifact_prefix=") for a in args):
        args.insert(1, f"-artifact_prefix={crashes}/{reader_name}-")
    if not any(a.startswith("-print_final_stats=") for a in args):
        args.insert(1, "-print_final_stats=1")
    if not any(not a.startswith("-") for a in args[1:]):
        # no corpus dir given: start from the committed fixtures in a scratch dir
        work = Path(tempfile.mkdtemp(prefix=f"xenlint-fuzz-{reader_name}-"))
        for i, p in enumerate(_driver.seeds(*seed_globs)):
            shutil.copy(p, work / f"seed-{i:03d}-{p.name}")
        args.append(str(work))
    atheris.Setup(args, lambda data: _driver.one_input(reader, data))
    atheris.Fuzz()

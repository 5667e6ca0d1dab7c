"""The environment a benchmark runs xenlint in: this checkout, byte-compiled, started the
way an installed xenlint starts.

An installed xenlint has its modules byte-compiled (pip does it at install time). Run from
a checkout with PYTHONDONTWRITEBYTECODE set, as on some CI machines, every process would
compile all of xenlint from source again, and the start-up figures would measure the
compiler rather than xenlint.

A development venv holds xenlint as an *editable* install, whose `.pth` file imports an
import hook at every interpreter start (about 12 ms per process here). An installed
xenlint has no such hook, so `xenlint_python()` gives an interpreter that sees the same
dependencies without it."""

from __future__ import annotations

import compileall
import os
import shutil
import site
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def xenlint_env() -> dict[str, str]:
    """os.environ for a subprocess that imports xenlint from this checkout, after
    byte-compiling it (into the ignored __pycache__ folders)."""
    compileall.compile_dir(REPO / "xenlint", quiet=1)
    return {**os.environ, "PYTHONPATH": str(REPO)}


def xenlint_python() -> str:
    """An interpreter for timed subprocesses: this one, unless its site-packages hold an
    editable install of xenlint; then a bare venv (made once, in the temporary directory)
    whose `.pth` puts those site-packages on sys.path as plain directories, so that the
    editable install's hook is not imported (a plain path line in a .pth file does not
    process the .pth files of the directory it adds)."""
    dirs = [Path(d) for d in site.getsitepackages()]
    if not any(any(d.glob("__editable__*xenlint*.pth")) for d in dirs):
        return sys.executable
    venv = Path(tempfile.gettempdir()) / f"xenlint-bench-python-{sys.version_info[0]}" \
        f"{sys.version_info[1]}-{os.getuid()}"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    out = subprocess.run([str(python), "-c", purelib], check=True, capture_output=True,
                         text=True).stdout.strip()
    (Path(out) / "xenlint-bench-deps.pth").write_text("".join(f"{d}\n" for d in dirs))
    return str(python)


@contextmanager
def scratch(keep: Path | None, prefix: str) -> Iterator[Path]:
    """Where a benchmark builds its inputs: `keep` (made if missing, left in place for the
    next run), else a temporary directory removed at the end."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    base = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)

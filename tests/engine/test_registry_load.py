"""The fact registry and the contents facts want load themselves where they are read: a
program that imports only the readers keeps what facts will read, and one that imports
only `xenlint.facts` sees every fact, whatever was imported first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "fixtures" / "samples" / "xen-tools-sample_4.17.3-1_amd64.deb"


def _fresh(code: str, *args: str) -> str:
    """Run `code` in a new interpreter, so no other test's imports count."""
    res = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         check=True, cwd=REPO)
    return res.stdout.strip()


def test_readers_alone_keep_what_facts_read() -> None:
    out = _fresh("import sys\n"
                 "from xenlint.readers import read_path\n"
                 "[art] = read_path(sys.argv[1])\n"
                 "print(art.captured('/etc/init.d/xencommons') is not None,"
                 " art.captured('/etc/xen/xl.conf') is not None)", str(TOOLS))
    assert out == "True True"


def test_the_registry_alone_lists_every_fact() -> None:
    out = _fresh("from xenlint.facts import registry, resolve\n"
                 "names = registry()\n"
                 "print(len(names), resolve('kernel.config.CONFIG_XEN') is not None,"
                 " 'package.name' in names)")
    count, resolved, named = out.split()
    assert int(count) > 50 and resolved == "True" and named == "True"

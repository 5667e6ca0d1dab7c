"""Write the man pages xenlint(1), xenlint-check(1), ... from the click commands, with
click-man (a [test] dependency; the pages are committed, and the wheel installs them under
share/man/man1). tests/cli/test_manpage.py fails when they are stale.

    python man/generate.py [DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

from click_man.core import write_man_pages

from xenlint import __version__
from xenlint.cli import load_commands, main

HERE = Path(__file__).resolve().parent
# the date in the pages' header: fixed, so that regenerating changes them only when the
# commands change (update it with the version)
DATE = "2026-12-07"


def generate(target: Path) -> list[Path]:
    load_commands()
    # click-man lists the commands in the order they were imported: sort them, so that the
    # pages do not depend on which command ran first in this process
    main.commands = dict(sorted(main.commands.items()))
    target.mkdir(parents=True, exist_ok=True)
    write_man_pages("xenlint", main, version=__version__, target_dir=str(target), date=DATE)
    return sorted(target.glob("xenlint*.1"))


if __name__ == "__main__":
    for page in generate(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(page)

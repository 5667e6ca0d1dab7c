"""The README names every command and shows real output: each `console` block is run and
must print what the README says."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
BLOCKS = re.findall(r"```console\n\$ (xenlint [^\n]*)\n(.*?)```", README, re.DOTALL)


def test_the_readme_names_every_command_and_profile() -> None:
    for word in ("check", "inspect", "audit", "rules", "explain", "pipx install",
                 "_XENLINT_COMPLETE", "docs/ci.md", "docs/api.md", "`dom0`", "`domu`",
                 "`installer`"):
        assert word in README, word
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize(("command", "expected"), BLOCKS, ids=[b[0][:60] for b in BLOCKS])
def test_the_readme_output_is_real(command: str, expected: str) -> None:
    args = shlex.split(command)[1:]
    res = subprocess.run([sys.executable, "-m", "xenlint", *args], cwd=REPO, text=True,
                         capture_output=True, check=False)
    assert res.stdout == expected

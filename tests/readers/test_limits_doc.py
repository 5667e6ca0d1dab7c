"""docs/limits.md documents every limit, its real default and a flag that really exists."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from click.testing import CliRunner

from xenlint.cli import main
from xenlint.limits import Limits

DOC = (Path(__file__).resolve().parents[2] / "docs" / "limits.md").read_text()


def rows() -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for line in DOC.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0].startswith("`max_"):
            table[cells[0].strip("`")] = cells
    return table


def test_every_limit_is_documented_with_its_default_and_flag() -> None:
    table = rows()
    defaults = Limits()
    names = [f.name for f in dataclasses.fields(Limits)]
    assert sorted(table) == sorted(names)
    for name in names:
        _, default, flag, why = table[name][:4]
        value = getattr(defaults, name)
        numbers = {int(n.replace(" ", "").replace(",", ""))
                   for n in re.findall(r"\d[\d ]*\d|\d", default)}
        assert value in numbers, f"{name}: doc says {default!r}, code says {value}"
        assert flag == f"`--{name.replace('_', '-')} N`"
        assert len(why) > 40


def test_documented_flags_are_accepted() -> None:
    for name in (f.name for f in dataclasses.fields(Limits)):
        flag = f"--{name.replace('_', '-')}"
        res = CliRunner().invoke(main, ["inspect", flag, "7", "--help"])
        assert res.exit_code == 0, (flag, res.output)
        assert flag in res.output


def test_a_lowered_limit_is_one_error_line(tmp_path: Path) -> None:
    deb = Path(__file__).resolve().parents[2] / "fixtures" / "readers" / "deb" / "none.deb"
    res = CliRunner().invoke(main, ["inspect", "--max-member-bytes", "10", str(deb)])
    assert res.exit_code == 2
    [line] = res.stderr.splitlines()
    assert "max_member_bytes" in line and str(deb) in line

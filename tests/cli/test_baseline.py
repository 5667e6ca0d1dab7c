"""--baseline REPORT.json: known findings are shown as known and pass, new ones fail, fixed
ones are counted; matching ignores the version and directory of the package file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from xenlint.cli import main

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "fixtures" / "samples"
SYSTEM = SAMPLES / "xen-system-sample_4.17.3-1_amd64.deb"


def invoke(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(main, list(args))
    return res.exit_code, res.stdout, res.stderr


def baseline_of(tmp_path: Path, *paths: Path) -> Path:
    out = tmp_path / "baseline.json"
    code, _, _ = invoke("check", "--format", "json", "-o", str(out), *map(str, paths))
    assert code in (0, 1)
    return out


def test_known_findings_pass_whatever_the_version_or_path(tmp_path: Path) -> None:
    base = baseline_of(tmp_path, SYSTEM)
    moved = tmp_path / "elsewhere" / "xen-system-sample_4.17.4-2_amd64.deb"
    moved.parent.mkdir()
    shutil.copy(SYSTEM, moved)
    code, out, _ = invoke("check", "--baseline", str(base), str(moved))
    assert code == 0
    lines = out.splitlines()
    assert sum(ln.endswith("known (in the baseline)") for ln in lines) == 4
    assert lines[-1].startswith("0 errors, 0 warnings")
    assert lines[-1].endswith("baseline: 4 known, 0 fixed")
    data = json.loads(invoke("check", "--baseline", str(base), "--format", "json",
                             str(moved))[1])
    assert all(f["known"] and f["package"] == "xen-system-sample" for f in data["findings"])
    assert data["summary"]["known"] == 4 and data["summary"]["error"] == 0


def test_new_findings_fail_and_fixed_ones_are_counted(tmp_path: Path) -> None:
    # the whole set has one warning; the meta-package alone has it and three more
    base = baseline_of(tmp_path, SAMPLES)
    code, out, _ = invoke("check", "--baseline", str(base), str(SYSTEM))
    assert code == 1
    assert out.splitlines()[-1].startswith("2 errors, 1 warning")
    assert out.splitlines()[-1].endswith("baseline: 1 known, 0 fixed")
    # the other way round: three of the four are fixed
    base = baseline_of(tmp_path, SYSTEM)
    code, out, _ = invoke("check", "--baseline", str(base), str(SAMPLES))
    assert code == 0
    assert out.splitlines()[-1].endswith("baseline: 1 known, 3 fixed")


def test_audit_takes_a_baseline(tmp_path: Path) -> None:
    base = baseline_of(tmp_path, SYSTEM)
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(SYSTEM, tree / SYSTEM.name)
    code, out, _ = invoke("audit", "--no-cache", str(tree))
    assert code == 1
    code, out, _ = invoke("audit", "--no-cache", "--baseline", str(base), str(tree))
    assert code == 0 and out.splitlines()[-1].endswith("baseline: 4 known, 0 fixed")


def test_a_baseline_that_is_no_report_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"findings": 3}')
    code, _, err = invoke("check", "--baseline", str(bad), str(SYSTEM))
    assert code == 2 and "is not a xenlint JSON report" in err
    code, _, err = invoke("check", "--baseline", str(tmp_path / "none.json"), str(SYSTEM))
    assert code == 2

"""--baseline REPORT.json: known findings are shown as known and pass, new ones fail, fixed
ones are counted; matching ignores the version and directory of the package file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from xenlint.cli import main

REPO = Path(__file__).resolve().parents[2]
# a meta-package that Requires nothing: four findings alone
SYSTEM = REPO / "fixtures/rules/meta-package-missing-hypervisor/fail-rpm-requires-nothing" \
    / "xen-system-4.17.0-1.noarch.rpm"


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
    moved = tmp_path / "elsewhere" / "xen-system-4.17.4-2.noarch.rpm"
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
    assert all(f["known"] and f["package"] == "xen-system" for f in data["findings"])
    assert data["summary"]["known"] == 4 and data["summary"]["error"] == 0


def test_new_findings_fail_and_fixed_ones_are_counted(tmp_path: Path) -> None:
    base = baseline_of(tmp_path, SYSTEM)
    data = json.loads(base.read_text())
    errors = [f for f in data["findings"] if f["severity"] == "error"]
    assert len(errors) == 2
    # a baseline that knew one of the two errors, and one finding since fixed
    gone = {**errors[0], "rule": "meta-package-missing-docs", "message": "fixed since"}
    data["findings"] = [f for f in data["findings"] if f is not errors[1]] + [gone]
    base.write_text(json.dumps(data))
    code, out, _ = invoke("check", "--baseline", str(base), str(SYSTEM))
    assert code == 1  # the error the baseline did not hold is new
    lines = out.splitlines()
    [new] = [ln for ln in lines if ln.startswith("E: ") and not ln.endswith("baseline)")]
    assert errors[1]["rule"] in new
    assert lines[-1].startswith("1 error, 0 warnings")
    assert lines[-1].endswith("baseline: 3 known, 1 fixed")


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

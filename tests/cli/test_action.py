"""action.yml: a composite action whose lint step, run here with bash as the runner would,
writes a SARIF report and the exit status, and whose upload uses codeql-action."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "fixtures" / "samples"
# a meta-package that Requires nothing: an error alone
META = REPO / "fixtures/rules/meta-package-missing-hypervisor/fail-rpm-requires-nothing" \
    / "xen-system-4.17.0-1.noarch.rpm"


def _action() -> dict[str, object]:
    data: dict[str, object] = yaml.safe_load((REPO / "action.yml").read_text())
    return data


def test_the_action_is_composite_and_uploads_sarif() -> None:
    action = _action()
    runs = action["runs"]
    assert isinstance(runs, dict) and runs["using"] == "composite"
    uses = [s.get("uses", "") for s in runs["steps"]]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    assert any("pip install" in s.get("run", "") for s in runs["steps"])


def _lint_step(tmp_path: Path, paths: str, args: str = "") -> tuple[int, dict[str, str], str]:
    runs = _action()["runs"]
    assert isinstance(runs, dict)
    [step] = [s for s in runs["steps"] if s.get("id") == "lint"]
    output = tmp_path / "github_output"
    output.write_text("")
    sarif = tmp_path / "xenlint.sarif"
    env = {**os.environ, "XENLINT_PATHS": paths, "XENLINT_ARGS": args,
           "XENLINT_SARIF": str(sarif), "GITHUB_OUTPUT": str(output),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(["bash", "-e", "-c", step["run"]], env=env, cwd=REPO, text=True,
                          capture_output=True, check=False)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return proc.returncode, outputs, sarif.read_text()


def test_the_lint_step_writes_sarif_and_the_status(tmp_path: Path) -> None:
    status, outputs, sarif = _lint_step(tmp_path, str(META))
    assert status == 0  # the step itself goes on, so that the upload runs
    assert outputs["exit-code"] == "1"
    results = json.loads(sarif)["runs"][0]["results"]
    assert any(r["ruleId"] == "meta-package-missing-hypervisor" for r in results)
    status, outputs, _ = _lint_step(tmp_path, str(SAMPLES), "--fail-on error")
    assert (status, outputs["exit-code"]) == (0, "0")

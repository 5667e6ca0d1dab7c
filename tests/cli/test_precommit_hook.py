"""The `xenlint` hook of .pre-commit-hooks.yaml, run by pre-commit itself in a temporary git
repository: it installs xenlint from this checkout and fails a commit that adds a
meta-package missing its hypervisor."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "fixtures" / "samples"
# a meta-package that Requires nothing: an error alone
META = REPO / "fixtures/rules/meta-package-missing-hypervisor/fail-rpm-requires-nothing" \
    / "xen-system-4.17.0-1.noarch.rpm"


def test_the_hook_file_declares_xenlint() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    [hook] = [h for h in hooks if h["id"] == "xenlint"]
    assert hook["entry"].split()[0] == "xenlint" and hook["language"] == "python"


@pytest.mark.slow
def test_pre_commit_runs_the_hook(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.fail("git is needed to run pre-commit")
    work = tmp_path / "packaging"
    work.mkdir()
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}

    def sh(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=work, env=env, text=True, capture_output=True,
                              check=False, timeout=900)

    assert sh("git", "init", "-q").returncode == 0
    for deb in SAMPLES.glob("*.deb"):
        shutil.copy(deb, work / deb.name)
    (work / "README").write_text("not a package\n")
    sh("git", "add", ".")
    pre_commit = [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "xenlint"]
    # a meta-package that pulls in nothing: its hypervisor and toolstack are missing
    shutil.copy(META, work / META.name)
    sh("git", "add", META.name)
    alone = sh(*pre_commit, "--files", META.name)
    assert alone.returncode == 1, alone.stdout + alone.stderr
    assert "meta-package-missing-hypervisor" in alone.stdout
    # a meta-package with the packages it depends on passes (a warning is below the error)
    together = sh(*pre_commit, "--files", *(deb.name for deb in SAMPLES.glob("*.deb")))
    assert together.returncode == 0, together.stdout + together.stderr
    assert "xenlint" in together.stdout and "Passed" in together.stdout

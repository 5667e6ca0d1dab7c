"""The Python API: `import xenlint` exposes lint_paths, LintOptions, Report, Finding,
Severity and read_path, leaves os.environ alone, and docs/api.md's example runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_api_names_are_exposed() -> None:
    import xenlint
    from xenlint.engine.lint import LintOptions, lint_paths
    from xenlint.finding import Finding, Report, Severity
    from xenlint.readers import read_path

    assert xenlint.lint_paths is lint_paths and xenlint.LintOptions is LintOptions
    assert (xenlint.Report, xenlint.Finding, xenlint.Severity) == (Report, Finding, Severity)
    assert xenlint.read_path is read_path
    assert set(xenlint.__all__) >= {"lint_paths", "LintOptions", "Report", "Finding",
                                    "Severity", "read_path"}


def test_importing_and_reading_leave_the_environment_alone() -> None:
    code = ("import os, sys; before = dict(os.environ); import xenlint; "
            "assert 'xenlint.engine.lint' not in sys.modules, 'the API is not lazy'; "
            "xenlint.read_path('fixtures/samples'); "
            "assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())")
    env = {k: v for k, v in os.environ.items() if k != "LIBARCHIVE"}
    res = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, text=True,
                         capture_output=True, check=False)
    assert res.returncode == 0, res.stderr


def test_the_documented_example_runs() -> None:
    page = (REPO / "docs" / "api.md").read_text()
    [example] = re.findall(r"<!-- example -->\n```python\n(.*?)```", page, re.DOTALL)
    res = subprocess.run([sys.executable, "-c", example], cwd=REPO, text=True,
                         capture_output=True, check=False)
    assert res.returncode == 0, res.stderr
    [expected] = re.findall(r"<!-- example-output -->\n```text\n(.*?)```", page, re.DOTALL)
    assert res.stdout == expected

"""Every rule against its own fixtures: fixtures/rules/<rule-id>/{pass,fail}-<case>/.

Each case runs only its rule, for the profiles in its profiles.txt, over the artifacts in
the folder (one run, so one package set), and must give exactly the findings of its
expected.json: none for pass cases.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from xenlint.engine.lint import LintOptions, lint_paths

CASES = sorted(p for p in (FIXTURES / "rules").glob("*/*") if p.is_dir())
META = {"expected.json", "profiles.txt"}


def run_case(folder: Path) -> tuple[list[dict[str, str]], list[str]]:
    rule = folder.parent.name
    profiles = tuple((folder / "profiles.txt").read_text().split()) \
        if (folder / "profiles.txt").exists() else ()
    inputs = sorted(str(p) for p in folder.iterdir() if p.name not in META)
    report = lint_paths(inputs, LintOptions(profiles=profiles, select=(rule,),
                                            search_config=False, show_unknown=True))
    assert not report.errors, report.errors
    found = [{"profile": p, "message": f.message} for f in report.findings
             if f.rule == rule for p in f.all_profiles]
    return found, [u.missing for u in report.unknowns if u.rule == rule]


@pytest.mark.parametrize("folder", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_rule_case(folder: Path) -> None:
    expected = json.loads((folder / "expected.json").read_text())
    found, unknown = run_case(folder)
    key = lambda d: (d["profile"], d["message"])  # noqa: E731
    assert sorted(found, key=key) == sorted(expected, key=key)
    if folder.name.startswith("fail-"):
        assert expected, "a fail case must expect at least one finding"
    else:
        assert not expected
        # a pass must be a real pass (or a real not-applicable), never an unknown
        assert not unknown, f"rule was unknown, not passed: {unknown}"

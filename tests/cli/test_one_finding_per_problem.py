"""A problem seen under several profiles is one finding: printed once, counted once, listing
its profiles in every format; JUnit lists as passed only rules that can apply to an input."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from xenlint.cli import main

REPO = Path(__file__).resolve().parents[2]
# a guest kernel config without xen-netfront: the rule runs for domu and for installer
KERNEL = REPO / "fixtures/rules/kernel-without-xen-netfront/fail-xen-netdev-frontend" \
    / "config-6.1.0-xl-amd64"
PACKAGE = REPO / "fixtures/rules/meta-package-missing-hypervisor/fail-rpm-requires-nothing" \
    / "xen-system-4.17.0-1.noarch.rpm"
RULE = "kernel-without-xen-netfront"


def out(*args: str) -> str:
    res = CliRunner().invoke(main, ["check", *args])
    assert res.exit_code in (0, 1), res.output
    return res.stdout


def test_text_prints_it_once_with_both_profiles() -> None:
    lines = [ln for ln in out(str(KERNEL)).splitlines() if RULE in ln]
    assert len(lines) == 1
    assert lines[0].endswith("(domu, installer)")


def test_json_lists_the_profiles_and_keeps_profile_first() -> None:
    data = json.loads(out("--format", "json", str(KERNEL)))
    mine = [f for f in data["findings"] if f["rule"] == RULE]
    assert len(mine) == 1
    assert mine[0]["profiles"] == ["domu", "installer"] and mine[0]["profile"] == "domu"
    assert data["summary"]["error"] == sum(f["severity"] == "error" for f in data["findings"])
    only = json.loads(out("--format", "json", "--profile", "installer", str(KERNEL)))
    [alone] = [f for f in only["findings"] if f["rule"] == RULE]
    assert alone["profiles"] == ["installer"] == [alone["profile"]]


def test_html_matrix_and_summary_count_it_once() -> None:
    page = out("--format", "html", str(KERNEL))
    cell = re.search(r'<td class="error" data-artifact="[^"]*" data-key="pv-network"'
                     r' data-count="(\d+)"', page)
    data = json.loads(out("--format", "json", str(KERNEL)))
    expected = sum("pv-network" in f["checklist"] for f in data["findings"])
    assert cell is not None and int(cell.group(1)) == expected
    row = re.search(r'<tr data-key="pv-network">.*?</tr>', page)
    assert row is not None
    errors = re.findall(r"<td>(\d+)</td>", row.group(0))
    assert int(errors[0]) == expected
    assert page.count(f'data-rule="{RULE}"') == 1


def test_sarif_has_one_result_with_both_profiles() -> None:
    run = json.loads(out("--format", "sarif", str(KERNEL)))["runs"][0]
    mine = [r for r in run["results"] if r["ruleId"] == RULE]
    assert len(mine) == 1
    assert mine[0]["properties"]["profiles"] == ["domu", "installer"]


def _cases(report: str) -> dict[str, ET.Element]:
    [suite] = ET.fromstring(report).findall("testsuite")
    return {c.get("name", ""): c for c in suite.findall("testcase")}


def test_junit_lists_only_rules_that_can_apply_as_passed() -> None:
    kernel = _cases(out("--format", "junit", str(KERNEL)))
    assert RULE in kernel and kernel[RULE].find("failure") is not None
    assert not any(name.startswith("meta-package-") for name in kernel)  # package rules
    package = _cases(out("--format", "junit", str(PACKAGE)))
    assert "meta-package-missing-docs" in package
    assert not any(name.startswith("kernel-without-") for name in package)
    rules = json.loads(CliRunner().invoke(main, ["rules", "--format", "json"]).stdout)
    kernel_rules = {r["id"] for r in rules if r["applies-to"] == "kernel"}
    # every kernel rule the run asked for is a test case of the kernel config
    assert kernel_rules <= set(kernel) | {r["id"] for r in rules if not set(r["profiles"])
                                           & {"dom0", "domu", "installer"}}

"""-i/--info, `explain` for a terminal, "did you mean" for rule ids, `rules --params`,
configuration errors that name their cause and file:line, and a policy's own checklist keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from xenlint.cli import main
from xenlint.engine.lint import LintError, LintOptions, lint_paths

REPO = Path(__file__).resolve().parents[2]
# a meta-package that Requires nothing: four findings alone
SYSTEM = REPO / "fixtures/rules/meta-package-missing-hypervisor/fail-rpm-requires-nothing" \
    / "xen-system-4.17.0-1.noarch.rpm"
TEST_RULES = REPO / "tests/data/rules"
RULE = "kernel-without-xen-netfront"


def invoke(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(main, list(args))
    return res.exit_code, res.stdout, res.stderr


def test_info_explains_each_rule_once_under_its_first_finding() -> None:
    code, out, _ = invoke("check", "-i", str(SYSTEM))
    assert code == 1
    lines = out.splitlines()
    first = next(i for i, ln in enumerate(lines) if "meta-package-missing-docs" in ln)
    assert lines[first + 1] == "N:"
    block = lines[first + 1:next(i for i in range(first + 1, len(lines))
                                 if not lines[i].startswith("N:"))]
    text = " ".join(ln[2:].strip() for ln in block)
    assert "Checks that the Xen meta-package" in text and "Why: " in text
    assert "Fix: # Add the package" in text
    headers = [ln for ln in lines if ln.startswith("N:   Why: ")]
    rules = {ln.split()[2] for ln in lines if ln[:2] in ("E:", "W:")}
    assert len(headers) == len(rules)  # once per rule, not per finding
    assert not any(ln.startswith("N:") for ln in invoke("check", str(SYSTEM))[1].splitlines())


def test_explain_renders_for_a_terminal() -> None:
    code, out, _ = invoke("explain", RULE)
    assert code == 0
    assert "<!--" not in out and "](" not in out and "../" not in out
    assert "What it checks" in out and "## " not in out  # headings rendered, not raw
    assert "CONFIG_XEN_NETDEV_FRONTEND=m" in out
    raw = invoke("explain", "--markdown", RULE)[1]
    assert raw.startswith("<!--") and "## What it checks" in raw


def test_a_mistyped_rule_id_gets_a_suggestion() -> None:
    code, _, err = invoke("explain", "kernel-without-xen-netfrnt")
    assert code == 2 and f"did you mean '{RULE}'?" in err
    code, _, err = invoke("check", "--select", "kernel-without-xen-netfrnt", str(SYSTEM))
    assert code == 2 and f"did you mean '{RULE}'?" in err


def test_rules_params_shows_parameters_and_defaults(tmp_path: Path) -> None:
    code, out, _ = invoke("rules", "--params", "--rules-dir", str(TEST_RULES))
    assert code == 0
    lines = out.splitlines()
    at = next(i for i, ln in enumerate(lines) if " test-deb-version " in ln)
    assert lines[at + 1] == '    $floor = "1:4.17.0-1"'
    assert lines[lines.index(next(ln for ln in lines if f" {RULE} " in ln)) + 1] \
        == "    (no parameters)"
    config = tmp_path / "xenlint.toml"
    config.write_text('[params.test-deb-version]\nfloor = "2.0"\n')
    out = invoke("rules", "--params", "--config", str(config), "--rules-dir",
                 str(TEST_RULES))[1]
    assert '    $floor = "2.0" (default "1:4.17.0-1")' in out.splitlines()
    data = json.loads(invoke("rules", "--format", "json", "--rules-dir", str(TEST_RULES))[1])
    assert next(r for r in data if r["id"] == "test-deb-version")["params"] == \
        {"floor": "1:4.17.0-1"}


def _error(tmp_path: Path, text: str) -> str:
    config = tmp_path / "xenlint.toml"
    config.write_text(text)
    with pytest.raises(LintError) as err:
        lint_paths([SYSTEM], LintOptions(config_path=config, extra_rule_dirs=(TEST_RULES,)))
    return str(err.value)


def test_config_error_names_the_parameter_and_its_line(tmp_path: Path) -> None:
    msg = _error(tmp_path, f"# policy\nfail-on = \"error\"\n\n[params.{RULE}]\nfoo = 1\n")
    assert msg == (f"{tmp_path / 'xenlint.toml'}:4:1: [params.{RULE}] sets foo, which {RULE} "
                   "does not take (its parameters: none; see `xenlint rules --params`)")
    assert "unknown rule" not in msg
    msg = _error(tmp_path, '[params.test-deb-version]\nfloor = "1"\nceiling = "2"\n')
    assert "sets ceiling" in msg and "its parameters: floor;" in msg
    msg = _error(tmp_path, "\n[params.kernel-without-xen-netfrnt]\nfoo = 1\n")
    assert msg.startswith(f"{tmp_path / 'xenlint.toml'}:2:1: ")
    assert f"names no rule (did you mean '{RULE}'?)" in msg


def test_config_error_in_pyproject_points_at_its_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "x"\n\n[tool.xenlint]\nfail-on = "warning"\n\n'
        f"[tool.xenlint.params.{RULE}]\nfoo = 1\n")
    with pytest.raises(LintError) as err:
        lint_paths([SYSTEM], LintOptions(config_path=tmp_path / "pyproject.toml"))
    assert str(err.value).startswith(f"{tmp_path / 'pyproject.toml'}:7:1: [params.{RULE}]")


POLICY_RULE = """severity = "warning"
profiles = ["dom0"]
checklist = ["acme-docs-split"]
applies-to = "package"
expect = 'package.name != "xen-system"'
message = "{package.name} is checked by ACME policy"

[doc]
what = "ACME's own policy."
why = "A distribution's own rule."
fix = "Follow ACME policy."
"""


def test_custom_rules_may_use_checklist_keys_the_configuration_declares(
        tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "acme-policy.toml").write_text(POLICY_RULE)
    config = tmp_path / "xenlint.toml"
    config.write_text("")
    with pytest.raises(LintError) as err:  # undeclared: refused, with the way out
        lint_paths([SYSTEM], LintOptions(config_path=config, extra_rule_dirs=(rules,)))
    assert "unknown value 'acme-docs-split'" in str(err.value)
    assert "[checklist] table" in str(err.value)
    config.write_text('rule-dirs = ["rules"]\n\n[checklist.acme-docs-split]\n'
                      'title = "docs ship in their own package"\n')
    report = lint_paths([SYSTEM], LintOptions(config_path=config, select=("acme-*",)))
    [finding] = report.findings
    assert finding.checklist == ("acme-docs-split",)
    config.write_text('rule-dirs = ["rules"]\nchecklist = ["acme-docs-split"]\n')
    assert lint_paths([SYSTEM], LintOptions(config_path=config, select=("acme-*",))).findings
    config.write_text('[checklist.Bad_Key]\ntitle = "x"\n')
    with pytest.raises(LintError, match=r"xenlint.toml:1: \[checklist.Bad_Key\]"):
        lint_paths([SYSTEM], LintOptions(config_path=config))

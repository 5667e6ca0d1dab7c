"""Lint API, configuration, overrides and the exit codes of `xenlint check`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from xenlint.cli import main
from xenlint.engine.config import ConfigError, find_config, load_config
from xenlint.engine.lint import LintError, LintOptions, effective_fail_on, exit_status, lint_paths
from xenlint.finding import Severity

REPO = Path(__file__).resolve().parent.parent.parent
RULES = REPO / "tests" / "data" / "rules"
DEB = REPO / "fixtures" / "readers" / "deb" / "gzip.deb"
RPM = REPO / "fixtures" / "readers" / "rpm" / "zstd.rpm"


@pytest.fixture
def inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding the two package fixtures; the current directory, so no config leaks."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(DEB, folder / "fixture.deb")
    shutil.copy(RPM, folder / "fixture.rpm")
    monkeypatch.chdir(tmp_path)
    return folder


def opts(**kw: object) -> LintOptions:
    base: dict[str, object] = {"extra_rule_dirs": (RULES,), "select": ("test-*",),
                               "search_config": False}
    base.update(kw)
    return LintOptions(**base)  # type: ignore[arg-type]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--rules-dir", str(RULES), "--select", "test-*"])


def keyed(report_findings: list) -> list[tuple[str, str, str]]:  # type: ignore[type-arg]
    return sorted((f.rule, Path(f.artifact).name, p) for f in report_findings
                  for p in f.all_profiles)


def test_findings_name_profile_rule_and_artifact(inputs: Path) -> None:
    report = lint_paths([inputs], opts())
    assert keyed(report.findings) == [
        ("test-needs-libc6", "fixture.rpm", "dom0"), ("test-needs-libc6", "fixture.rpm", "domu"),
        ("test-sbin-demo", "fixture.deb", "dom0"), ("test-sbin-demo", "fixture.rpm", "dom0")]
    # one finding for the problem both profiles see, listing both, `profile` the first
    [libc] = [f for f in report.findings if f.rule == "test-needs-libc6"]
    assert (libc.profile, libc.profiles) == ("dom0", ("dom0", "domu"))
    sbin = next(f for f in report.findings if f.rule == "test-sbin-demo")
    assert sbin.location == "/usr/sbin/xl-demo"
    assert sbin.message == "xenlint-fixture ships /usr/sbin/xl-demo"
    assert exit_status(report, Severity.ERROR) == 1
    assert {r.id for r in report.rules} == {"test-needs-libc6", "test-sbin-demo",
                                           "test-set-has-doc", "test-deb-version"}


def test_profiles_select_and_ignore(inputs: Path) -> None:
    report = lint_paths([inputs], opts(profiles=("domu",), ignore=("test-needs-*",)))
    assert report.findings == []
    assert exit_status(report, Severity.INFO) == 0
    with pytest.raises(LintError, match="no rule matches 'nope'"):
        lint_paths([inputs], opts(select=("nope",)))


def test_set_rule_sees_all_packages_together(inputs: Path) -> None:
    only_rpm = lint_paths([inputs / "fixture.rpm"], opts(profiles=("installer",)))
    assert [f.rule for f in only_rpm.findings] == ["test-set-has-doc"]
    both = lint_paths([inputs], opts(profiles=("installer",)))
    assert both.findings == []  # the deb ships /usr/share/doc for the whole set


def write_overrides(path: Path, *entries: str) -> Path:
    path.write_text("\n".join(f"[[overrides]]\n{e}\n" for e in entries))
    return path


def test_overrides_used_and_unused(inputs: Path, tmp_path: Path) -> None:
    file = write_overrides(
        tmp_path / "ov.toml",
        'rule = "test-needs-libc6"\nartifact = "*.rpm"\nreason = "static binary"',
        'rule = "test-sbin-demo"\nartifact = "fixture.deb"\npath = "/usr/sbin/xl-*"\n'
        'reason = "demo tool"',
        'rule = "test-sbin-demo"\nartifact = "*.deb"\npath = "/nowhere/*"\nreason = "stale"',
        'rule = "no-such-rule"\nreason = "typo"')
    report = lint_paths([inputs], opts(overrides_file=file))
    suppressed = [f for f in report.findings if f.suppressed]
    assert keyed(suppressed) == [
        ("test-needs-libc6", "fixture.rpm", "dom0"), ("test-needs-libc6", "fixture.rpm", "domu"),
        ("test-sbin-demo", "fixture.deb", "dom0")]
    assert {f.suppression_reason for f in suppressed} == {"static binary", "demo tool"}
    unused = [f for f in report.findings if f.rule == "unused-override"]
    assert [(f.severity, f.location) for f in unused] == [
        (Severity.INFO, "line 12"), (Severity.INFO, "line 18")]
    assert "matched no finding" in unused[0].message
    assert "names no known rule" in unused[1].message
    assert "unused-override" in {r.id for r in report.rules}
    # only the rpm's test-sbin-demo warning is left unsuppressed
    assert exit_status(report, Severity.ERROR) == 0
    assert exit_status(report, Severity.WARNING) == 1


def test_override_without_reason_is_a_usage_error(inputs: Path, tmp_path: Path) -> None:
    file = write_overrides(tmp_path / "ov.toml", 'rule = "test-sbin-demo"\nreason = "  "')
    with pytest.raises(LintError, match=r"ov.toml:1: an override needs a reason"):
        lint_paths([inputs], opts(overrides_file=file))
    result = run("check", str(inputs), "--overrides", str(file))
    assert result.exit_code == 2
    assert "needs a reason" in result.output


def test_overrides_file_beside_the_inputs(inputs: Path) -> None:
    write_overrides(inputs / "xenlint-overrides",
                    'rule = "test-sbin-demo"\nreason = "demo tools in /usr/sbin are fine"')
    report = lint_paths([inputs], opts())
    assert all(f.suppressed for f in report.findings if f.rule == "test-sbin-demo")
    report = lint_paths([inputs / "fixture.deb"], opts())  # beside a file given, too
    assert [f.suppressed for f in report.findings] == [True]


def test_config_file_and_pyproject(inputs: Path, tmp_path: Path) -> None:
    (tmp_path / "xenlint.toml").write_text(
        'profiles = ["domu"]\nfail-on = "warning"\nrule-dirs = ["in/../extra"]\n'
        'disable = ["test-needs-libc6"]\n[params.test-deb-version]\nfloor = "2:0"\n')
    (tmp_path / "extra").mkdir()
    shutil.copy(RULES / "test-deb-version.toml", tmp_path / "extra" / "extra-deb-version.toml")
    config = load_config(None)
    assert config.path == tmp_path / "xenlint.toml"
    assert config.profiles == ("domu",)
    assert config.fail_on is Severity.WARNING
    report = lint_paths([inputs], LintOptions(extra_rule_dirs=(RULES,), select=("extra-*",)))
    # the rule directory of the configuration was loaded; its rule keeps its own floor
    assert [r.id for r in report.rules] == ["extra-deb-version"]
    assert report.findings == []
    report = lint_paths([inputs], LintOptions(extra_rule_dirs=(RULES,), select=("test-*",)))
    assert keyed(report.findings) == [("test-deb-version", "fixture.deb", "domu")]
    assert "older than 2:0" in report.findings[0].message
    assert effective_fail_on(LintOptions()) is Severity.WARNING
    assert effective_fail_on(LintOptions(fail_on=Severity.ERROR)) is Severity.ERROR

    (tmp_path / "xenlint.toml").unlink()
    (tmp_path / "pyproject.toml").write_text('[tool.xenlint]\nprofiles = ["installer"]\n')
    assert find_config() == tmp_path / "pyproject.toml"
    assert load_config(None).profiles == ("installer",)


@pytest.mark.parametrize(("text", "message"), [
    ('profile = ["dom0"]', "unknown key(s) profile"),
    ('profiles = ["dom9"]', "unknown profile(s) dom9"),
    ('fail-on = "fatal"', "fail-on must be"),
    ('[[overrides]]\nrule = "x"', None),  # parsed later; the reason check is the overrides'
])
def test_config_errors(tmp_path: Path, text: str, message: str | None) -> None:
    path = tmp_path / "xenlint.toml"
    path.write_text(text)
    if message is None:
        assert load_config(path).overrides == ({"rule": "x"},)
        with pytest.raises(LintError, match="needs a reason"):
            lint_paths([], opts(config_path=path))
        return
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(path)


def test_exit_codes(inputs: Path, tmp_path: Path) -> None:
    assert run("check", str(inputs)).exit_code == 1  # errors
    assert run("check", str(inputs), "--ignore", "test-needs-libc6").exit_code == 0  # warnings
    result = run("check", str(inputs), "--ignore", "test-needs-libc6", "--fail-on", "warning")
    assert result.exit_code == 1
    assert run(str(inputs), "--profile", "installer").exit_code == 0  # bare `xenlint PATH`
    # an unreadable input: status 2, and the other inputs are still checked and reported
    result = run("check", str(inputs / "fixture.rpm"), str(tmp_path / "missing.deb"))
    assert result.exit_code == 2
    assert "test-needs-libc6" in result.output
    assert "missing.deb" in result.output
    # usage errors
    assert run("check", str(inputs), "--profile", "dom9").exit_code == 2
    assert run("check", str(inputs), "--select", "nope").exit_code == 2
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "broken-rule.toml").write_text('severity = "error"\n')
    result = run("check", str(inputs), "--rules-dir", str(broken))
    assert result.exit_code == 2
    assert "broken-rule.toml:1:1: missing required key" in result.output


def test_formats_and_output_file(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = run("check", str(inputs), "--format", "json", "--output", str(out),
                 "--profile", "dom0,domu")
    assert result.exit_code == 1
    data = json.loads(out.read_text())
    assert {p for f in data["findings"] for p in f["profiles"]} == {"dom0", "domu"}
    assert all(f["profile"] == f["profiles"][0] for f in data["findings"])
    result = run("check", str(inputs), "--remedies", "--profile", "dom0")
    # both package rules fix the same package: one group naming both findings
    assert "## packaging changes: package xenlint-fixture (" in result.output
    assert "#   test-needs-libc6 (error; dom0): " in result.output
    assert "Add libc6 to Depends." in result.output


def test_rules_and_explain_commands() -> None:
    result = CliRunner().invoke(main, ["rules", "--format", "json", "--rules-dir", str(RULES)])
    assert result.exit_code == 0
    rules = {r["id"]: r for r in json.loads(result.output)}
    assert rules["test-needs-libc6"] == {
        "id": "test-needs-libc6", "severity": "error", "profiles": ["dom0", "domu"],
        "checklist": ["meta-package"], "applies-to": "package",
        "summary": "Test rule: the package depends on libc6.", "params": {}}
    result = CliRunner().invoke(main, ["explain", "--markdown", "test-sbin-demo",
                                       "--rules-dir", str(RULES)])
    assert result.exit_code == 0
    assert "## How to fix\n\nMove the program to /usr/bin." in result.output
    assert "expect = 'not any f in package.files" in result.output
    assert CliRunner().invoke(main, ["explain", "no-such-rule"]).exit_code == 2
    assert CliRunner().invoke(main, ["explain", "unused-override"]).exit_code == 0


def test_lint_artifacts_with_the_inputs_given(inputs: Path) -> None:
    from xenlint.engine.lint import lint_artifacts
    from xenlint.readers import read_path

    write_overrides(inputs / "xenlint-overrides", 'rule = "test-set-has-doc"\nreason = "r"')
    arts = read_path(inputs / "fixture.rpm")
    report = lint_artifacts(arts, opts(profiles=("installer",)), inputs=[str(inputs)])
    assert [(f.rule, f.artifact, f.suppressed) for f in report.findings] == [
        ("test-set-has-doc", str(inputs), True)]

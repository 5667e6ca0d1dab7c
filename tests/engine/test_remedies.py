"""`xenlint check --remedies`: fixes merged per target, and what is printed is what the
tools (xenlint's own kconfig reader, dracut's shell syntax, Debian relation syntax) accept."""

from __future__ import annotations

import io
import json
import re
import shlex
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result
from debian.deb822 import PkgRelation

from xenlint.cli import main
from xenlint.engine.lint import LintOptions, lint_paths
from xenlint.engine.remedies import groups, kernel_config, remedies_json, render_remedies
from xenlint.engine.rulebook import DEFAULT_REMEDY_KIND, RuleError, load_rule, load_rulebook
from xenlint.finding import Finding, Remedy, Report, Severity
from xenlint.readers.kconfig import parse_config

REPO = Path(__file__).resolve().parent.parent.parent
SCHEMA = json.loads((REPO / "docs" / "schemas" / "findings.schema.json").read_text())
DEB = REPO / "fixtures" / "readers" / "deb" / "gzip.deb"
# a Xen guest kernel missing most of what the kernel rules ask for, dom0 support included
WEAK_CONFIG = """\
CONFIG_X86_64=y
CONFIG_XEN=y
CONFIG_PARAVIRT=y
# CONFIG_XEN_DOM0 is not set
# CONFIG_HVC_XEN is not set
CONFIG_XEN_BLKDEV_FRONTEND=m
"""


def check(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


def sections(output: str) -> dict[str, str]:
    """The remedies printed, by their `## ` title line."""
    out: dict[str, str] = {}
    for block in output.split("\n## ")[1:]:
        title, _, rest = block.partition("\n")
        out[title] = rest.split("\n\n")[0]
    return out


def one(sects: dict[str, str], prefix: str) -> str:
    found = [body for title, body in sects.items() if title.startswith(prefix)]
    assert len(found) == 1, list(sects)
    return found[0]


@pytest.fixture(autouse=True)
def no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from an empty folder, so no xenlint configuration is found."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def weak_config(tmp_path: Path) -> Path:
    path = tmp_path / "config-6.1.0-weak-amd64"
    path.write_text(WEAK_CONFIG)
    return path


def test_kernel_findings_merge_into_one_fragment_that_fixes_them(weak_config: Path) -> None:
    result = check(str(weak_config), "--remedies", "--profile", "dom0,domu,installer")
    assert result.exit_code == 1
    sects = sections(result.output)
    fragment = one(sects, "kernel config fragment: kernel 6.1.0-weak-amd64")
    kernel_rules = re.findall(r"^#   (\S+) \(", fragment, re.MULTILINE)
    assert len(kernel_rules) >= 3 and "kernel-without-xen-dom0" in kernel_rules
    lines = [ln for ln in fragment.splitlines() if ln.startswith("CONFIG_")]
    assert len(lines) == len({ln.split("=")[0] for ln in lines}), "an option twice"
    asked = parse_config(fragment)
    assert asked["CONFIG_XEN_DOM0"] == "y"
    # every option each failing rule's own fix asks for is in the merged fragment
    book = load_rulebook()
    for rule_id in kernel_rules:
        for option, value in parse_config(book.rules[rule_id].doc.fix).items():
            assert option in asked, (rule_id, option)
            assert value == asked[option] or asked[option] == "y", (rule_id, option)
    # ready to paste: the config with the fragment appended passes those rules
    fixed = weak_config.parent / "fixed" / weak_config.name
    fixed.parent.mkdir()
    fixed.write_text(WEAK_CONFIG + fragment + "\n")
    again = check(str(fixed), "--format", "json", "--profile", "dom0,domu,installer")
    still = {f["rule"] for f in json.loads(again.output)["findings"]}
    assert not still & set(kernel_rules), still


def test_conflicting_values_keep_the_stronger_and_say_so() -> None:
    remedy = Remedy("kernel-config", "k.deb", "kernel 6.1")
    report = Report(findings=[
        Finding("rule-a", Severity.ERROR, "domu", (), "k.deb", None, "a",
                "# a\nCONFIG_XEN_NETDEV_FRONTEND=m\nCONFIG_XEN=y", remedy=remedy),
        Finding("rule-b", Severity.ERROR, "domu", (), "k.deb", None, "b",
                "# b\nCONFIG_XEN_NETDEV_FRONTEND=y\n# CONFIG_XEN_TMEM is not set", remedy=remedy),
        Finding("rule-c", Severity.ERROR, "domu", (), "k.deb", None, "c",
                "CONFIG_XEN_TMEM=m", remedy=remedy)])
    [group] = groups(report)
    options, _, notes = kernel_config(group)
    assert options == {"CONFIG_XEN_NETDEV_FRONTEND": "y", "CONFIG_XEN": "y",
                       "CONFIG_XEN_TMEM": "m"}
    assert any("XEN_NETDEV_FRONTEND" in n and "rule-a" in n and "rule-b" in n and "=y" in n
               for n in notes), notes
    printed = remedies_json(report)[0]["text"]
    assert parse_config(printed) == options
    assert all(ln.startswith("#") for ln in printed.splitlines() if "rule-a" in ln)


def test_suppressed_findings_need_no_remedy() -> None:
    report = Report(findings=[Finding("r", Severity.ERROR, "dom0", (), "x.deb", None, "m",
                                      "Depends: y", suppressed=True, suppression_reason="ok")])
    out = io.StringIO()
    render_remedies(report, out)
    assert out.getvalue() == "# no remedies needed\n"


def test_itools_list_gets_one_dracut_line_with_both_frontends(corpus: Path) -> None:
    image = corpus / "initramfs" / "initrd.img-6.1.0-56-cloud-amd64.itools-list"
    result = check(str(image), "--remedies", "--profile", "domu")
    body = one(sections(result.output), "initramfs drivers:")
    drivers = [ln for ln in body.splitlines() if ln.startswith("add_drivers")]
    assert len(drivers) == 1
    # the line is shell, as dracut.conf is sourced: one assignment of a quoted word list
    name, _, value = drivers[0].partition("+=")
    assert name == "add_drivers"
    [words] = shlex.split(value)
    assert set(words.split()) == {"xen-blkfront", "xen-netfront"}
    assert words.startswith(" ") and words.endswith(" ")  # dracut's own advice for +=
    itools = body.split("# initramfs-tools: add to /etc/initramfs-tools/modules\n")[1]
    assert [ln for ln in itools.splitlines() if not ln.startswith("#")] == \
        ["xen-blkfront", "xen-netfront"]
    data = json.loads(check(str(image), "--remedies", "--format", "json",
                            "--profile", "domu").output)
    jsonschema.validate(data, SCHEMA)
    [ramdisk] = [r for r in data["remedies"] if r["kind"] == "initramfs-modules"]
    assert ramdisk["modules"] == ["xen-blkfront", "xen-netfront"]
    assert ramdisk["rules"] == ["initramfs-missing-xen-blkfront", "initramfs-missing-xen-netfront"]


def test_itools_most_needs_no_ramdisk_remedy(corpus: Path) -> None:
    image = corpus / "initramfs" / "initrd.img-6.1.0-56-cloud-amd64.itools-most"
    result = check(str(image), "--remedies", "--profile", "domu,installer")
    assert "add_drivers" not in result.output


def test_debian_meta_package_gets_a_depends_line_for_the_docs(corpus: Path) -> None:
    result = check(str(corpus / "deb"), "--remedies", "--profile", "dom0")
    body = one(sections(result.output), "package relations: package xen-system-amd64 ")
    assert "meta-package-missing-docs" in body
    depends = [ln for ln in body.splitlines() if ln.startswith("Depends:")]
    assert len(depends) == 1
    assert not [ln for ln in body.splitlines() if ln.startswith("Requires:")]
    relation = PkgRelation.parse_relations(depends[0].removeprefix("Depends:"))
    names = {alt["name"] for group in relation for alt in group}
    assert "xen-doc" in names
    # the package it names is one of the set that ships the documentation
    doc_debs = [p.name for p in (corpus / "deb").glob("*.deb")]
    assert any(p.startswith("xen-doc_") for p in doc_debs)


def test_rpm_meta_package_gets_requires_lines(corpus: Path) -> None:
    data = json.loads(check(str(corpus / "rpm"), "--remedies", "--format", "json",
                            "--profile", "dom0").output)
    jsonschema.validate(data, SCHEMA)
    [meta] = [r for r in data["remedies"] if r["label"] == "package xen-system-amd64"]
    assert meta["kind"] == "dependency"
    assert meta["relations"]["deb"] == {}
    assert "Requires: xen-doc" in meta["relations"]["rpm"]
    lines = [ln for ln in meta["text"].splitlines() if not ln.startswith("#")]
    assert lines and all(re.fullmatch(r"Requires: [A-Za-z0-9._+-]+", ln) for ln in lines)
    assert len(lines) == len(set(lines))


# --- the rule key and the fix template ---------------------------------------------------

RULE = """severity = "warning"
profiles = ["dom0"]
checklist = ["meta-package"]
applies-to = "package"
{extra}expect = 'package.name == "nothing"'
message = "{{package.name}} is not nothing"

[doc]
what = "What."
why = "Why."
fix = '''
# Debian control:
Depends: {{package.name}}-doc'''
"""


def test_remedy_kind_defaults_from_applies_to_and_is_validated(tmp_path: Path) -> None:
    path = tmp_path / "some-rule.toml"
    path.write_text(RULE.format(extra=""))
    assert load_rule(path).remedy_kind == DEFAULT_REMEDY_KIND["package"] == "packaging"
    path.write_text(RULE.format(extra='remedy-kind = "dependency"\n'))
    assert load_rule(path).remedy_kind == "dependency"
    path.write_text(RULE.format(extra='remedy-kind = "kernel"\n'))
    with pytest.raises(RuleError) as err:
        load_rule(path)
    assert (err.value.line, err.value.column) == (5, 16)
    assert "remedy-kind must be one of kernel-config" in err.value.message


def test_every_shipped_rule_names_its_remedy_kind() -> None:
    book = load_rulebook()
    assert not book.errors
    for rule in book:
        assert "\nremedy-kind = " in rule.path.read_text(), rule.id
    kinds = {r.remedy_kind for r in book}
    assert kinds == {"kernel-config", "initramfs-modules", "dependency", "packaging"}


def test_fix_is_filled_from_facts_and_braces_can_be_literal(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "tmp-doc-rule.toml").write_text(RULE.format(extra='remedy-kind = "dependency"\n'))
    report = lint_paths([DEB], LintOptions(extra_rule_dirs=(rules,), select=("tmp-doc-rule",),
                                           search_config=False))
    [finding] = report.findings
    assert finding.fix == "# Debian control:\nDepends: xenlint-fixture-doc"
    assert finding.remedy == Remedy("dependency", str(DEB), "package xenlint-fixture", "deb")
    # a fix naming an unknown fact is an error of the rule file, like a message
    (rules / "tmp-doc-rule.toml").write_text(
        RULE.format(extra="").replace("{package.name}-doc", "{package.nme}"))
    assert "unknown fact 'package.nme'" in _error(rules / "tmp-doc-rule.toml").message
    (rules / "tmp-doc-rule.toml").write_text(
        RULE.format(extra="").replace("{package.name}-doc", "ATTR{{state}}"))
    assert load_rule(rules / "tmp-doc-rule.toml").doc.fix.endswith("ATTR{state}")


def _error(path: Path) -> RuleError:
    with pytest.raises(RuleError) as err:
        load_rule(path)
    return err.value

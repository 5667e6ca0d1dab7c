"""`xenlint check --format text|json|sarif|junit` over corpus files: every output validates,
and all formats tell the same story.

Two rules written here guarantee findings (one suppressed by an override, one on each profile)
whatever the shipped rules find; the shipped rules under rules/ run too. The inputs are
symlinks in a temporary `inputs/` folder, plus a truncated package that cannot be read.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xmlschema
from click.testing import CliRunner

from xenlint.cli import main
from xenlint.engine.rulebook import load_rulebook

DEB = "_4.17.7+13-g2445b30a44-0+deb12u1_amd64.deb"
INPUTS = {
    "deb": [f"xenstore-utils{DEB}", f"xen-utils-common{DEB}", f"xen-utils-4.17{DEB}",
            "qemu-system-xen_1%3a7.2+dfsg-7+deb12u18+b3_amd64.deb"],
    "initramfs": ["initrd.img-6.1.0-56-cloud-amd64.dracut",
                  "initrd.img-6.1.0-56-cloud-amd64.itools-most",
                  "initrd.img-6.1.0-56-cloud-amd64.itools-list"],
    "kernel": ["config-6.1.0-56-cloud-amd64"],
    "rpm": ["xen-tools-badqemu-4.17.0-1.x86_64.rpm"],
}
BROKEN = "truncated_1.0_amd64.deb"
ITOOLS = "inputs/initrd.img-6.1.0-56-cloud-amd64.itools-most"
# shipped rules issue 4 names, and the input (known from MANIFEST.md) each must flag
ISSUE_RULES = {
    "initramfs-missing-xen-blkfront": "inputs/initrd.img-6.1.0-56-cloud-amd64.itools-list",
    "libxl-device-model-not-shipped": "inputs/xen-tools-badqemu-4.17.0-1.x86_64.rpm",
}

RULES = {
    "e2e-package-named-xen": '''
severity = "error"
profiles = ["dom0"]
checklist = ["meta-package"]
applies-to = "package"
when = 'package.name matches "*xen*"'
expect = 'package.name == "nothing-is-called-this"'
message = "package {package.name} is flagged by the end-to-end test rule"
location = "/usr/share/doc/{package.name}"

[doc]
what = "Flags every package whose name holds xen (end-to-end test rule)."
why = "To give every reporter findings from a real run."
fix = "Nothing to fix: this rule exists for tests."
references = ["https://wiki.xenproject.org/wiki/Category:Manual"]
''',
    "e2e-initramfs-not-dracut": '''
severity = "warning"
profiles = ["domu", "installer"]
checklist = ["pv-drivers-in-ramdisk"]
applies-to = "initramfs"
expect = 'initramfs.generator == "dracut"'
message = "initramfs made by {initramfs.generator}, not dracut (end-to-end test rule)"

[doc]
what = "Flags an initramfs not made by dracut (end-to-end test rule)."
why = "To give every reporter findings on more than one profile."
fix = 'add_drivers+=" xen-blkfront "'
''',
}
OVERRIDES = '''
[[overrides]]
rule = "e2e-package-named-xen"
artifact = "xenstore-utils_*.deb"
reason = "xenstore-utils is accepted in the end-to-end test"
'''

Runner = Callable[..., tuple[int, str]]


def _layout(corpus: Path, root: Path) -> list[str]:
    """inputs/ under `root`: symlinks to corpus files and one truncated package."""
    inputs = root / "inputs"
    inputs.mkdir(parents=True)
    for sub, names in INPUTS.items():
        for name in names:
            (inputs / name).symlink_to(corpus / sub / name)
    small = corpus / "deb" / f"xenstore-utils{DEB}"
    (inputs / BROKEN).write_bytes(small.read_bytes()[:3000])
    return sorted(f"inputs/{p.name}" for p in inputs.iterdir())


@pytest.fixture(scope="module")
def run(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """`run(fmt, root=...)`: xenlint check in `root` (cwd), returning (exit status, stdout)."""
    setup = tmp_path_factory.mktemp("e2e-setup")
    rules = setup / "rules"
    rules.mkdir()
    for rule_id, text in RULES.items():
        (rules / f"{rule_id}.toml").write_text(text)
    (setup / "overrides.toml").write_text(OVERRIDES)
    roots: dict[str, Path] = {}
    cache: dict[tuple[str, str], tuple[int, str]] = {}

    def run_in(fmt: str, root: str = "a", *extra: str) -> tuple[int, str]:
        key = (fmt + " ".join(extra), root)
        if key not in cache:
            if root not in roots:
                roots[root] = tmp_path_factory.mktemp("e2e") / root
                roots[root].mkdir(parents=True)
                _layout(corpus, roots[root])
            paths = sorted(f"inputs/{p.name}" for p in (roots[root] / "inputs").iterdir())
            with pytest.MonkeyPatch.context() as mp:
                mp.chdir(roots[root])
                result = CliRunner().invoke(main, [
                    "check", "--format", fmt, "--rules-dir", str(rules),
                    "--overrides", str(setup / "overrides.toml"), *extra, *paths])
            if result.exception and not isinstance(result.exception, SystemExit):
                raise result.exception
            cache[key] = (result.exit_code, result.stdout)
        return cache[key]

    return run_in


def _json(run: Runner) -> dict[str, Any]:
    status, out = run("json")
    assert status == 2  # one input could not be read; the others are still reported
    data: dict[str, Any] = json.loads(out)
    return data


def test_json_validates_and_holds_the_test_rules_findings(run: Runner) -> None:
    schema = json.loads((Path(__file__).resolve().parents[2] / "docs" / "schemas"
                         / "findings.schema.json").read_text())
    data = _json(run)
    jsonschema.Draft202012Validator(schema).validate(data)
    mine = [f for f in data["findings"] if f["rule"] == "e2e-package-named-xen"]
    assert sorted(f["artifact"] for f in mine) == sorted(
        f"inputs/{n}" for n in INPUTS["deb"] + INPUTS["rpm"])
    for f in mine:
        name = re.fullmatch(r"package (\S+) is flagged by the end-to-end test rule", f["message"])
        assert name and f["location"] == f"/usr/share/doc/{name.group(1)}"
        assert Path(f["artifact"]).name.startswith(name.group(1))
    [waived] = [f for f in mine if f["suppressed"]]
    assert waived["artifact"] == f"inputs/xenstore-utils{DEB}"
    assert waived["suppression_reason"] == "xenstore-utils is accepted in the end-to-end test"
    dracut = [f for f in data["findings"] if f["rule"] == "e2e-initramfs-not-dracut"]
    # one finding per problem, listing every profile it was found for
    assert sorted((f["artifact"], f["profile"], tuple(f["profiles"])) for f in dracut) == sorted(
        (f"inputs/{name}", "domu", ("domu", "installer")) for name in INPUTS["initramfs"]
        if "itools" in name)
    assert [e["artifact"] for e in data["errors"]] == [f"inputs/{BROKEN}"]
    active = [f for f in data["findings"] if not f["suppressed"]]
    for severity in ("error", "warning", "info"):
        assert data["summary"][severity] == sum(f["severity"] == severity for f in active)
    assert data["summary"]["suppressed"] == len(data["findings"]) - len(active)


def test_sarif_validates_and_matches_the_json(run: Runner, schemas: Path) -> None:
    schema = json.loads((schemas / "sarif-schema-2.1.0.json").read_text())
    status, out = run("sarif")
    assert status == 2
    log = json.loads(out)
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    [sarif_run] = log["runs"]
    data = _json(run)
    assert [r["ruleId"] for r in sarif_run["results"]] == [f["rule"] for f in data["findings"]]
    driver_rules = [r["id"] for r in sarif_run["tool"]["driver"]["rules"]]
    assert set(driver_rules) >= {r["id"] for r in data["rules"]} | set(RULES)
    for rule in sarif_run["tool"]["driver"]["rules"]:
        assert rule["help"]["text"] and rule["shortDescription"]["text"]
    suppressed = [r for r in sarif_run["results"] if r.get("suppressions")]
    assert len(suppressed) == data["summary"]["suppressed"] >= 1
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in sarif_run["results"]}
    # a '%' in a file name is escaped, so the uri names the real file
    assert "inputs/qemu-system-xen_1%253a7.2+dfsg-7+deb12u18+b3_amd64.deb" in uris
    assert f"inputs/xenstore-utils{DEB}" in uris
    assert sarif_run["invocations"][0]["executionSuccessful"] is False


def test_sarif_fingerprints_do_not_depend_on_the_checkout_directory(run: Runner) -> None:
    here = json.loads(run("sarif", "a")[1])["runs"][0]["results"]
    there = json.loads(run("sarif", "b/deeper/tree")[1])["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in here] == [r["partialFingerprints"] for r in there]
    assert len({r["partialFingerprints"]["xenlintFinding/v1"] for r in here}) == len(here)


def test_junit_validates_and_fails_the_flagged_rules(run: Runner, schemas: Path) -> None:
    status, out = run("junit")
    assert status == 2
    xmlschema.XMLSchema(str(schemas / "junit.xsd")).validate(out)
    root = ET.fromstring(out)
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    itools = suites[ITOOLS]
    [case] = [c for c in itools.findall("testcase") if c.get("name") == "e2e-initramfs-not-dracut"]
    failure = case.find("failure")
    assert failure is not None and "[domu, installer]" in (failure.text or "")
    assert "add_drivers+=" in (failure.text or "")
    broken = suites[f"inputs/{BROKEN}"]
    assert [c.get("name") for c in broken.findall("testcase")] == ["read-error"]
    waived = [c for c in suites[f"inputs/xenstore-utils{DEB}"].findall("testcase")
              if c.get("name") == "e2e-package-named-xen"]
    assert waived[0].find("skipped") is not None


def test_text_has_a_line_per_finding_and_the_summary(run: Runner) -> None:
    status, out = run("text")
    assert status == 2
    lines = out.splitlines()
    data = _json(run)
    # the `X:` lines of unreadable inputs go to standard error, not into the report
    entries = len(data["findings"]) + len(data["unknowns"])
    assert len(lines) == entries + 1 and data["errors"]
    assert not any(line.startswith("X: ") for line in lines)
    # "inputs" alone names the package set as a whole (findings of package-set rules)
    assert all(re.match(r"^[EWIOU]: inputs[/:]", line) for line in lines[:-1])
    assert "\x1b[" not in out  # not a terminal, so no colour
    assert lines[-1].endswith(f"{len(data['artifacts'])} artifacts")
    assert sum(line.startswith("O: ") for line in lines) == data["summary"]["suppressed"]


def test_shipped_issue_rules_go_through_every_reporter(run: Runner) -> None:
    """The shipped rules of issue 4 that exist in rules/ flag their corpus input everywhere."""
    shipped = set(load_rulebook().rules)
    data = _json(run)
    sarif = json.loads(run("sarif")[1])["runs"][0]
    junit = {s.get("name"): s for s in ET.fromstring(run("junit")[1]).findall("testsuite")}
    text = run("text")[1].splitlines()
    for rule, artifact in ISSUE_RULES.items():
        if rule not in shipped:
            continue
        assert any(f["rule"] == rule and f["artifact"] == artifact for f in data["findings"])
        assert any(r["ruleId"] == rule and r["locations"][0]["physicalLocation"]
                   ["artifactLocation"]["uri"] == artifact for r in sarif["results"])
        [case] = [c for c in junit[artifact].findall("testcase") if c.get("name") == rule]
        assert case.find("failure") is not None
        assert any(line.startswith(f"E: {artifact}: {rule} ") for line in text)

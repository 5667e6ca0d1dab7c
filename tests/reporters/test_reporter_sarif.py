"""The SARIF reporter: valid against the shared SARIF 2.1.0 schema, what GitHub code scanning
needs on every result, and fingerprints that do not depend on where the files sit."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest
from reporter_samples import KERNEL_DEB, sample_report

from xenlint.finding import Report, Severity
from xenlint.reporters import render
from xenlint.reporters.sarif import FINGERPRINT_KEY, SRCROOT, sarif_log


def as_sarif(report: Report, base: Path | None = None) -> dict[str, Any]:
    if base is None:
        out = io.StringIO()
        render("sarif", report, out)
        data: dict[str, Any] = json.loads(out.getvalue())
        return data
    return json.loads(json.dumps(sarif_log(report, base)))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def validator(schemas: Path) -> jsonschema.protocols.Validator:
    schema = json.loads((schemas / "sarif-schema-2.1.0.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)  # type: ignore[no-any-return]


# RFC 3986 URI-reference characters, with %XX escapes only (the schema's "uri-reference"
# format is not checked without the optional rfc3987 package)
URI_REF = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#]|%[0-9A-Fa-f]{2})*$")


def fingerprints(log: dict[str, Any]) -> list[str]:
    return [r["partialFingerprints"][FINGERPRINT_KEY] for r in log["runs"][0]["results"]]


def test_validates_against_the_shared_schema(validator: jsonschema.protocols.Validator) -> None:
    validator.validate(as_sarif(sample_report()))
    validator.validate(as_sarif(Report()))
    validator.validate(as_sarif(sample_report("/elsewhere/"), base=Path("/work")))


def test_schema_is_not_vacuous(validator: jsonschema.protocols.Validator) -> None:
    log = as_sarif(sample_report())
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert not validator.is_valid(log)
    log = as_sarif(sample_report())
    log["runs"][0]["results"][3]["suppressions"][0]["kind"] = "forgotten"
    assert not validator.is_valid(log)


def test_every_result_has_what_github_requires() -> None:
    report = sample_report()
    log = as_sarif(report)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len(run["results"]) == len(report.findings)
    for res, f in zip(run["results"], report.findings, strict=True):
        assert res["ruleId"] == f.rule == rules[res["ruleIndex"]]["id"]
        assert res["message"]["text"]
        assert res["level"] == {"error": "error", "warning": "warning", "info": "note"}[
            f.severity.value]
        [loc] = res["locations"]
        phys = loc["physicalLocation"]
        assert phys["region"]["startLine"] >= 1
        assert unquote(phys["artifactLocation"]["uri"]) == f.artifact
        assert phys["artifactLocation"]["uriBaseId"] == SRCROOT
        assert URI_REF.match(phys["artifactLocation"]["uri"])
        prints = res["partialFingerprints"]
        assert len(prints[FINGERPRINT_KEY]) == 64
        # given, so that upload-sarif does not hash "lines" of a binary file instead
        assert prints["primaryLocationLineHash"] == prints[FINGERPRINT_KEY]
    assert run["originalUriBaseIds"][SRCROOT]["uri"] == Path.cwd().as_uri() + "/"


def test_path_inside_the_artifact_is_in_the_message_and_a_logical_location() -> None:
    first = as_sarif(sample_report())["runs"][0]["results"][0]
    assert "/boot/vmlinuz-6.1.0-13-amd64" in first["message"]["text"]
    assert KERNEL_DEB not in first["message"]["text"]
    [logical] = first["locations"][0]["logicalLocations"]
    assert logical["name"] == "vmlinuz-6.1.0-13-amd64"
    assert logical["fullyQualifiedName"] == \
        "linux-image-6.1.0-13-amd64_6.1.55-1_amd64.deb!/boot/vmlinuz-6.1.0-13-amd64"
    whole_file = as_sarif(sample_report())["runs"][0]["results"][1]
    assert "logicalLocations" not in whole_file["locations"][0]


def test_rule_metadata_has_the_help_text() -> None:
    report = sample_report()
    rules = as_sarif(report)["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in report.rules]
    blkback = rules[0]
    info = report.rules[0]
    assert blkback["shortDescription"]["text"] == info.summary
    assert blkback["fullDescription"]["text"] == info.what
    for part in (info.what, info.why, info.fix, info.references[0]):
        assert part in blkback["help"]["text"]
        assert part in blkback["help"]["markdown"]
    assert blkback["helpUri"] == info.references[0]
    assert blkback["defaultConfiguration"]["level"] == "error"
    assert blkback["properties"]["checklist"] == list(info.checklist)
    assert blkback["properties"]["profiles"] == list(info.profiles)
    assert rules[2]["defaultConfiguration"]["level"] == "note"
    assert "helpUri" not in rules[1]


def test_rules_named_only_by_findings_are_described_too(
        validator: jsonschema.protocols.Validator) -> None:
    report = sample_report()
    report.rules = []
    log = as_sarif(report)
    validator.validate(log)
    ids = [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]]
    assert sorted(ids) == sorted({f.rule for f in report.findings})


def test_suppressed_finding_carries_the_reason() -> None:
    results = as_sarif(sample_report())["runs"][0]["results"]
    suppressed = [r for r in results if "suppressions" in r]
    assert len(suppressed) == 1
    assert suppressed[0]["ruleId"] == "libxl-device-model-not-shipped"
    assert suppressed[0]["suppressions"] == [
        {"kind": "external", "status": "accepted",
         "justification": "qemu comes from qemu-system-xen"}]


def test_read_errors_and_unknowns_are_notifications() -> None:
    [invocation] = as_sarif(sample_report())["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    levels = [(n["level"], n["descriptor"]["id"]) for n in invocation["toolExecutionNotifications"]]
    assert levels == [("error", "read-error"), ("note", "unknown")]
    unknown = invocation["toolExecutionNotifications"][1]
    assert unknown["associatedRule"]["id"] == "initramfs-missing-xen-blkfront"
    clean = sample_report()
    clean.errors.clear()
    assert as_sarif(clean)["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_fingerprints_are_stable_across_renders_and_directories() -> None:
    once = fingerprints(as_sarif(sample_report()))
    again = fingerprints(as_sarif(sample_report()))
    assert once == again
    assert len(set(once)) == len(once)
    moved = fingerprints(as_sarif(sample_report("/srv/mirror/"), base=Path("/srv/mirror")))
    elsewhere = fingerprints(as_sarif(sample_report("/tmp/x/y/"), base=Path("/")))
    assert once == moved == elsewhere


def test_fingerprints_change_with_rule_file_name_location_and_profile() -> None:
    base = sample_report().findings[0]
    variants = [base, replace(base, rule="other-rule"), replace(base, profile="domu"),
                replace(base, artifact="pool/linux-image-6.1.0-14-amd64_6.1.56-1_amd64.deb",
                        location="/boot/vmlinuz-6.1.0-13-amd64"),
                replace(base, location=f"{KERNEL_DEB}!/boot/config-6.1.0-13-amd64")]
    prints = fingerprints(as_sarif(Report(findings=variants)))
    assert len(set(prints)) == len(variants)
    # the message is not part of the identity: rewording a message keeps the alert
    reworded = fingerprints(as_sarif(Report(findings=[replace(base, message="other words")])))
    assert reworded[0] == prints[0]


def test_uris_relative_under_the_base_and_absolute_outside(tmp_path: Path) -> None:
    odd = "pool/weird name:1+2~3%.deb"
    report = Report(findings=[replace(sample_report().findings[1], artifact=odd),
                              replace(sample_report().findings[1],
                                      artifact="/outside/images/initrd.img")])
    results = as_sarif(report, base=tmp_path)["runs"][0]["results"]
    inside = results[0]["locations"][0]["physicalLocation"]["artifactLocation"]
    outside = results[1]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert inside["uriBaseId"] == SRCROOT
    assert ":" not in inside["uri"]
    assert URI_REF.match(inside["uri"]) and URI_REF.match(outside["uri"])
    assert unquote(inside["uri"]) == odd
    assert "uriBaseId" not in outside
    parts = urlsplit(outside["uri"])
    assert parts.scheme == "file" and unquote(parts.path) == "/outside/images/initrd.img"


def test_levels_cover_every_severity() -> None:
    f = sample_report().findings[0]
    results = as_sarif(Report(findings=[replace(f, severity=s) for s in Severity]))
    assert [r["level"] for r in results["runs"][0]["results"]] == ["error", "warning", "note"]


def test_undecodable_file_names_keep_their_bytes_in_the_uri() -> None:
    f = replace(sample_report().findings[1], artifact="images/initrd-caf\udce9.img")
    out = io.StringIO()
    render("sarif", Report(findings=[f]), out)
    out.getvalue().encode("utf-8")
    [res] = json.loads(out.getvalue())["runs"][0]["results"]
    assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "images/initrd-caf%E9.img"

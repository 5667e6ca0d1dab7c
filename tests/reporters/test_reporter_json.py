"""The JSON reporter: the keys issue 4 names, valid against docs/schemas/findings.schema.json."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from reporter_samples import BROKEN, INITRD, KERNEL_DEB, XEN_DEB, sample_report

from xenlint.finding import Report
from xenlint.reporters import render

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "findings.schema.json"
FINDING_KEYS = {"rule", "severity", "profile", "checklist", "artifact", "location", "message",
                "fix", "suppressed"}


def as_json(report: Report) -> dict[str, Any]:
    out = io.StringIO()
    render("json", report, out)
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_validates_against_its_schema(validator: jsonschema.Draft202012Validator) -> None:
    validator.validate(as_json(sample_report()))
    validator.validate(as_json(Report()))


def test_schema_rejects_what_the_format_forbids(
        validator: jsonschema.Draft202012Validator) -> None:
    data = as_json(sample_report())
    bad_severity = json.loads(json.dumps(data))
    bad_severity["findings"][0]["severity"] = "fatal"
    missing_fix = json.loads(json.dumps(data))
    del missing_fix["findings"][0]["fix"]
    reasonless = json.loads(json.dumps(data))
    reasonless["findings"][3]["suppression_reason"] = None
    no_summary = {k: v for k, v in data.items() if k != "summary"}
    for broken in (bad_severity, missing_fix, reasonless, no_summary):
        assert not validator.is_valid(broken)


def test_findings_carry_the_issue_keys() -> None:
    report = sample_report()
    data = as_json(report)
    assert len(data["findings"]) == len(report.findings)
    for got, f in zip(data["findings"], report.findings, strict=True):
        assert got.keys() >= FINDING_KEYS
        assert (got["rule"], got["severity"], got["profile"], got["message"], got["fix"],
                got["suppressed"]) == (f.rule, f.severity.value, f.profile, f.message, f.fix,
                                       f.suppressed)
        assert got["checklist"] == list(f.checklist)


def test_locations_are_inside_the_artifact() -> None:
    findings = as_json(sample_report())["findings"]
    assert findings[0]["artifact"] == KERNEL_DEB
    # the engine spelled it "outer.deb!/boot/..."; JSON keeps only the part inside
    assert findings[0]["location"] == "/boot/vmlinuz-6.1.0-13-amd64"
    assert findings[1]["artifact"] == INITRD
    assert findings[1]["location"] is None


def test_suppressed_unknowns_errors_and_summary() -> None:
    data = as_json(sample_report())
    [suppressed] = [f for f in data["findings"] if f["suppressed"]]
    assert suppressed["suppression_reason"] == "qemu comes from qemu-system-xen"
    assert all(f["suppression_reason"] is None for f in data["findings"] if not f["suppressed"])
    assert data["unknowns"] == [{"rule": "initramfs-missing-xen-blkfront", "profile": "domu",
                                 "artifact": XEN_DEB, "location": None,
                                 "missing": "initramfs.modules", "reason": "",
                                 "absent_packages": []}]
    assert data["errors"] == [{"artifact": BROKEN,
                               "message": "truncated ar archive: member data.tar.xz ends early"}]
    assert data["summary"] == {"error": 1, "warning": 2, "info": 0, "suppressed": 1,
                               "errors": 1, "unknowns": 1, "artifacts": 4}
    assert [r["id"] for r in data["rules"]] == [r.id for r in sample_report().rules]


def test_text_is_kept_as_is() -> None:
    report = sample_report()
    report.findings[0] = replace(report.findings[0],
                                 message='config "CONFIG_XEN_DOM0" is n — “quoted” \\ tab\t')
    assert as_json(report)["findings"][0]["message"] == \
        'config "CONFIG_XEN_DOM0" is n — “quoted” \\ tab\t'

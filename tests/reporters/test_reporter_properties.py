"""Any text a finding can hold (newlines, control bytes, undecodable names) still gives valid,
UTF-8-writable output in every format."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest
import xmlschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xenlint.finding import Finding, ReadError, Report, Severity, Unknown
from xenlint.reporters import render

# every code point, lone surrogates included: readers decode names with surrogateescape
ANY_TEXT = st.text(st.characters(blacklist_categories=()), max_size=40)
PATHS = st.lists(st.text(st.characters(blacklist_categories=(), blacklist_characters="/!\0"),
                         min_size=1, max_size=12), min_size=1, max_size=3).map("/".join)
RULES = st.sampled_from(["dom0-kernel-without-blkback", "initramfs-missing-xen-blkfront"])

findings = st.builds(
    Finding, rule=RULES, severity=st.sampled_from(list(Severity)),
    profile=st.sampled_from(["dom0", "domu", "installer"]),
    checklist=st.tuples(st.sampled_from(["dom0-kernel", "domu-initramfs"])),
    artifact=PATHS, location=st.none() | ANY_TEXT, message=ANY_TEXT, fix=ANY_TEXT,
    suppressed=st.booleans(), suppression_reason=st.none() | ANY_TEXT)
reports = st.builds(
    Report, findings=st.lists(findings, max_size=4),
    unknowns=st.lists(st.builds(Unknown, rule=RULES, profile=st.just("domu"), artifact=PATHS,
                                missing=ANY_TEXT), max_size=2),
    errors=st.lists(st.builds(ReadError, artifact=PATHS, message=ANY_TEXT), max_size=2))

FINDINGS_SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "findings.schema.json"


def rendered(fmt: str, report: Report) -> str:
    out = io.StringIO()
    render(fmt, report, out, color=True)
    text = out.getvalue()
    text.encode("utf-8")  # strict: what a UTF-8 stdout or --output file would do
    return text


@pytest.fixture(scope="module")
def validators(schemas: Path) -> tuple[jsonschema.protocols.Validator,
                                      jsonschema.protocols.Validator, xmlschema.XMLSchema]:
    sarif = json.loads((schemas / "sarif-schema-2.1.0.json").read_text())
    ours = json.loads(FINDINGS_SCHEMA.read_text())
    return (jsonschema.validators.validator_for(sarif)(sarif),
            jsonschema.Draft202012Validator(ours),
            xmlschema.XMLSchema(str(schemas / "junit.xsd")))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report=reports)
def test_every_format_stays_valid(
        validators: tuple[jsonschema.protocols.Validator, jsonschema.protocols.Validator,
                          xmlschema.XMLSchema], report: Report) -> None:
    sarif, ours, junit = validators
    lines = rendered("text", report).splitlines()
    assert len(lines) == len(report.findings) + len(report.unknowns) + len(report.errors) + 1
    ours.validate(json.loads(rendered("json", report)))
    log = json.loads(rendered("sarif", report))
    sarif.validate(log)
    assert len(log["runs"][0]["results"]) == len(report.findings)
    junit.validate(rendered("junit", report))

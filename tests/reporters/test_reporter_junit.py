"""The JUnit reporter: valid against the shared Ant JUnit XSD, one testcase per rule per input."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
import xmlschema
from reporter_samples import BROKEN, INITRD, KERNEL_DEB, XEN_DEB, sample_report

from xenlint.finding import ReadError, Report
from xenlint.reporters import render


def as_xml(report: Report) -> str:
    out = io.StringIO()
    render("junit", report, out)
    return out.getvalue()


@pytest.fixture(scope="module")
def xsd(schemas: Path) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(schemas / "junit.xsd"))


def suites(report: Report) -> dict[str, ET.Element]:
    root = ET.fromstring(as_xml(report))
    assert root.tag == "testsuites"
    return {s.get("name", ""): s for s in root.findall("testsuite")}


def case(suite: ET.Element, name: str) -> ET.Element:
    [found] = [c for c in suite.findall("testcase") if c.get("name") == name]
    return found


def test_validates_against_the_shared_xsd(xsd: xmlschema.XMLSchema) -> None:
    xsd.validate(as_xml(sample_report()))
    xsd.validate(as_xml(Report()))


def test_xsd_is_not_vacuous(xsd: xmlschema.XMLSchema) -> None:
    text = as_xml(sample_report())
    assert not xsd.is_valid(text.replace(' type="error"', "", 1))
    assert not xsd.is_valid(text.replace("<system-out />", "", 1))


def test_one_testcase_per_rule_per_readable_input() -> None:
    report = sample_report()
    by_name = suites(report)
    assert list(by_name) == [KERNEL_DEB, INITRD, XEN_DEB, BROKEN]
    rule_ids = [r.id for r in report.rules]
    for artifact in (KERNEL_DEB, INITRD, XEN_DEB):
        cases = by_name[artifact].findall("testcase")
        assert [c.get("name") for c in cases] == rule_ids
        assert {c.get("classname") for c in cases} == {artifact}


def test_findings_fail_with_message_and_fix() -> None:
    kernel = suites(sample_report())[KERNEL_DEB]
    failure = case(kernel, "dom0-kernel-without-blkback").find("failure")
    assert failure is not None
    assert failure.get("type") == "error"
    assert "CONFIG_XEN_BLKDEV_BACKEND is n" in (failure.get("message") or "")
    body = failure.text or ""
    assert "/boot/vmlinuz-6.1.0-13-amd64" in body
    assert "fix: Set CONFIG_XEN_BLKDEV_BACKEND=m." in body
    # rules without findings on this input pass: no child element
    assert list(case(kernel, "libxl-device-model-not-shipped")) == []


def test_two_findings_of_one_rule_share_the_one_failure_the_schema_allows() -> None:
    initrd = suites(sample_report())[INITRD]
    testcase = case(initrd, "initramfs-missing-xen-blkfront")
    [failure] = list(testcase)
    assert failure.tag == "failure"
    assert (failure.get("message") or "").startswith("2 findings; first: ")
    assert "[domu]" in (failure.text or "") and "[installer]" in (failure.text or "")


def test_suppressed_and_unknown_are_skipped_with_the_reason() -> None:
    xen = suites(sample_report())[XEN_DEB]
    suppressed = case(xen, "libxl-device-model-not-shipped").find("skipped")
    assert suppressed is not None
    assert suppressed.get("message") == "suppressed: qemu comes from qemu-system-xen"
    unknown = case(xen, "initramfs-missing-xen-blkfront").find("skipped")
    assert unknown is not None
    assert unknown.get("message") == "unknown: needs initramfs.modules (domu)"


def test_unreadable_input_is_one_error_testcase() -> None:
    broken = suites(sample_report())[BROKEN]
    [only] = broken.findall("testcase")
    assert only.get("name") == "read-error"
    error = only.find("error")
    assert error is not None
    assert error.get("type") == "read-error"
    assert error.get("message") == "truncated ar archive: member data.tar.xz ends early"


def test_nested_read_error_keeps_the_rules_of_its_input(xsd: xmlschema.XMLSchema) -> None:
    report = sample_report()
    report.errors.append(ReadError(f"{KERNEL_DEB}!/boot/initrd.img-6.1.0-13-amd64",
                                   "lz4 frame is truncated"))
    xsd.validate(as_xml(report))
    kernel = suites(report)[KERNEL_DEB]
    names = [c.get("name") for c in kernel.findall("testcase")]
    assert names == [*(r.id for r in report.rules),
                     "read-error [/boot/initrd.img-6.1.0-13-amd64]"]


def test_suite_counts_match_their_testcases() -> None:
    for suite in suites(sample_report()).values():
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "-1")) == len(cases)
        for attr, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
            assert int(suite.get(attr, "-1")) == sum(c.find(tag) is not None for c in cases)


def test_control_characters_do_not_break_the_xml(xsd: xmlschema.XMLSchema) -> None:
    report = sample_report()
    report.findings[0] = replace(report.findings[0], message="bad \x00\x1b[31m byte & <tag>")
    text = as_xml(report)
    xsd.validate(text)
    failure = case(suites(report)[KERNEL_DEB], "dom0-kernel-without-blkback").find("failure")
    assert failure is not None
    assert "& <tag>" in (failure.get("message") or "")


def test_timestamp_honours_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    stamps = {s.get("timestamp") for s in suites(sample_report()).values()}
    assert stamps == {"1970-01-02T00:00:00"}
    assert as_xml(sample_report()) == as_xml(sample_report())


def test_blank_names_still_give_valid_tokens(xsd: xmlschema.XMLSchema) -> None:
    # found by the hypothesis test: xs:token names must not collapse to nothing
    report = Report(findings=[replace(sample_report().findings[0], artifact="\n", location=None)],
                    errors=[ReadError(" ", "unreadable")])
    xsd.validate(as_xml(report))
    assert set(suites(report)) == {"\\n", "' '"}

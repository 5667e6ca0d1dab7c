"""JUnit XML for CI test views: one testsuite per input, one testcase per rule per input.

Scheme: `<testsuite name=ARTIFACT>` holds `<testcase classname=ARTIFACT name=RULE-ID>` for every
rule of the run that could apply to that input's kinds (a kernel rule is not a passed test of a
package that holds no kernel). A rule with findings on that input fails: the schema allows
one `<failure>` per testcase, so all its findings go into that one element (message of the
first or a count; each finding with its profiles, path inside, message and fix in the body).
A rule whose findings are all suppressed, or whose answer is unknown, is `<skipped>` with the
reason. An input that could not be read is a testcase named `read-error` holding an
`<error>`; a wholly unreadable input gets no rule testcases, since no rule looked at it.
"""

from __future__ import annotations

import os
import re
import socket
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import TextIO

from xenlint import __version__
from xenlint.finding import Finding, Report, Unknown
from xenlint.reporters.locations import (
    artifact_file,
    finding_inner,
    inner_location,
    report_artifacts,
)
from xenlint.reporters.strings import printable, safe_text

# XML 1.0 cannot carry most control characters, even escaped
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", safe_text(text))


def _token(text: str) -> str:
    """A name attribute (xs:token, at least one character once whitespace is collapsed)."""
    shown = printable(text)
    return shown if shown.split() else repr(text)


def _timestamp() -> str:
    # SOURCE_DATE_EPOCH makes the output reproducible; the schema wants no time zone suffix
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = datetime.fromtimestamp(int(epoch), UTC) if epoch and epoch.isdigit() \
        else datetime.now(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def _describe(f: Finding) -> str:
    inner = finding_inner(f)
    where = f"{inner}: " if inner else ""
    lines = [f"[{', '.join(f.all_profiles)}] {where}{f.message}"]
    if f.fix:
        lines.append(f"fix: {f.fix}")
    if f.suppressed:
        lines.append(f"suppressed: {f.suppression_reason or 'no reason given'}")
    return "\n".join(lines)


def _outcome(case: ET.Element, findings: list[Finding], unknowns: list[Unknown]) -> str:
    """Fill one rule's testcase; return 'failure', 'skipped' or 'passed'."""
    active = [f for f in findings if not f.suppressed]
    body = "\n\n".join(_describe(f) for f in [*active, *(f for f in findings if f.suppressed)])
    if active:
        worst = max((f.severity for f in active), key=lambda s: s.rank)
        first = active[0]
        inner = finding_inner(first)
        message = f"{inner}: {first.message}" if inner else first.message
        if len(active) > 1:
            message = f"{len(active)} findings; first: {message}"
        el = ET.SubElement(case, "failure", message=_clean(message), type=worst.value)
        el.text = _clean(body)
        return "failure"
    if findings:
        el = ET.SubElement(case, "skipped", message=_clean(
            "suppressed: " + "; ".join(f.suppression_reason or "no reason given"
                                       for f in findings)))
        el.text = _clean(body)
        return "skipped"
    if unknowns:
        ET.SubElement(case, "skipped", message=_clean("unknown: " + "; ".join(
            f"needs {u.missing}{': ' + u.reason if u.reason else ''} ({u.profile})"
            for u in unknowns)))
        return "skipped"
    return "passed"


def _rule_ids(report: Report, artifact: str) -> list[str]:
    """The rules of the run that could apply to `artifact` (its kinds, when the report
    knows them: a kernel rule is no passed test of a package without a kernel), and every
    rule that found something or was unknown there."""
    kinds = report.kinds.get(artifact)
    ids = [r.id for r in report.rules
           if kinds is None or not r.applies_to or r.applies_to in kinds]
    ids += [f.rule for f in report.findings if artifact_file(f.artifact) == artifact]
    ids += [u.rule for u in report.unknowns if artifact_file(u.artifact) == artifact]
    return list(dict.fromkeys(ids))


def _suite(report: Report, artifact: str, number: int, hostname: str,
           stamp: str) -> ET.Element:
    suite = ET.Element("testsuite", name=_token(artifact), package="xenlint", id=str(number),
                       hostname=hostname, timestamp=stamp, time="0")
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="xenlint.version", value=__version__)
    ET.SubElement(props, "property", name="profiles", value=",".join(report.profiles))
    mine = [f for f in report.findings if artifact_file(f.artifact) == artifact]
    unknown = [u for u in report.unknowns if artifact_file(u.artifact) == artifact]
    errors = [e for e in report.errors if artifact_file(e.artifact) == artifact]
    counts = {"failure": 0, "skipped": 0, "passed": 0, "error": 0}
    unreadable = any(e.artifact == artifact for e in errors) and not mine and not unknown
    for rule in [] if unreadable else _rule_ids(report, artifact):
        case = ET.SubElement(suite, "testcase", classname=_token(artifact), name=_token(rule),
                             time="0")
        counts[_outcome(case, [f for f in mine if f.rule == rule],
                        [u for u in unknown if u.rule == rule])] += 1
    for e in errors:
        inner = inner_location(e.artifact, None)
        case = ET.SubElement(suite, "testcase", classname=_token(artifact),
                             name=_token("read-error" + (f" [{inner}]" if inner else "")),
                             time="0")
        el = ET.SubElement(case, "error", message=_clean(e.message), type="read-error")
        el.text = _clean(f"{e.artifact}: {e.message}")
        counts["error"] += 1
    suite.set("tests", str(sum(counts.values())))
    suite.set("failures", str(counts["failure"]))
    suite.set("errors", str(counts["error"]))
    suite.set("skipped", str(counts["skipped"]))
    ET.SubElement(suite, "system-out")
    ET.SubElement(suite, "system-err")
    return suite


def document(report: Report) -> ET.Element:
    root = ET.Element("testsuites")
    hostname = socket.gethostname() or "localhost"
    stamp = _timestamp()
    for number, artifact in enumerate(report_artifacts(report)):
        root.append(_suite(report, artifact, number, hostname, stamp))
    return root


def render(report: Report, out: TextIO, *, color: bool = False) -> None:
    root = document(report)
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")

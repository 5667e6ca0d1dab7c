"""SARIF 2.1.0 for code-scanning dashboards (GitHub code scanning is the target).

Each finding is a result whose physical location is the input file (a .deb, a kernel image)
and whose logical location is the path inside it. Binary inputs have no lines, but GitHub
rejects results without `region.startLine`, so every region is line 1 of the file.
Fingerprints hash the rule, the file *name*, the path inside and the profile: stable across
runs and machines, and across the directory the file sits in.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from xenlint import __version__
from xenlint.finding import Finding, Report, RuleInfo, Severity
from xenlint.reporters.locations import (
    artifact_file,
    artifact_name,
    display_location,
    finding_inner,
    inner_location,
    stable_location,
)
from xenlint.reporters.strings import safe_text, safe_tree

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "xenlintFinding/v1"
GITHUB_KEY = "primaryLocationLineHash"
SRCROOT = "%SRCROOT%"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
# characters a URI path may hold as they are (RFC 3986 pchar minus ':', which would read as a
# scheme in a relative reference's first segment)
_URI_SAFE = "/-._~!$&'()*+,;=@"


def fingerprint(f: Finding) -> str:
    key = "\0".join((f.rule, artifact_name(f.artifact), stable_location(f), f.profile))
    # surrogatepass: a name with undecodable bytes still hashes, and always the same way
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def artifact_location(artifact: str, base: Path) -> dict[str, str]:
    """A uri relative to `base` (with uriBaseId) when the file is under it, else a file: URI."""
    path = Path(os.path.normpath(base / artifact_file(artifact)))
    try:
        rel = path.relative_to(base)
    except ValueError:
        return {"uri": "file://" + _quote(path.as_posix())}
    return {"uri": _quote(rel.as_posix()), "uriBaseId": SRCROOT}


def _quote(path: str) -> str:
    try:
        # undecodable bytes of a file name (surrogateescape) become their own %XX
        return quote(path, safe=_URI_SAFE, errors="surrogateescape")
    except UnicodeEncodeError:
        return quote(safe_text(path), safe=_URI_SAFE)


def _rule_name(rule_id: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in rule_id.split("-"))


def _help(r: RuleInfo) -> dict[str, str]:
    sections = [("What it checks", r.what or r.summary), ("Why it matters", r.why),
                ("How to fix", r.fix)]
    text = "\n\n".join(f"{title}: {body}" for title, body in sections if body)
    markdown = "\n\n".join(f"## {title}\n\n{body}" for title, body in sections if body)
    if r.references:
        text += "\n\nReferences:\n" + "\n".join(f"- {ref}" for ref in r.references)
        markdown += "\n\n## References\n\n" + "\n".join(f"- <{ref}>" for ref in r.references)
    return {"text": text or r.id, "markdown": markdown or r.id}


def rule_descriptor(r: RuleInfo) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": r.id,
        "name": _rule_name(r.id),
        "shortDescription": {"text": r.summary or r.id},
        "fullDescription": {"text": r.what or r.summary or r.id},
        "help": _help(r),
        "defaultConfiguration": {"level": LEVEL[r.severity]},
        "properties": {
            "tags": ["xen", *r.profiles, *r.checklist],
            "checklist": list(r.checklist),
            "profiles": list(r.profiles),
            "severity": r.severity.value,
        },
    }
    web = [ref for ref in r.references if ref.startswith(("https://", "http://"))]
    if web:
        descriptor["helpUri"] = web[0]
    return descriptor


def _rules(report: Report) -> list[RuleInfo]:
    """The run's rules, plus any a finding names that the report did not list."""
    rules = {r.id: r for r in report.rules}
    for f in report.findings:
        if f.rule not in rules:
            rules[f.rule] = RuleInfo(f.rule, f.severity, (f.profile,), f.checklist,
                                     summary=f.rule, fix=f.fix)
    return list(rules.values())


def result(f: Finding, rule_index: int, base: Path) -> dict[str, Any]:
    inner = finding_inner(f)
    digest = fingerprint(f)
    location: dict[str, Any] = {"physicalLocation": {
        "artifactLocation": artifact_location(f.artifact, base),
        "region": {"startLine": 1},
    }}
    if inner:
        location["logicalLocations"] = [{
            "name": posixpath.basename(inner.rsplit("!", 1)[-1]) or inner,
            "fullyQualifiedName": display_location(f),
            "kind": "resource",
        }]
    where = f"{inner}: " if inner else ""
    out: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": LEVEL[f.severity],
        "message": {"text": f"{where}{f.message} "
                            f"(profile{'s' if len(f.all_profiles) > 1 else ''}: "
                            f"{', '.join(f.all_profiles)})"},
        "locations": [location],
        # upload-sarif computes primaryLocationLineHash from the file's line text unless it is
        # given; for a binary input that text changes with every rebuild, so give ours
        "partialFingerprints": {FINGERPRINT_KEY: digest, GITHUB_KEY: digest},
        "properties": {"profile": f.profile, "profiles": list(f.all_profiles),
                       "checklist": list(f.checklist),
                       "location": inner, "fix": f.fix},
    }
    if f.suppressed:
        out["suppressions"] = [{"kind": "external", "status": "accepted",
                                "justification": f.suppression_reason or ""}]
    return out


def _notifications(report: Report, index: dict[str, int], base: Path) -> list[dict[str, Any]]:
    """Unreadable inputs (errors) and rules whose answer is unknown (notes)."""
    out: list[dict[str, Any]] = []
    for e in report.errors:
        out.append({
            "level": "error",
            "descriptor": {"id": "read-error"},
            "message": {"text": f"{e.artifact}: {e.message}"},
            "locations": [{"physicalLocation": {
                "artifactLocation": artifact_location(e.artifact, base)}}],
        })
    for u in report.unknowns:
        inner = inner_location(u.artifact, u.location)
        note: dict[str, Any] = {
            "level": "note",
            "descriptor": {"id": "unknown"},
            "message": {"text": f"{u.rule}: unknown ({u.profile}): needs {u.missing}"
                                f"{': ' + u.reason if u.reason else ''}"
                        + (f" [{inner}]" if inner else "")},
            "locations": [{"physicalLocation": {
                "artifactLocation": artifact_location(u.artifact, base)}}],
        }
        if u.rule in index:
            note["associatedRule"] = {"id": u.rule, "index": index[u.rule]}
        out.append(note)
    return out


def sarif_log(report: Report, base: Path | None = None) -> dict[str, Any]:
    base = Path(os.path.abspath(base or Path.cwd()))
    rules = _rules(report)
    index = {r.id: i for i, r in enumerate(rules)}
    results = [result(f, index[f.rule], base) for f in report.findings]
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "xenlint",
            "version": __version__,
            "semanticVersion": __version__,
            "rules": [rule_descriptor(r) for r in rules],
        }},
        "invocations": [{
            "executionSuccessful": not report.errors,
            "toolExecutionNotifications": _notifications(report, index, base),
        }],
        "results": results,
        # relative uris resolve against the directory xenlint ran in (GitHub: the checkout)
        "originalUriBaseIds": {SRCROOT: {"uri": "file://" + _quote(base.as_posix().rstrip("/"))
                                         + "/"}},
        "properties": {"profiles": list(report.profiles)},
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(report: Report, out: TextIO, *, color: bool = False, base: Path | None = None) -> None:
    json.dump(safe_tree(sarif_log(report, base)), out, indent=2, ensure_ascii=False)
    out.write("\n")

"""JSON for pipelines: findings, unknowns, read errors and a summary.

The shape is a contract, described by docs/schemas/findings.schema.json and docs/output.md;
add keys freely, never rename or drop one without raising `schema_version`.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from xenlint import __version__
from xenlint.finding import Finding, Report
from xenlint.reporters.locations import (
    artifact_file,
    finding_inner,
    inner_location,
    report_artifacts,
)
from xenlint.reporters.strings import safe_tree

SCHEMA_VERSION = 1


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "severity": f.severity.value,
        "profile": f.profile,
        # every profile it was found for (`profile` is the first): one finding per problem
        "profiles": list(f.all_profiles),
        "checklist": list(f.checklist),
        "artifact": artifact_file(f.artifact),
        "location": finding_inner(f),
        "message": f.message,
        "fix": f.fix,
        "suppressed": f.suppressed,
        # an override always has a reason; "" rather than null keeps the schema simple
        "suppression_reason": (f.suppression_reason or "") if f.suppressed else None,
    }


def report_dict(report: Report) -> dict[str, Any]:
    # "unknowns" counts them all, listed or not (--show-unknown lists them)
    summary: dict[str, int] = report.counts()
    # docs/output.md: `errors` counts the unreadable inputs, beside findings by severity
    summary["errors"] = len(report.errors)
    summary["unknowns"] = summary.pop("unknowns")
    summary["artifacts"] = len(report_artifacts(report))
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "xenlint", "version": __version__},
        "profiles": list(report.profiles),
        "artifacts": report_artifacts(report),
        "findings": [{**finding_dict(f),
                      # the package's name (baselines match on it, whatever the version)
                      "package": report.packages.get(artifact_file(f.artifact)),
                      "known": f.known} for f in report.findings],
        "unknowns": [{"rule": u.rule, "profile": u.profile,
                      "artifact": artifact_file(u.artifact),
                      "location": inner_location(u.artifact, u.location),
                      "missing": u.missing, "reason": u.reason,
                      "absent_packages": list(u.absent_packages)}
                     for u in report.unknowns],
        "errors": [{"artifact": e.artifact, "message": e.message} for e in report.errors],
        "rules": [{"id": r.id, "severity": r.severity.value, "profiles": list(r.profiles),
                   "checklist": list(r.checklist), "summary": r.summary}
                  for r in report.rules],
        "summary": summary,
    }


def render(report: Report, out: TextIO, *, color: bool = False) -> None:
    json.dump(safe_tree(report_dict(report)), out, indent=2, ensure_ascii=False)
    out.write("\n")

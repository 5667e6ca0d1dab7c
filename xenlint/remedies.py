"""`check --remedies`: the fixes for a run's findings, grouped by rule, ready to paste."""

from __future__ import annotations

from collections import defaultdict
from typing import TextIO

from xenlint.finding import Finding, Report


def group(report: Report) -> dict[str, list[Finding]]:
    """Unsuppressed findings by rule id, most severe rules first, then by id."""
    groups: dict[str, list[Finding]] = defaultdict(list)
    for f in report.findings:
        if not f.suppressed:
            groups[f.rule].append(f)
    return dict(sorted(groups.items(), key=lambda kv: (-kv[1][0].severity.rank, kv[0])))


def render_remedies(report: Report, out: TextIO) -> None:
    groups = group(report)
    if not groups:
        out.write("# no remedies needed\n")
        return
    for rule, findings in groups.items():
        first = findings[0]
        profiles = ", ".join(sorted({f.profile for f in findings}))
        out.write(f"# {rule} ({first.severity.value}; {profiles}): "
                  f"{len(findings)} finding{'s' if len(findings) != 1 else ''}\n")
        where = sorted({f.artifact + (f"!{f.location}" if f.location else "") for f in findings})
        for w in where:
            out.write(f"#   {w}\n")
        out.write(first.fix.rstrip() + "\n\n")

"""The table people read at the end of an audit: findings per severity, rule and package."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table
from rich.text import Text

from xenlint.audit.model import AuditStats
from xenlint.finding import Report, Severity
from xenlint.reporters.strings import printable


def _cell(name: str) -> Text:
    """A name read from the input as plain text: a Text is never parsed for markup, and
    `printable` shows control characters (ANSI escapes) and undecodable bytes as `\\xNN`."""
    return Text(printable(name))

TOP = 15


def _table(title: str, label: str, counts: dict[str, Counter[Severity]]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(label)
    for sev in Severity:
        table.add_column(sev.value, justify="right")
    ranked = sorted(counts.items(), key=lambda kv: (
        [-kv[1][s] for s in Severity], kv[0]))
    for name, c in ranked[:TOP]:
        table.add_row(_cell(name), *(str(c[s] or "") for s in Severity))
    if len(ranked) > TOP:
        table.add_row(f"... {len(ranked) - TOP} more", *("" for _ in Severity))
    return table


def print_summary(report: Report, stats: AuditStats, console: Console) -> None:
    live = [f for f in report.findings if not f.suppressed]
    per_rule: dict[str, Counter[Severity]] = {}
    per_artifact: dict[str, Counter[Severity]] = {}
    for f in live:
        per_rule.setdefault(f.rule, Counter())[f.severity] += 1
        per_artifact.setdefault(f.artifact.rsplit("/", 1)[-1] or f.artifact,
                                Counter())[f.severity] += 1
    sev = Counter(f.severity for f in live)
    totals = Table(title="Audit summary", title_justify="left", show_header=False)
    totals.add_column("what")
    totals.add_column("count", justify="right")
    rows = [("package sets", len(stats.groups)), ("artifacts", len(report.artifacts)),
            ("read now", stats.opened), ("from cache", stats.cached),
            ("from index only", stats.from_index), ("unreadable", len(report.errors)),
            *((f"findings: {s.value}", sev[s]) for s in Severity),
            ("suppressed", len(report.findings) - len(live))]
    for name, n in rows:
        totals.add_row(name, str(n))
    totals.add_row("seconds", f"{stats.seconds:.1f}")
    console.print(totals)
    if live:
        console.print(_table("Findings per rule", "rule", per_rule))
        console.print(_table("Findings per package", "package", per_artifact))

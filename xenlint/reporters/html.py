"""HTML: one self-contained page (inline CSS, no scripts, no external assets), for people.

It shows a summary by checklist item, a matrix of artifacts x checklist keys, and each
finding with its remedy. Cells carry `data-artifact`/`data-key`/`data-count` so tests (and
scrapers) can read the matrix without parsing text.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from typing import TextIO

from xenlint.finding import Finding, Report, Severity
from xenlint.reporters.strings import printable, safe_text

MAX_CLEAN_ROWS = 2000

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}
.matrix td{text-align:center;min-width:1.6em}
.matrix th.key{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap}
.error{background:#f8d0d0}.warning{background:#fbe9b7}.info{background:#d8e8fb}
.ok{color:#2a7a2a}.none{color:#999}.suppressed{opacity:.55}
pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap;margin:.3em 0}
.sev{font-weight:bold;text-transform:uppercase;font-size:.85em}
"""


def _e(text: object) -> str:
    """One line of text as HTML: markup escaped, control characters shown as `\\xNN`,
    and a name's undecodable bytes as `\\xNN` (the page is UTF-8)."""
    return html.escape(printable(str(text)), quote=True)


def _lines(text: str) -> str:
    """`_e` for text whose line breaks are meant (a fix in <pre>)."""
    return "\n".join(_e(line) for line in safe_text(text).split("\n"))


def _worst(findings: list[Finding]) -> str:
    return max(findings, key=lambda f: f.severity.rank).severity.value if findings else ""


def _keys(report: Report) -> list[str]:
    """Checklist keys in checklist order: those some rule covers or some finding names."""
    used = {k for r in report.rules for k in r.checklist} | \
        {k for f in report.findings for k in f.checklist}
    try:
        from xenlint.engine.rulebook import checklist

        order = list(checklist())
    except Exception:  # rendering must not depend on the rule engine's data files
        order = []
    return [k for k in order if k in used] + sorted(used - set(order))


def _titles() -> dict[str, str]:
    try:
        from xenlint.engine.rulebook import checklist

        return {k: v.get("title", "") for k, v in checklist().items()}
    except Exception:
        return {}


def _summary(report: Report, keys: list[str], live: list[Finding]) -> list[str]:
    titles = _titles()
    rules_by_key: dict[str, list[str]] = defaultdict(list)
    for r in report.rules:
        for k in r.checklist:
            rules_by_key[k].append(r.id)
    out = ["<h2>Summary by checklist item</h2>", '<table class="summary"><tr><th>key</th>'
           "<th>item</th><th>rules</th><th>errors</th><th>warnings</th><th>info</th>"
           "<th>status</th></tr>"]
    for k in keys:
        c = Counter(f.severity for f in live if k in f.checklist)
        worst = next((s.value for s in Severity if c[s]), "")
        status = f'<span class="sev">{worst}</span>' if worst else \
            ('<span class="ok">clean</span>' if rules_by_key[k] else
             '<span class="none">no rule</span>')
        out.append(
            f'<tr data-key="{_e(k)}"><td>{_e(k)}</td><td>{_e(titles.get(k, ""))}</td>'
            f'<td>{_e(", ".join(sorted(rules_by_key[k])))}</td>'
            f"<td>{c[Severity.ERROR]}</td><td>{c[Severity.WARNING]}</td>"
            f'<td>{c[Severity.INFO]}</td><td class="{worst}">{status}</td></tr>')
    out.append("</table>")
    return out


def _matrix(report: Report, keys: list[str], live: list[Finding]) -> list[str]:
    cells: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in live:
        for k in f.checklist:
            cells[(f.artifact, k)].append(f)
    flagged = sorted({f.artifact for f in live})
    clean = [a for a in report.artifacts if a not in set(flagged)]
    shown_clean = clean[:MAX_CLEAN_ROWS]
    out = ["<h2>Artifacts &times; checklist keys</h2>",
           '<table class="matrix"><tr><th>artifact</th>' +
           "".join(f'<th class="key" title="{_e(k)}">{_e(k)}</th>' for k in keys) + "</tr>"]
    for art in flagged + shown_clean:
        row = [f'<tr data-artifact="{_e(art)}"><th title="{_e(art)}">'
               f"{_e(art.rsplit('/', 1)[-1])}</th>"]
        for k in keys:
            fs = cells.get((art, k), [])
            tip = "; ".join(sorted({f.rule for f in fs}))
            row.append(f'<td class="{_worst(fs)}" data-artifact="{_e(art)}" data-key="{_e(k)}"'
                       f' data-count="{len(fs)}" title="{_e(tip)}">{len(fs) or ""}</td>')
        out.append("".join(row) + "</tr>")
    out.append("</table>")
    if len(clean) > len(shown_clean):
        out.append(f"<p>{len(clean) - len(shown_clean)} more artifacts without findings "
                   "are not shown.</p>")
    return out


def _findings(report: Report) -> list[str]:
    out = ["<h2>Findings</h2>"]
    by_art: dict[str, list[Finding]] = defaultdict(list)
    for f in report.findings:
        by_art[f.artifact].append(f)
    if not by_art:
        out.append("<p>No findings.</p>")
    for art in sorted(by_art):
        out.append(f'<h3 id="{_e(art)}">{_e(art)}</h3><table class="findings">'
                   "<tr><th>severity</th><th>rule</th><th>profile</th><th>checklist</th>"
                   "<th>what and remedy</th></tr>")
        for f in sorted(by_art[art], key=lambda f: (-f.severity.rank, f.rule, f.profile)):
            cls = f"{f.severity.value} suppressed" if f.suppressed else f.severity.value
            where = f"<br><code>{_e(f.location)}</code>" if f.location else ""
            note = (f"<br><em>suppressed: {_e(f.suppression_reason or '')}</em>"
                    if f.suppressed else "")
            fix = f"<pre>{_lines(f.fix)}</pre>" if f.fix else ""
            out.append(
                f'<tr class="finding {cls}" data-rule="{_e(f.rule)}">'
                f'<td class="sev">{_e(f.severity.value)}</td><td>{_e(f.rule)}</td>'
                f"<td>{_e(', '.join(f.all_profiles))}</td><td>{_e(', '.join(f.checklist))}</td>"
                f"<td>{_e(f.message)}{where}{note}{fix}</td></tr>")
        out.append("</table>")
    return out


def render(report: Report, out: TextIO, *, color: bool = False) -> None:
    del color  # the page has its own colours
    live = [f for f in report.findings if not f.suppressed]
    keys = _keys(report)
    counts = report.counts()
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             "<title>xenlint report</title>", f"<style>{CSS}</style></head><body>",
             "<h1>xenlint report</h1>",
             f'<p class="counts">{len(report.artifacts)} artifacts; '
             f"profiles: {_e(', '.join(report.profiles) or 'all')}; "
             f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} info, "
             f"{counts['suppressed']} suppressed; {len(report.errors)} unreadable inputs; "
             f"{counts['unknowns']} unknown"
             f"{' (--show-unknown lists them)' if report.hidden_unknowns else ''}.</p>"]
    parts += _summary(report, keys, live)
    parts += _matrix(report, keys, live)
    parts += _findings(report)
    if report.errors:
        parts.append("<h2>Inputs that could not be read</h2><ul>")
        parts += [f"<li><code>{_e(e.artifact)}</code>: {_e(e.message)}</li>"
                  for e in report.errors]
        parts.append("</ul>")
    parts.append("</body></html>")
    out.write("\n".join(parts) + "\n")

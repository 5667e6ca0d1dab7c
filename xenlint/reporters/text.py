"""Text for people, in lintian's style: `E: artifact: rule-id detail [path inside] (profile)`.

Letters: E/W/I for findings by severity, O for a suppressed (overridden) finding, shown always
so overrides stay visible in logs, with the reason; U for a rule whose answer is unknown (present
only when the run asked for unknowns); X for an input that could not be read. The last line
sums up. Control characters in any field are shown escaped (`\\n`, `\\x1b`): one line per
entry, and nothing from an artifact can drive the terminal. Colour uses click.style: plain ANSI
codes, and unlike rich no markup parsing of messages (a `[` in a path stays a `[`) and no
wrapping to the terminal width.
"""

from __future__ import annotations

import textwrap
from typing import TextIO

import click

from xenlint.finding import Finding, Report, RuleInfo
from xenlint.reporters.locations import (
    artifact_file,
    finding_inner,
    inner_location,
    report_artifacts,
)
from xenlint.reporters.strings import printable

# letter -> (foreground, bold)
_STYLE: dict[str, tuple[str, bool]] = {
    "E": ("red", True),
    "W": ("yellow", True),
    "I": ("cyan", False),
    "O": ("bright_black", False),
    "U": ("bright_black", False),
    "X": ("magenta", True),
}


def _paint(text: str, letter: str, color: bool) -> str:
    if not color:
        return text
    fg, bold = _STYLE[letter]
    return click.style(text, fg=fg, bold=bold)


def finding_line(f: Finding, color: bool = False) -> str:
    letter = "O" if f.suppressed else f.severity.letter
    inner = finding_inner(f)
    p = printable
    line = f"{_paint(letter + ':', letter, color)} {p(artifact_file(f.artifact))}: " \
           f"{_paint(p(f.rule), letter, color)} {p(f.message)}"
    if inner:
        line += f" [{p(inner)}]"
    line += f" ({p(', '.join(f.all_profiles))})"
    if f.suppressed:
        line += f" overridden: {p(f.suppression_reason or 'no reason given')}"
    elif f.known:
        line += " known (in the baseline)"
    return line


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def unknown_count(report: Report) -> str:
    """`12 unknown`, and how to list them when the run did not: `12 unknown (--show-unknown)`."""
    hidden = " (--show-unknown)" if report.hidden_unknowns else ""
    return f"{report.counts()['unknowns']} unknown{hidden}"


def summary_line(report: Report) -> str:
    c = report.counts()
    return (f"{_plural(c['error'], 'error')}, {_plural(c['warning'], 'warning')}, "
            f"{c['info']} info; {c['suppressed']} suppressed, "
            f"{unknown_count(report)}, "
            f"{_plural(len(report.errors), 'unreadable input')}; "
            f"{_plural(len(report_artifacts(report)), 'artifact')}"
            + (f"; baseline: {c['known']} known, {c['fixed']} fixed"
               if report.baseline is not None else ""))


def error_lines(report: Report, color: bool = False) -> list[str]:
    """One `X:` line per input that could not be read."""
    p = printable
    return [f"{_paint('X:', 'X', color)} {p(e.artifact)}: {p(e.message)}"
            for e in report.errors]


def explanation(f: Finding, rule: RuleInfo | None) -> list[str]:
    """`N:` lines, as `lintian -i` prints under a tag's first occurrence: what the rule
    checks, why it matters, and the fix of this finding."""
    out = ["N:"]
    for lead, text in (("", rule.what if rule else ""), ("Why: ", rule.why if rule else "")):
        if text:
            out += [f"N:   {printable(w)}" for w in
                    textwrap.wrap(lead + text.strip(), 76, break_on_hyphens=False)]
            out.append("N:")
    for i, line in enumerate(f.fix.strip().splitlines()):
        # a fix is often a config or shell snippet: its lines are kept as written
        out.append(f"N:   {'Fix: ' if i == 0 else '     '}{printable(line)}".rstrip())
    if f.fix.strip():
        out.append("N:")
    return out


def lines(report: Report, color: bool = False, read_errors: bool = True,
          info: bool = False) -> list[str]:
    rules = {r.id: r for r in report.rules}
    explained: set[str] = set()
    out = []
    for f in report.findings:
        out.append(finding_line(f, color))
        if info and f.rule not in explained:
            explained.add(f.rule)
            out += explanation(f, rules.get(f.rule))
    p = printable
    for u in report.unknowns:
        line = (f"{_paint('U:', 'U', color)} {p(artifact_file(u.artifact))}: "
                f"{_paint(p(u.rule), 'U', color)} unknown: needs {p(u.missing)}")
        if u.reason:
            line += f": {p(u.reason)}"
        inner = inner_location(u.artifact, u.location)
        if inner:
            line += f" [{p(inner)}]"
        out.append(line + f" ({p(u.profile)})")
    if read_errors:
        out += error_lines(report, color)
    summary = summary_line(report)
    out.append(click.style(summary, bold=True) if color else summary)
    return out


def write(report: Report, out: TextIO, *, color: bool = False,
          read_errors: bool = True, info: bool = False) -> None:
    """The report; `read_errors=False` leaves the `X:` lines to the caller (the command
    line prints them on standard error); `info` explains each rule under its first
    finding (`N:` lines, as `lintian -i`)."""
    # every field went through printable(): one line per entry whatever a message holds, and
    # no control sequence from an artifact reaches the terminal
    for line in lines(report, color, read_errors, info):
        out.write(line + "\n")


def render(report: Report, out: TextIO, *, color: bool = False) -> None:
    write(report, out, color=color)

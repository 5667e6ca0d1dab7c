"""How `check` and `audit` write a report (and its remedies); light to import, so a replayed
audit pays for no engine start-up."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

import click

from xenlint.cli import EXIT_ERROR
from xenlint.engine.remedies import remedies_json, render_remedies
from xenlint.finding import Report
from xenlint.reporters import render
from xenlint.reporters.json import report_dict
from xenlint.reporters.strings import safe_tree


def emit(report: Report, fmt: str, out: TextIO, color: bool, remedies: bool) -> None:
    if remedies and fmt == "json":
        # additive: the usual JSON report plus a `remedies` key
        data = report_dict(report)
        data["remedies"] = remedies_json(report)
        json.dump(safe_tree(data), out, indent=2, ensure_ascii=False)
        out.write("\n")
        return
    render(fmt, report, out, color=color)
    if remedies:
        # remedies follow a text report; beside another machine format they go to stderr
        dest = out if fmt == "text" else sys.stderr
        dest.write("\n")
        render_remedies(report, dest)


def write_report(report: Report, fmt: str, output: Path | None, color: bool | None,
                 remedies: bool) -> None:
    """To FILE (never coloured) or standard output (coloured on a TTY unless told)."""
    if output is None:
        emit(report, fmt, sys.stdout, sys.stdout.isatty() if color is None else color, remedies)
        return
    try:
        with output.open("w", encoding="utf-8") as out:
            emit(report, fmt, out, bool(color), remedies)
    except OSError as exc:
        click.echo(f"xenlint: {output}: cannot be written: {exc.strerror}", err=True)
        sys.exit(EXIT_ERROR)

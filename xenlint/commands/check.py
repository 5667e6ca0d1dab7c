"""`xenlint check PATH...` (or plain `xenlint PATH...`): lint inputs as one package set."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

import click

from xenlint.cli import main
from xenlint.commands.options import check_options, options_from, output_options
from xenlint.finding import Report
from xenlint.lint import EXIT_ERROR, LintError, effective_fail_on, exit_status, lint_paths
from xenlint.remedies import remedies_json, render_remedies
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


@main.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@output_options
@check_options
def check_cmd(paths: tuple[str, ...], fmt: str, output: Path | None, remedies: bool,
              color: bool | None, **kwargs: Any) -> None:
    """Check packages, kernels, initramfs images and root trees against the rules."""
    options = options_from(kwargs)
    try:
        report = lint_paths(list(paths), options)
        fail_on = effective_fail_on(options)
    except LintError as exc:
        click.echo(f"xenlint: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    if output is not None:
        try:
            with output.open("w", encoding="utf-8") as out:
                emit(report, fmt, out, bool(color), remedies)
        except OSError as exc:
            click.echo(f"xenlint: {output}: cannot be written: {exc.strerror}", err=True)
            sys.exit(EXIT_ERROR)
    else:
        use_color = sys.stdout.isatty() if color is None else color
        emit(report, fmt, sys.stdout, use_color, remedies)
    sys.exit(exit_status(report, fail_on))

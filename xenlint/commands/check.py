"""`xenlint check PATH...` (or plain `xenlint PATH...`): lint inputs as one package set."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from xenlint.cli import main
from xenlint.commands._output import refuse_input_as_output, with_baseline, write_report
from xenlint.commands.options import check_options, options_from, output_options
from xenlint.engine.lint import LintError, effective_fail_on, exit_status, lint_paths
from xenlint.finding import EXIT_ERROR


@main.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@output_options
@check_options
def check_cmd(paths: tuple[str, ...], fmt: str, output: Path | None, remedies: bool,
              color: str, info: bool, baseline: Path | None, **kwargs: Any) -> None:
    """Check packages, kernels, initramfs images, root trees and uploads against the rules.

    All PATHS form one package set. An upload's .changes stands for the files it lists,
    each verified against its checksum first (a missing or mismatching file is an
    unreadable input, exit status 2)."""
    refuse_input_as_output(output, paths)
    options = options_from(kwargs)
    try:
        report = lint_paths(list(paths), options)
        fail_on = effective_fail_on(options)
    except LintError as exc:
        click.echo(f"xenlint: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    report = with_baseline(report, baseline)
    write_report(report, fmt, output, color, remedies, info)
    for warning in report.warnings:  # as `audit` says them
        click.echo(f"xenlint: warning: {warning}", err=True)
    sys.exit(exit_status(report, fail_on))

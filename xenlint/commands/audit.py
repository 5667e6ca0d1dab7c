"""`xenlint audit TARGET`: a tree, a Debian or RPM repository, or an image, in parallel."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from xenlint.audit.cache import default_root
from xenlint.audit.run import AuditSettings, audit
from xenlint.audit.summary import print_summary
from xenlint.cli import main

# the same output path as `check` (remedies included); check's helper is private for now
from xenlint.commands.check import emit
from xenlint.commands.options import check_options, options_from, output_options
from xenlint.lint import EXIT_ERROR, LintError, effective_fail_on, exit_status


@contextmanager
def _progress(console: Console, enabled: bool) -> Iterator[Any]:
    """A progress callback: a rich bar on a terminal, nothing in a pipeline."""
    if not enabled:
        yield None
        return
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                  transient=True) as bar:
        task = bar.add_task("reading", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@main.command("audit")
@click.argument("target", type=click.Path())
@output_options
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: all cores).")
@click.option("--executor", default="local", show_default=True,
              help="Where the work runs: local (a process pool); see docs/audit.md.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Cache directory (default: $XDG_CACHE_HOME/xenlint or ~/.cache/xenlint).")
@click.option("--no-cache", is_flag=True, default=False, help="Neither read nor write the cache.")
@click.option("--timeout", type=click.FloatRange(min=0), default=300.0, show_default=True,
              help="Seconds one artifact may take to read (0: no limit).")
@click.option("--summary/--no-summary", default=None,
              help="Print the summary table to stderr (default: on a TTY).")
@check_options
def audit_cmd(target: str, fmt: str, output: Path | None, remedies: bool, color: bool | None,
              jobs: int | None, executor: str, cache_dir: Path | None, no_cache: bool,
              timeout: float, summary: bool | None, **kwargs: Any) -> None:
    """Audit TARGET: a directory of packages and images, a Debian repository (dists/ +
    pool/), an RPM repository (repodata/), or an image. Findings are those `check` gives."""
    options = options_from(kwargs)
    cache_root = None if no_cache else (cache_dir or default_root())
    settings = AuditSettings(jobs=jobs, cache_root=cache_root, timeout=timeout,
                             executor=executor)
    err = Console(stderr=True)
    try:
        with _progress(err, err.is_terminal and not os.environ.get("CI")) as progress:
            result = audit(target, options, settings, progress)
        fail_on = effective_fail_on(options)
    except (LintError, ValueError) as exc:
        click.echo(f"xenlint: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    report = result.report
    if output is not None:
        try:
            with output.open("w", encoding="utf-8") as out:
                emit(report, fmt, out, bool(color), remedies)
        except OSError as exc:
            click.echo(f"xenlint: {output}: cannot be written: {exc.strerror}", err=True)
            sys.exit(EXIT_ERROR)
    else:
        emit(report, fmt, sys.stdout, sys.stdout.isatty() if color is None else color,
             remedies)
    if err.is_terminal if summary is None else summary:
        print_summary(report, result.stats, err)
    sys.exit(exit_status(report, fail_on))

"""`xenlint audit TARGET`: a tree, a Debian or RPM repository, or an image, in parallel."""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from xenlint.audit.cache import default_root, modes_for, usable_root
from xenlint.cli import limits_from, main
from xenlint.commands._output import refuse_input_as_output, with_baseline, write_report
from xenlint.commands.options import check_options, options_from, output_options
from xenlint.finding import EXIT_ERROR

if TYPE_CHECKING:
    from xenlint.finding import Report


def _stderr_console() -> Any:
    """rich's console on stderr when a progress bar may be drawn there, else None.

    The bar is drawn when `Console(stderr=True).is_terminal` and $CI is unset. rich answers
    from $TTY_COMPATIBLE, $FORCE_COLOR and stderr.isatty(); when none of them can make it
    say yes (a pipeline, a redirect) it is not imported at all, which saves start-up."""
    if os.environ.get("CI"):
        return None
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):  # no stderr, or a closed one
        tty = False
    if not (tty or os.environ.get("TTY_COMPATIBLE") or "FORCE_COLOR" in os.environ):
        return None
    from rich.console import Console

    console = Console(stderr=True)
    return console if console.is_terminal else None


@contextmanager
def _progress(console: Any) -> Iterator[Any]:
    """A progress callback: a rich bar on a terminal (`console`), nothing in a pipeline."""
    if console is None:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    # Drawn when an item ends, not by rich's refresh thread: lint may fork (shards.py), and
    # a process must not fork while another of its threads may hold a lock.
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                  transient=True, auto_refresh=False) as bar:
        task = bar.add_task("reading", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, refresh=True)

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
@click.option("--shared-cache", is_flag=True, default=False,
              help="Use a cache directory that another user owns or that others may write "
                   "(refused otherwise, with a warning). Its contents are plain data, never "
                   "code, but whoever may write it decides what cached results say.")
@click.option("--timeout", type=click.FloatRange(min=0), default=300.0, show_default=True,
              help="Seconds one artifact may take to read (0: no limit).")
@click.option("--summary/--no-summary", default=None,
              help="Print the summary table to stderr (default: on a TTY).")
@check_options
def audit_cmd(target: str, fmt: str, output: Path | None, remedies: bool, color: str, info: bool,
              baseline: Path | None, jobs: int | None, executor: str, cache_dir: Path | None,
              no_cache: bool, shared_cache: bool, timeout: float, summary: bool | None,
              **kwargs: Any) -> None:
    """Audit TARGET: a directory of packages and images, a Debian repository (dists/ +
    pool/), an RPM repository (repodata/), an upload's .changes, or an image. Findings are
    those `check` gives."""
    refuse_input_as_output(output, [target])
    # a cache root that another user could write is refused before anything is read from it
    cache_root = None if no_cache else usable_root(cache_dir or default_root(), shared_cache)
    memo = _memo(cache_root, shared_cache, target, kwargs)
    hit = memo.get() if memo is not None else None
    if hit is not None:
        report, stats, status = hit
    else:
        report, stats, status = _run(target, kwargs, jobs, executor, cache_root, shared_cache,
                                     timeout)
        if memo is not None:
            memo.put(report, stats, status)
    if baseline is not None:
        report = with_baseline(report, baseline)
        if status != EXIT_ERROR:  # known findings no longer fail the run
            from xenlint.engine.lint import effective_fail_on, exit_status

            status = exit_status(report, effective_fail_on(options_from(dict(kwargs))))
    write_report(report, fmt, output, color, remedies, info)
    for warning in stats.get("warnings", ()):  # a replay of an older run has none
        click.echo(f"xenlint: warning: {warning}", err=True)
    if sys.stderr.isatty() if summary is None else summary:
        from rich.console import Console

        from xenlint.audit.model import AuditStats
        from xenlint.audit.summary import print_summary

        print_summary(report, AuditStats(**stats), Console(stderr=True))
    sys.exit(status)


def _memo(cache_root: Path | None, shared: bool, target: str, kwargs: dict[str, Any]) -> Any:
    """The replay of this exact run, when the cache is on (see xenlint/audit/runmemo.py)."""
    if cache_root is None:
        return None
    from xenlint.audit.runmemo import RunMemo, memo_key

    key = memo_key(target, kwargs, limits_from(dict(kwargs)))
    return RunMemo(cache_root, key, modes_for(cache_root, shared)) if key is not None else None


def _run(target: str, kwargs: dict[str, Any], jobs: int | None, executor: str,
         cache_root: Path | None, shared_cache: bool,
         timeout: float) -> tuple[Report, Any, int]:
    """The audit itself: the engine is imported only here, when no replay applies."""
    from xenlint.audit.run import AuditSettings, audit
    from xenlint.engine.lint import LintError, effective_fail_on, exit_status

    options = options_from(dict(kwargs))
    settings = AuditSettings(jobs=jobs, cache_root=cache_root, shared_cache=shared_cache,
                             timeout=timeout, executor=executor)
    console = _stderr_console()
    try:
        with _progress(console) as progress:
            result = audit(target, options, settings, progress)
        fail_on = effective_fail_on(options)
    except (LintError, ValueError) as exc:
        click.echo(f"xenlint: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    # stats travel as a plain dict, so replaying them imports nothing heavy
    stats = {f.name: getattr(result.stats, f.name) for f in dataclasses.fields(result.stats)}
    return result.report, stats, exit_status(result.report, fail_on)

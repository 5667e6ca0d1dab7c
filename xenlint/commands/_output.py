"""How `check` and `audit` write a report (and its remedies); light to import, so a replayed
audit pays for no engine start-up."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

import click

from xenlint.engine.remedies import remedies_json, render_remedies
from xenlint.finding import EXIT_ERROR, Report
from xenlint.reporters import render, text
from xenlint.reporters.json import report_dict
from xenlint.reporters.strings import safe_tree


def emit(report: Report, fmt: str, out: TextIO, color: bool, remedies: bool,
         read_errors: bool = True, info: bool = False) -> None:
    """`read_errors=False`: a text report leaves out its `X:` lines (printed elsewhere)."""
    if remedies and fmt == "json":
        # additive: the usual JSON report plus a `remedies` key
        data = report_dict(report)
        data["remedies"] = remedies_json(report)
        json.dump(safe_tree(data), out, indent=2, ensure_ascii=False)
        out.write("\n")
        return
    if fmt == "text":
        text.write(report, out, color=color, read_errors=read_errors, info=info)
    else:
        render(fmt, report, out, color=color)
    if remedies:
        # remedies follow a text report; beside another machine format they go to stderr
        dest = out if fmt == "text" else sys.stderr
        dest.write("\n")
        render_remedies(report, dest)


def use_color(mode: str, stream: TextIO) -> bool:
    """--color always|never|auto: auto colours a terminal unless $NO_COLOR is set
    (no-color.org); an explicit `always` wins over $NO_COLOR."""
    if mode == "always":
        return True
    if mode == "never" or os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def with_baseline(report: Report, baseline: Path | None) -> Report:
    """The report with the findings of --baseline REPORT.json marked known; exits 2 when
    the baseline cannot be used."""
    if baseline is None:
        return report
    from xenlint.commands import _baseline

    try:
        return _baseline.apply(report, _baseline.load(baseline), str(baseline))
    except _baseline.BaselineError as exc:
        click.echo(f"xenlint: {exc}", err=True)
        sys.exit(EXIT_ERROR)


def write_report(report: Report, fmt: str, output: Path | None, color: str,
                 remedies: bool, info: bool = False) -> None:
    """To FILE (never coloured unless --color always) or standard output.

    Inputs that could not be read (`X:` lines) always go to standard error too, so a
    pipeline that keeps only stdout still shows them; the text report on standard output
    then leaves them out rather than print them twice."""
    if report.errors:
        for line in text.error_lines(report, use_color(color, sys.stderr)):
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
    if output is None:
        emit(report, fmt, sys.stdout, use_color(color, sys.stdout), remedies,
             read_errors=False, info=info)
        return
    # beside the target and renamed over it: a crash, a full disk or a signal while
    # writing leaves the previous report in place, never a truncated one
    # (os.urandom, not the secrets module: every run would pay for that import)
    tmp = output.with_name(f".{output.name}.{os.urandom(6).hex()}.tmp")
    try:
        # 0666 less the umask, as `open(..., "w")` would create the report
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                emit(report, fmt, out, color == "always", remedies, info=info)
            os.replace(tmp, output)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        click.echo(f"xenlint: {output}: cannot be written: {exc.strerror}", err=True)
        sys.exit(EXIT_ERROR)


def refuse_input_as_output(output: Path | None, inputs: Iterable[str]) -> None:
    """Exit 2 when `-o FILE` is one of the inputs, or a file inside an input directory:
    the report would replace what it is about."""
    if output is None:
        return
    out = os.path.realpath(output)
    for given in inputs:
        real = os.path.realpath(given)
        same = out == real
        if not same and os.path.exists(out):
            try:
                same = os.path.samefile(out, real)  # a hard link to the input too
            except OSError:
                same = False
            same = same or (os.path.isdir(real) and out.startswith(real.rstrip("/") + "/"))
        if same:
            click.echo(f"xenlint: -o {output}: is an input of this run (refusing to "
                       "overwrite it)", err=True)
            sys.exit(EXIT_ERROR)

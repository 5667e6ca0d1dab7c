"""Options shared by `check` and `audit`, and their translation into LintOptions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from xenlint.cli import limit_options, limits_from
from xenlint.finding import PROFILES, Severity
from xenlint.reporters import formats

if TYPE_CHECKING:
    from xenlint.engine.lint import LintOptions

def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    """`--profile dom0,domu` and `--profile dom0 --profile domu` mean the same."""
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def check_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options of a lint run; `options_from(kwargs)` turns them into LintOptions."""
    decorators: list[Callable[[Callable[..., Any]], Any]] = [
        click.option("--profile", "profiles", multiple=True, metavar="PROFILE",
                     help=f"Profile(s) to check: {', '.join(PROFILES)} (repeat or separate "
                          "with commas). Default: the configuration's, else all."),
        click.option("--fail-on", type=click.Choice([*(s.value for s in Severity), "none"],
                                                    case_sensitive=False),
                     default=None, help="Lowest severity that makes the exit status 1; none: "
                                        "findings never do, only unreadable inputs (exit 2) "
                                        "(default: the configuration's, else error)."),
        click.option("--select", multiple=True, metavar="RULE",
                     help="Check only these rules (ids or globs; repeat or use commas)."),
        click.option("--ignore", multiple=True, metavar="RULE",
                     help="Do not check these rules (ids or globs)."),
        click.option("--overrides", "overrides_file", type=click.Path(path_type=Path),
                     default=None, help="Overrides file ([[overrides]] tables)."),
        click.option("--no-overrides", is_flag=True, default=False,
                     help="Ignore every override (configuration, files, and those packages "
                          "ship in /usr/share/xenlint/overrides/)."),
        click.option("--config", "config_path", type=click.Path(path_type=Path),
                     default=None, help="Configuration file (xenlint.toml or pyproject.toml)."),
        click.option("--rules-dir", "rule_dirs", multiple=True,
                     type=click.Path(path_type=Path), help="Extra rule directory."),
        click.option("--show-unknown", is_flag=True, default=False,
                     help="List rules that could neither pass nor fail, and the facts missing."),
        click.option("--with-repo", "with_repo", multiple=True, metavar="PATH",
                     type=click.Path(path_type=Path),
                     help="Repository whose packages may satisfy relations and ship paths, "
                          "never checked themselves: a Debian suite (dists/<suite>), a "
                          "Packages file with Contents-<arch> beside it, an apt lists "
                          "directory (/var/lib/apt/lists) or an RPM repository (repeatable)."),
        limit_options,
    ]
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def output_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--format, --output, --remedies and --color: how `check` and `audit` print a report."""
    fn = click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path),
                      default=None, metavar="REPORT.json",
                      help="A JSON report of an earlier run: its findings are shown as known "
                           "and do not fail this run; new ones do; fixed ones are counted.")(fn)
    fn = click.option("-i", "--info", is_flag=True, default=False,
                      help="Explain each rule under its first finding (what it checks, why, "
                           "the fix), as lintian -i does; text format.")(fn)
    fn = click.option("--no-color", "color", flag_value="never", hidden=True,
                      help="Same as --color never.")(fn)
    fn = click.option("--color", "color", type=click.Choice(["auto", "always", "never"]),
                      default="auto", show_default=True, is_flag=False, flag_value="always",
                      help="Colour text output: auto colours a terminal unless $NO_COLOR "
                           "is set.")(fn)
    fn = click.option("--remedies", is_flag=True, default=False,
                      help="After the report, print the fixes merged per kernel, image and "
                           "package, ready to paste (with --format json: a `remedies` key).")(fn)
    fn = click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
                      default=None, help="Write the report to FILE instead of standard output.")(fn)
    return click.option("--format", "fmt", type=click.Choice(formats()), default="text",
                        show_default=True,
                        help="Output format (html: one self-contained page).")(fn)


def options_from(kwargs: dict[str, Any]) -> LintOptions:
    """Pop the check_options values out of `kwargs` and build LintOptions."""
    # the engine's imports are paid only when used
    from xenlint.engine.lint import LintOptions
    from xenlint.finding import parse_fail_on

    limits = limits_from(kwargs)
    # profile names are matched without regard to case, as the user may write DomU
    profiles = tuple(p.lower() for p in _split(kwargs.pop("profiles", ())))
    bad = [p for p in profiles if p not in PROFILES]
    if bad:
        raise click.BadParameter(f"unknown profile(s) {', '.join(bad)} "
                                 f"(known: {', '.join(PROFILES)})", param_hint="--profile")
    fail_on = kwargs.pop("fail_on", None)
    return LintOptions(
        profiles=profiles, select=_split(kwargs.pop("select", ())),
        ignore=_split(kwargs.pop("ignore", ())),
        fail_on=parse_fail_on(fail_on) if fail_on else None,
        overrides_file=kwargs.pop("overrides_file", None),
        config_path=kwargs.pop("config_path", None),
        extra_rule_dirs=tuple(kwargs.pop("rule_dirs", ())),
        show_unknown=bool(kwargs.pop("show_unknown", False)), limits=limits,
        no_overrides=bool(kwargs.pop("no_overrides", False)),
        with_repo=tuple(kwargs.pop("with_repo", ())))

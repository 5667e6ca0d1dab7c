"""`xenlint explain RULE`: a rule's documentation (the page of docs/rules/), rendered for a
terminal through rich's Markdown; `--markdown` prints the page's source."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import click

from xenlint.cli import main
from xenlint.commands.rules import loaded_rules
from xenlint.docgen import BUILTINS, builtin_page, rule_page
from xenlint.engine.rulebook import suggest
from xenlint.finding import EXIT_ERROR

_COMMENT = re.compile(r"<!--.*?-->\n?", re.DOTALL)
# [text](target) whose target is no URL: a link between pages of docs/, which means
# nothing on a terminal; its text stays
_RELATIVE_LINK = re.compile(r"\[([^\]]*)\]\((?![a-z][a-z0-9+.-]*:)[^)]*\)")
# <https://...>: rich would print the address twice, as text and as target
_AUTOLINK = re.compile(r"<([a-z][a-z0-9+.-]*:[^>\s]*)>")


def for_terminal(page: str) -> str:
    """The page without HTML comments, relative links reduced to their text."""
    page = _RELATIVE_LINK.sub(r"\1", _COMMENT.sub("", page))
    return _AUTOLINK.sub(r"\1", page)


def render(page: str, color: bool) -> str:
    """The page as a terminal shows it (ANSI styles only when `color`)."""
    import io

    from rich.console import Console
    from rich.markdown import Markdown

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color,
                      highlight=False, width=min(shutil.get_terminal_size().columns, 100))
    console.print(Markdown(for_terminal(page), hyperlinks=False))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


@main.command("explain")
@click.argument("rule_id", metavar="RULE")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None)
@click.option("--rules-dir", "rule_dirs", multiple=True, type=click.Path(path_type=Path))
@click.option("--markdown", is_flag=True, default=False,
              help="Print the page's Markdown source (as in docs/rules/).")
def explain_cmd(rule_id: str, config_path: Path | None, rule_dirs: tuple[Path, ...],
                markdown: bool) -> None:
    """Print what RULE checks, why it matters, how to fix it, its condition and parameters."""
    rules = {r.id: r for r in loaded_rules(config_path, rule_dirs)}
    builtins = {b.id: b for b in BUILTINS}
    if rule_id in rules:
        page = rule_page(rules[rule_id])
    elif rule_id in builtins:
        page = builtin_page(builtins[rule_id])
    else:
        click.echo(f"xenlint: no rule {rule_id!r}{suggest(rule_id, [*rules, *builtins])} "
                   "(see `xenlint rules`)", err=True)
        sys.exit(EXIT_ERROR)
    if markdown:
        click.echo(page, nl=False)
        return
    click.echo(render(page, sys.stdout.isatty() and not os.environ.get("NO_COLOR")), nl=False)

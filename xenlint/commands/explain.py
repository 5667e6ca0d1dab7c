"""`xenlint explain RULE`: print a rule's documentation (the same page as docs/rules/)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from xenlint.cli import main
from xenlint.commands.rules import loaded_rules
from xenlint.docgen import BUILTINS, builtin_page, rule_page
from xenlint.finding import EXIT_ERROR


@main.command("explain")
@click.argument("rule_id", metavar="RULE")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None)
@click.option("--rules-dir", "rule_dirs", multiple=True, type=click.Path(path_type=Path))
def explain_cmd(rule_id: str, config_path: Path | None, rule_dirs: tuple[Path, ...]) -> None:
    """Print what RULE checks, why it matters, how to fix it, and its condition."""
    rules = {r.id: r for r in loaded_rules(config_path, rule_dirs)}
    builtins = {b.id: b for b in BUILTINS}
    if rule_id in rules:
        click.echo(rule_page(rules[rule_id]), nl=False)
    elif rule_id in builtins:
        click.echo(builtin_page(builtins[rule_id]), nl=False)
    else:
        click.echo(f"xenlint: no rule {rule_id!r} (see `xenlint rules`)", err=True)
        sys.exit(EXIT_ERROR)

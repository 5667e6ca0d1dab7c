"""`xenlint rules [--format json]`: every rule with its severity, profiles and checklist keys."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import click

from xenlint.cli import main
from xenlint.engine.lint import LintError, LintOptions, all_rules, config_for
from xenlint.engine.rulebook import Rule
from xenlint.finding import EXIT_ERROR


def loaded_rules(config_path: Path | None, rule_dirs: tuple[Path, ...],
                 defaults: bool = False) -> list[Rule]:
    """The rules a check with this configuration would know (`defaults`: without the
    configuration's parameter values); exits 2 on a broken rule."""
    options = LintOptions(config_path=config_path, extra_rule_dirs=rule_dirs)
    try:
        config = config_for(options)
        if defaults:
            config = dataclasses.replace(config, params={}, params_at={})
        return sorted(all_rules(options, config), key=lambda r: r.id)
    except LintError as exc:
        click.echo(f"xenlint: {exc}", err=True)
        sys.exit(EXIT_ERROR)


def rule_dict(rule: Rule) -> dict[str, object]:
    return {"id": rule.id, "severity": rule.severity.value, "profiles": list(rule.profiles),
            "checklist": list(rule.checklist), "applies-to": rule.applies_to,
            "summary": rule.summary, "params": dict(rule.params)}


@main.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None)
@click.option("--rules-dir", "rule_dirs", multiple=True, type=click.Path(path_type=Path))
@click.option("--params", "show_params", is_flag=True, default=False,
              help="Under each rule, its parameters with their values (the configuration's "
                   "[params.RULE], else the rule's defaults).")
def rules_cmd(fmt: str, config_path: Path | None, rule_dirs: tuple[Path, ...],
              show_params: bool) -> None:
    """List the rules: id, severity, profiles, checklist keys and a summary."""
    rules = loaded_rules(config_path, rule_dirs)
    if show_params:
        defaults = {r.id: r.params for r in loaded_rules(config_path, rule_dirs,
                                                          defaults=True)}
    if fmt == "json":
        json.dump([rule_dict(r) for r in rules], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    for r in rules:
        click.echo(f"{r.severity.letter} {r.id} [{', '.join(r.profiles)}] "
                   f"({', '.join(r.checklist)}): {r.summary}")
        if show_params:
            for name, value in r.params.items():
                default = defaults.get(r.id, {}).get(name, value)
                note = "" if value == default else f" (default {_toml(default)})"
                click.echo(f"    ${name} = {_toml(value)}{note}")
            if not r.params:
                click.echo("    (no parameters)")


def _toml(value: object) -> str:
    return json.dumps(value) if isinstance(value, (str, list, bool)) else str(value)

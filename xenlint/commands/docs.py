"""`xenlint docs [--check]`: regenerate docs/ from the rule files and facts."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from xenlint.cli import main
from xenlint.docgen import REPO, generate, stale, write
from xenlint.engine.rulebook import load_rulebook
from xenlint.finding import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK


@main.command("docs")
@click.option("--check", is_flag=True, default=False,
              help="Change nothing; exit 1 when the committed docs are stale.")
@click.option("--dir", "docs_dir", type=click.Path(file_okay=False, path_type=Path),
              default=REPO / "docs", show_default="the checkout's docs/")
def docs_cmd(check: bool, docs_dir: Path) -> None:
    """Regenerate the docs from the shipped rules and facts.

    Writes docs/rules/<id>.md, docs/rules/index.md, docs/checklist.md, docs/facts.md and
    docs/writing-rules.md (never from a user's configuration).
    """
    book = load_rulebook()
    if book.errors:
        click.echo("\n".join(f"xenlint: {e}" for e in book.errors), err=True)
        sys.exit(EXIT_ERROR)
    pages = generate(list(book))
    if check:
        changed = stale(docs_dir, pages)
        for rel in changed:
            click.echo(f"xenlint: {docs_dir / rel} is stale (run `xenlint docs`)", err=True)
        sys.exit(EXIT_FINDINGS if changed else EXIT_OK)
    for rel in write(docs_dir, pages):
        click.echo(f"wrote {docs_dir / rel}")

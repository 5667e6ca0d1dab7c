"""The committed docs are what `python -m xenlint.docgen` generates from the rule files and
facts; outside a checkout the tool refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from xenlint import docgen
from xenlint.docgen import generate, stale, write
from xenlint.engine.rulebook import checklist, load_rulebook

DOCS = Path(__file__).resolve().parent.parent.parent / "docs"


def test_committed_docs_are_current() -> None:
    book = load_rulebook()
    assert not book.errors, [str(e) for e in book.errors]
    changed = stale(DOCS, generate(list(book)))
    assert changed == [], f"stale docs (run `python -m xenlint.docgen`): {changed}"


def test_docs_cover_every_rule_and_checklist_key(tmp_path: Path) -> None:
    rules = list(load_rulebook([Path(__file__).parent.parent / "data" / "rules"]))
    pages = generate(rules)
    assert write(tmp_path, pages) == sorted(pages)
    assert stale(tmp_path, pages) == []
    for rule in rules:
        page = pages[f"rules/{rule.id}.md"]
        for heading in ("## What it checks", "## Why it matters", "## How to fix",
                        "## Condition"):
            assert heading in page
        assert rule.expect_text in page
    table = pages["checklist.md"]
    for key in checklist():
        assert f"`{key}`" in table
    assert "**not covered yet**" in pages["checklist.md"]  # the test rules cover few keys
    # a page left over from a removed rule is stale, and `write` removes it
    (tmp_path / "rules" / "gone.md").write_text("x")
    assert stale(tmp_path, pages) == ["rules/gone.md"]
    write(tmp_path, pages)
    assert not (tmp_path / "rules" / "gone.md").exists()


def test_docs_check_command(tmp_path: Path) -> None:
    assert docgen.main(["--check", "--dir", str(tmp_path)]) == 1
    assert docgen.main(["--dir", str(tmp_path)]) == 0
    assert docgen.main(["--check", "--dir", str(tmp_path)]) == 0


def test_docgen_refuses_outside_a_checkout(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Installed from a wheel, `REPO` is site-packages: nothing is written there."""
    site = tmp_path / "site-packages"
    (site / "xenlint").mkdir(parents=True)
    assert docgen.main(["--dir", str(tmp_path / "docs")], repo=site) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a xenlint checkout" in err
    assert not (tmp_path / "docs").exists() and list(site.rglob("*")) == [site / "xenlint"]


def test_xenlint_has_no_docs_command() -> None:
    import click

    from xenlint.cli import main

    commands = main.list_commands(click.Context(main))
    assert "check" in commands and "docs" not in commands

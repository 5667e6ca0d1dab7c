"""The committed docs are what `xenlint docs` generates from the rule files and facts."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from xenlint.cli import main
from xenlint.docgen import generate, stale, write
from xenlint.engine.rulebook import checklist, load_rulebook

DOCS = Path(__file__).resolve().parent.parent.parent / "docs"


def test_committed_docs_are_current() -> None:
    book = load_rulebook()
    assert not book.errors, [str(e) for e in book.errors]
    changed = stale(DOCS, generate(list(book)))
    assert changed == [], f"stale docs (run `xenlint docs`): {changed}"


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
    result = CliRunner().invoke(main, ["docs", "--check", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert CliRunner().invoke(main, ["docs", "--dir", str(tmp_path)]).exit_code == 0
    assert CliRunner().invoke(main, ["docs", "--check", "--dir", str(tmp_path)]).exit_code == 0

"""The rule catalogue as a whole: every rule has pass and fail fixtures and full docs, and
the rules' checklist keys cover every item of the Xen distribution checklist."""

from __future__ import annotations

import json

from click.testing import CliRunner

from tests.conftest import FIXTURES
from xenlint.cli import main
from xenlint.engine.rulebook import checklist, load_rulebook

BOOK = load_rulebook()


def test_rulebook_loads_without_errors() -> None:
    assert not BOOK.errors, [str(e) for e in BOOK.errors]
    assert len(BOOK.rules) >= 21


def test_every_rule_has_pass_and_fail_fixtures() -> None:
    missing = []
    for rule_id in BOOK.rules:
        cases = [p.name for p in (FIXTURES / "rules" / rule_id).glob("*") if p.is_dir()]
        if not any(c.startswith("pass-") for c in cases):
            missing.append(f"{rule_id}: no pass case")
        if not any(c.startswith("fail-") for c in cases):
            missing.append(f"{rule_id}: no fail case")
    assert not missing


def test_no_fixture_folder_without_a_rule() -> None:
    folders = {p.name for p in (FIXTURES / "rules").iterdir() if p.is_dir()}
    assert folders - set(BOOK.rules) == set()


def test_every_rule_documents_what_why_fix_and_references() -> None:
    for rule in BOOK:
        assert rule.doc.what and rule.doc.why and rule.doc.fix, rule.id
        assert rule.doc.references, f"{rule.id} cites no reference"
        assert rule.checklist and set(rule.checklist) <= set(checklist()), rule.id


def test_fixes_are_concrete() -> None:
    """Kernel rules give config lines, initramfs rules both generators' lines."""
    for rule in BOOK:
        if rule.applies_to == "kernel" and rule.id != "kernel-xen-modules-not-shipped":
            assert "CONFIG_" in rule.doc.fix, rule.id
        if rule.id.startswith("initramfs-missing-"):
            assert 'add_drivers+="' in rule.doc.fix and "/etc/initramfs-tools/modules" in \
                rule.doc.fix, rule.id
        if rule.id.startswith("meta-package-missing-"):
            assert "Depends:" in rule.doc.fix and "Requires:" in rule.doc.fix, rule.id


def test_rules_json_covers_the_whole_checklist() -> None:
    result = CliRunner().invoke(main, ["rules", "--format", "json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert {r["id"] for r in listed} == set(BOOK.rules)
    covered = {key for r in listed for key in r["checklist"]}
    assert covered == set(checklist()), sorted(set(checklist()) - covered)
    assert len(checklist()) == 21

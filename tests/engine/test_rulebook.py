"""Loading rule files: a broken one is reported with its file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from xenlint.engine.rulebook import RuleError, checklist, load_rule, load_rulebook
from xenlint.finding import Severity

DATA = Path(__file__).resolve().parent.parent / "data" / "rules"

GOOD = """severity = "warning"
profiles = ["dom0"]
checklist = ["man-pages"]
applies-to = "package"
expect = '"libc6" in package.depends'
message = "{package.name} lacks libc6"

[doc]
what = "What. More."
why = "Why."
fix = "Fix."
"""


def write(tmp_path: Path, text: str, name: str = "some-rule") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def test_good_rule_loads(tmp_path: Path) -> None:
    rule = load_rule(write(tmp_path, GOOD))
    assert rule.id == "some-rule"
    assert rule.severity is Severity.WARNING
    assert rule.summary == "What."
    assert rule.facts == {"package.depends", "package.name"}


def test_test_rules_load() -> None:
    book = load_rulebook([DATA])
    assert not book.errors, [str(e) for e in book.errors]
    assert {"test-needs-libc6", "test-sbin-demo", "test-set-has-doc",
            "test-deb-version"} <= set(book.rules)


def test_checklist_keys_are_the_shared_ones() -> None:
    keys = checklist()
    assert len(keys) == 21
    assert keys["pv-drivers-in-ramdisk"]["title"].startswith("PV disk/net drivers")


@pytest.mark.parametrize(("change", "line", "column", "message"), [
    # a condition error points into the file, not into the condition string
    (("'\"libc6\" in package.depends'", "'\"libc6\" in package.dpends'"), 5, 22,
     "unknown fact 'package.dpends'"),
    (("'\"libc6\" in package.depends'", "'''\n  \"libc6\" in\n    package.depends and\n'''"),
     8, 1, "ends too early"),
    (('"{package.name} lacks libc6"', '"{package.nme} lacks"'), 6, 13, "unknown fact"),
    (('"{package.name} lacks libc6"', '"{package.name lacks"'), 6, 12, "unbalanced brace"),
    (('severity = "warning"', 'severity = "fatal"'), 1, 13, "severity must be"),
    (('profiles = ["dom0"]', 'profiles = ["dom1"]'), 2, 12, "unknown value 'dom1'"),
    (('checklist = ["man-pages"]', 'checklist = ["manpages"]'), 3, 13, "unknown value"),
    (('applies-to = "package"', 'applies-to = "deb"'), 4, 15, "applies-to must be"),
    (('applies-to = "package"', 'applies-to = "initramfs"'), 5, 22, "not available for"),
    (('severity = "warning"', 'severity = "warning"\nseverty = "x"'), 2, 1, "unknown key"),
    (('profiles = ["dom0"]', 'profiles = ["dom0"'), 3, 1, "invalid TOML"),
    (('why = "Why."\n', ''), 8, 1, "needs a non-empty `why`"),
])
def test_broken_rules_name_file_line_column(
        tmp_path: Path, change: tuple[str, str], line: int, column: int, message: str) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(RuleError) as info:
        load_rule(path)
    err = info.value
    assert message in err.message, str(err)
    assert (err.line, err.column) == (line, column), str(err)
    assert str(err).startswith(f"{path}:{line}:{column}: ")


def test_missing_key_and_bad_id(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="missing required key 'expect'"):
        load_rule(write(tmp_path, GOOD.replace("expect =", "#")))
    with pytest.raises(RuleError, match="kebab-case"):
        load_rule(write(tmp_path, GOOD, name="Some_Rule"))


def test_params_declared_and_overridden(tmp_path: Path) -> None:
    text = GOOD.replace("'\"libc6\" in package.depends'", "'$lib in package.depends'") + \
        '\n[params]\nlib = "libc6"\n'
    assert load_rule(write(tmp_path, text), {"lib": "libxen"}).params == {"lib": "libxen"}
    # a parameter the rule does not take is the configuration's error, at its line: the
    # rulebook reports it, and the rule itself still loads
    assert load_rule(write(tmp_path, text), {"nope": 1}).params == {"lib": "libc6"}
    book = load_rulebook([tmp_path], {"some-rule": {"nope": 1}},
                         params_at={"some-rule": ("xenlint.toml", 7)})
    assert [str(e) for e in book.errors] == [
        "xenlint.toml:7:1: [params.some-rule] sets nope, which some-rule does not take "
        "(its parameters: lib; see `xenlint rules --params`)"]
    with pytest.raises(RuleError, match=r"unknown parameter \$lib"):
        load_rule(write(tmp_path, text.replace("[params]\nlib", "[params]\nlab")))


def test_rulebook_collects_every_error_and_duplicates(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write(tmp_path / "a", GOOD)
    write(tmp_path / "b", GOOD)
    write(tmp_path / "b", GOOD.replace("warning", "bad"), name="other-rule")
    book = load_rulebook([tmp_path / "a", tmp_path / "b"])
    assert set(book.rules) == {"some-rule"}
    messages = sorted(e.message for e in book.errors)
    assert len(messages) == 2
    assert "already defined" in messages[1] or "already defined" in messages[0]

"""The condition language: parsing, positions of errors, three-valued semantics."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.testfacts import FakeSubject
from xenlint.lang.condition import ConditionError, Env, Scope, compile_condition, compile_template

FACTS: dict[str, Any] = {
    "test.config": {"CONFIG_XEN": "y", "CONFIG_XEN_DOM0": "n", "CONFIG_NR_CPUS": "512"},
    "test.files": {"/usr/sbin/xl", "/usr/share/man/man1/xl.1.gz", "/etc/xen/xl.conf"},
    "test.version": "1:7.2+dfsg-7+deb12u18+b3",
    "test.release": "6.1.0-28-amd64",
    "test.packages": [{"name": "xen-utils", "depends": {"libc6"}},
                      {"name": "xen-doc", "depends": set()}],
}


def ev(text: str, values: dict[str, Any] | None = None, **params: Any) -> bool | None:
    cond = compile_condition(text, Scope(params=frozenset(params)))
    return cond.evaluate(Env(FakeSubject(FACTS if values is None else values), params))


@pytest.mark.parametrize(("text", "expected"), [
    ('test.config.CONFIG_XEN == "y"', True),
    ('test.config.CONFIG_XEN_DOM0 in ["y", "m"]', False),
    ('test.config.CONFIG_XEN_DOM0 not in ["y", "m"]', True),
    ('test.config.CONFIG_MISSING == "y"', False),  # absent key of a known mapping: none
    ("test.config.CONFIG_MISSING == none", True),
    ("exists test.config.CONFIG_XEN", True),
    ("exists test.config.CONFIG_MISSING", False),
    ("test.config.CONFIG_NR_CPUS >= 64", True),  # number inside a string
    ('"CONFIG_XEN" in test.config', True),  # mapping membership is by key
    ('"/usr/sbin/xl" in test.files', True),
    ('any f in test.files: f matches "/usr/share/man/man1/xl.1*"', True),
    ('all f in test.files: f matches "/usr/*"', False),
    ('not any f in test.files: f matches "*.pyc"', True),
    ('any p in test.packages: ("libc6" in p.depends and p.name == "xen-utils")', True),
    ('all p in test.packages: p.name matches "xen-*"', True),
    ("count(test.files) == 3", True),
    ('basename("/usr/sbin/xl") == "xl"', True),
    ('test.config["CONFIG_XEN"] == "y"', True),
    ('(true or false) and not false', True),
    ("'single' == \"single\"", True),
])
def test_values(text: str, expected: bool) -> None:
    assert ev(text) is expected


@pytest.mark.parametrize(("text", "expected"), [
    # Kleene logic: unknown only where the known part does not decide
    ('test.absent == "y"', None),
    ('test.absent == "y" and false', False),
    ('test.absent == "y" or true', True),
    ('test.absent == "y" and true', None),
    ('test.absent == "y" or false', None),
    ('not test.absent == "y"', None),
    ('"x" in test.absent', None),
    ("any f in test.absent: true", None),
    # existence never is unknown: an unknown fact counts as absent
    ("exists test.absent", False),
    ("test.absent == none", True),
    ("test.absent != none", False),
])
def test_unknown(text: str, expected: bool | None) -> None:
    assert ev(text) is expected


def test_unknown_names_the_missing_fact() -> None:
    env = Env(FakeSubject(FACTS))
    cond = compile_condition('test.config.CONFIG_XEN == "y" and test.absent.X == "y"')
    assert cond.evaluate(env) is None
    assert env.missing == ["test.absent"]


def test_quantifier_unknown_when_no_element_decides() -> None:
    # an element whose answer is unknown keeps `any` from being false
    values = {"test.packages": [{"name": "a"}, {"name": "b"}], "test.config": None}
    assert ev("any p in test.packages: test.config.X == p.name", values) is None
    assert ev("any p in test.packages: (p.name == \"a\" or test.config.X == 1)", values) is True


def test_witness_names_the_offending_element() -> None:
    cond = compile_condition('all f in test.files: f matches "/usr/*"')
    env = Env(FakeSubject(FACTS))
    assert cond.evaluate(env) is False
    assert env.witness["f"] == "/etc/xen/xl.conf"
    msg = compile_template("{f} is outside /usr ({{braces}})",
                           Scope(witnesses=frozenset({"f"})))
    assert msg.render(env) == "/etc/xen/xl.conf is outside /usr ({braces})"


def test_params() -> None:
    assert ev("$path in test.files", path="/usr/sbin/xl") is True
    with pytest.raises(ConditionError, match=r"unknown parameter \$nope"):
        compile_condition("$nope == 1", Scope(params=frozenset({"path"})))


def test_plain_strings_cannot_be_ordered() -> None:
    env = Env(FakeSubject(FACTS))
    assert compile_condition('test.version >= "7"').evaluate(env) is None
    assert "debver()" in env.missing[0]


@pytest.mark.parametrize(("text", "line", "column", "message"), [
    ("test.config ==", 1, 15, "ends too early"),
    ("test.config = 1", 1, 13, "unexpected character '='"),
    ('test.config.X == "y" and\n   test.confg.Y == "y"', 2, 4, "did you mean test.config"),
    ("frobnicate(1)", 1, 1, "unknown function frobnicate()"),
    ("debver(1, 2) == 1", 1, 1, "exactly one argument"),
    ('any f in test.files: f matches "a" or f matches "b"', 1, 39, "parenthesise"),
    ("test.config == $ 1", 1, 18, "unexpected '1'; expected a name"),
    ('"unterminated', 1, 1, "unexpected character"),
])
def test_errors_carry_positions(text: str, line: int, column: int, message: str) -> None:
    with pytest.raises(ConditionError) as info:
        compile_condition(text, source="r.toml")
    err = info.value
    assert (err.line, err.column) == (line, column), str(err)
    assert message in err.message
    assert str(err).startswith(f"r.toml:{line}:{column}: ")


def test_positions_shift_by_where_the_condition_sits() -> None:
    with pytest.raises(ConditionError) as info:
        compile_condition("a.b ==", source="r.toml", line=7, column=11)
    assert (info.value.line, info.value.column) == (7, 17)
    with pytest.raises(ConditionError) as info:
        compile_condition("test.config == 1 and\n  = 2", source="r.toml", line=7, column=11)
    assert (info.value.line, info.value.column) == (8, 3)  # later lines keep their column


def test_fact_not_available_for_subject_kind() -> None:
    with pytest.raises(ConditionError, match="not available for applies-to = 'packages'"):
        compile_condition('package.name == "xen"', Scope(kind="packages"))

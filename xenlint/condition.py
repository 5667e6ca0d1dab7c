"""The condition language: parse with lark, compile to closures, evaluate in three values.

A compiled condition returns True, False or None. None is *unknown*: some fact it needs is
not shown by the artifacts (Kleene logic: `false and unknown` is false, `true or unknown`
is true). Grammar: condition.lark; compiler: compiler.py; runtime values: values.py;
reference for rule authors: docs/writing-rules.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from xenlint.compiler import Compiler, ConditionError, Scope
from xenlint.values import FUNCTIONS, UNKNOWN, Env, FactSource, Node, elements, truth

__all__ = ["FUNCTIONS", "UNKNOWN", "Condition", "ConditionError", "Env", "FactSource", "Scope",
           "Template", "compile_condition", "compile_template", "format_value", "parse"]

_PARSER = Lark.open("condition.lark", rel_to=__file__, parser="lalr", propagate_positions=True)


def _describe(exc: UnexpectedInput, text: str) -> str:
    if isinstance(exc, UnexpectedEOF) or (
            isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        return "condition ends too early"
    if isinstance(exc, UnexpectedToken):
        expected = sorted(_readable(name) for name in exc.expected)
        if len(expected) > 4:
            return f"unexpected {str(exc.token)!r}"
        return f"unexpected {str(exc.token)!r}; expected {' or '.join(expected)}"
    if isinstance(exc, UnexpectedCharacters):
        return f"unexpected character {text[exc.pos_in_stream or 0]!r}"
    return "syntax error"


def _readable(terminal: str) -> str:
    try:
        pattern = _PARSER.get_terminal(terminal).pattern
    except KeyError:
        return terminal
    if pattern.type == "str":
        return repr(pattern.value)
    return {"NAME": "a name", "STRING": "a string", "SIGNED_NUMBER": "a number",
            "COMPARATOR": "a comparison"}.get(terminal, terminal)


def parse(text: str, source: str = "<condition>", line: int = 1,
          column: int = 1) -> Tree[Token]:
    """Parse `text`; errors carry positions shifted by where the text sits in `source`."""
    try:
        return _PARSER.parse(text)
    except UnexpectedInput as exc:
        at_end = isinstance(exc, UnexpectedEOF) or (
            isinstance(exc, UnexpectedToken) and exc.token.type == "$END")
        eline, ecol = (exc.line, exc.column) if exc.line > 0 and not at_end else (
            text.count("\n") + 1, len(text.rsplit("\n", 1)[-1]) + 1)
        raise ConditionError(_describe(exc, text), source, line + eline - 1,
                             ecol + (column - 1 if eline == 1 else 0)) from None


@dataclass(frozen=True, slots=True)
class Condition:
    """A compiled `when` or `expect`: `evaluate(env)` gives True, False or None (unknown)."""

    text: str
    fn: Node
    facts: frozenset[str]
    variables: frozenset[str]

    def evaluate(self, env: Env) -> bool | None:
        return truth(self.fn(env))


def compile_condition(text: str, scope: Scope | None = None, *, source: str = "<condition>",
                      line: int = 1, column: int = 1) -> Condition:
    """Parse and compile; a ConditionError names source, line and column of the problem."""
    compiler = Compiler(source, line, column)
    fn = compiler.compile(parse(text, source, line, column), scope or Scope())
    return Condition(text, fn, frozenset(compiler.facts), frozenset(compiler.variables))


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


def format_value(value: Any) -> str:
    if value is UNKNOWN:
        return "?"
    if value is None:
        return "none"
    if isinstance(value, set | frozenset | list | tuple):
        return ", ".join(format_value(v) for v in elements(value))
    if isinstance(value, Mapping) and "name" in value:
        return str(value["name"])  # a package summary from packages.list
    return str(value)


@dataclass(frozen=True, slots=True)
class Template:
    """A message with `{expression}` placeholders (`{{`/`}}` are literal braces)."""

    text: str
    parts: tuple[str | Node, ...]
    facts: frozenset[str]

    def render(self, env: Env) -> str:
        return "".join(p if isinstance(p, str) else format_value(p(env)) for p in self.parts)


def _literal(text: str, start: int, end: int, source: str, line: int, column: int) -> None:
    for i in range(start, end):
        if text[i] in "{}":
            raise ConditionError("unbalanced brace in message (write {{ or }})", source, line,
                                 column + i)


def compile_template(text: str, scope: Scope | None = None, *, source: str = "<message>",
                     line: int = 1, column: int = 1) -> Template:
    parts: list[str | Node] = []
    used: set[str] = set()
    pos = 0
    for m in _PLACEHOLDER.finditer(text):
        _literal(text, pos, m.start(), source, line, column)
        parts.append(text[pos:m.start()])
        pos = m.end()
        if m.group(1) is None:
            parts.append(m.group(0)[0])
            continue
        cond = compile_condition(m.group(1), scope, source=source, line=line,
                                 column=column + m.start(1))
        parts.append(cond.fn)
        used |= cond.facts
    _literal(text, pos, len(text), source, line, column)
    parts.append(text[pos:])
    return Template(text, tuple(p for p in parts if p != ""), frozenset(used))


def names_in(conditions: Iterable[Condition]) -> frozenset[str]:
    """Every fact some of these conditions read."""
    out: set[str] = set()
    for c in conditions:
        out |= c.facts
    return frozenset(out)

"""The condition language: parse with lark, compile to closures, evaluate in three values.

A compiled condition returns True, False or None. None is *unknown*: some fact it needs is
not shown by the artifacts (Kleene logic: `false and unknown` is false, `true or unknown`
is true). Grammar: condition.lark; compiler: compiler.py; runtime values: values.py;
reference for rule authors: docs/writing-rules.md.

The LALR parser comes from condition-parser.pickle (package data, read as plain data only),
the table lark would build from condition.lark: loading it costs a small fraction of building
it at every start (bench/RESULTS.md). It is valid for one lark version, which pyproject.toml
pins. After editing the grammar or bumping lark, regenerate the table with
`python3 -m xenlint.lang.condition` (a test fails until then; meanwhile the parser is built
from the grammar, so behaviour never depends on the table).
"""

from __future__ import annotations

import functools
import io
import pickle
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lark
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from xenlint.lang.compiler import Compiler, ConditionError, Scope
from xenlint.lang.values import FUNCTIONS, UNKNOWN, Env, FactSource, Node, elements, truth

__all__ = ["FUNCTIONS", "UNKNOWN", "Condition", "ConditionError", "Env", "FactSource", "Scope",
           "Template", "compile_condition", "compile_template", "format_value", "parse"]

GRAMMAR = Path(__file__).with_name("condition.lark")
TABLE = Path(__file__).with_name("condition-parser.pickle")


def build_parser() -> Lark:
    """The parser built from the grammar, as lark does it (what the table replaces)."""
    return Lark.open(str(GRAMMAR), parser="lalr", propagate_positions=True)


def parser_table(parser: Lark) -> dict[str, Any]:
    """The parser as plain data, with the grammar and lark version it is valid for.
    Parse states are renumbered canonically: lark numbers them differently in every
    process, and the committed table must be comparable with a fresh one."""
    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    data, memo = parser.memo_serialize([TerminalDef, Rule])
    frontend = data["parser"]
    frontend["parser"] = _canonical(frontend["parser"])
    return {"grammar": GRAMMAR.read_text("utf-8"), "lark": lark.__version__,
            "data": data, "memo": memo}


def _canonical(table: dict[str, Any]) -> dict[str, Any]:
    """An LALR table with tokens numbered by name and states in breadth-first order from
    the start states, following transitions in token-name order."""
    names: dict[int, str] = table["tokens"]
    states: dict[int, dict[int, tuple[int, Any]]] = table["states"]
    token_no = {name: i for i, name in enumerate(sorted(names.values()))}
    order: dict[int, int] = {}
    queue = [table["start_states"][s] for s in sorted(table["start_states"])]
    queue += [table["end_states"][s] for s in sorted(table["end_states"])]
    while queue:
        state = queue.pop(0)
        if state in order:
            continue
        order[state] = len(order)
        for tok in sorted(states[state], key=names.__getitem__):
            action, arg = states[state][tok]
            if action == 0:  # a shift: arg is the next state
                queue.append(arg)
    if len(order) != len(states):
        raise ValueError("parse table has states unreachable from its start states")

    def renumber(acts: dict[int, tuple[int, Any]]) -> dict[int, tuple[int, Any]]:
        moved = {token_no[names[t]]: (a, order[arg] if a == 0 else arg)
                 for t, (a, arg) in acts.items()}
        return dict(sorted(moved.items()))

    return {"tokens": {i: name for name, i in token_no.items()},
            "states": {n: renumber(states[s]) for s, n in order.items()},
            "start_states": {s: order[n] for s, n in sorted(table["start_states"].items())},
            "end_states": {s: order[n] for s, n in sorted(table["end_states"].items())}}


class _PlainData(pickle.Unpickler):
    """The table holds dicts, lists, tuples, strings, numbers, booleans and None only:
    refusing every class and function means no pickle can run code through it."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"{module}.{name} in a parser table")


def load_table(path: Path = TABLE) -> dict[str, Any] | None:
    """The committed table, if it exists and was made from this grammar by this lark."""
    try:
        table = _PlainData(io.BytesIO(path.read_bytes())).load()
    except (OSError, pickle.UnpicklingError, EOFError, ValueError):
        return None
    if not isinstance(table, dict) or table.get("lark") != lark.__version__ or \
            table.get("grammar") != GRAMMAR.read_text("utf-8"):
        return None
    return table


@functools.cache
def parser() -> Lark:
    """The condition parser: loaded from the table when it is current, else built."""
    table = load_table()
    if table is None:
        return build_parser()
    # Lark.load takes the dict that Lark.save would have pickled
    return Lark.load({"data": table["data"], "memo": table["memo"]})


def _fresh(value: Any) -> Any:
    """A copy sharing nothing but interned strings: pickle writes shared objects once, so
    without this the same table would pickle to different bytes in different runs."""
    if isinstance(value, dict):
        return {_fresh(k): _fresh(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_fresh(v) for v in value)
    if isinstance(value, str):
        return sys.intern(value)
    return value


def write_table(path: Path = TABLE) -> None:
    path.write_bytes(pickle.dumps(_fresh(parser_table(build_parser())), protocol=4))


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
        pattern = parser().get_terminal(terminal).pattern
    except KeyError:
        return terminal
    if pattern.type == "str":
        return repr(pattern.value)
    return {"NAME": "a name", "STRING": "a string", "SIGNED_NUMBER": "a number",
            "COMPARATOR": "a comparison"}.get(terminal, terminal)


@functools.lru_cache(maxsize=4096)
def _tree(text: str) -> Tree[Token]:
    # The shipped rules parse 168 conditions but only 95 distinct texts (`kernel.release`
    # 23 times): one parse each. Trees are read, never changed, by the compiler.
    return parser().parse(text)


def parse(text: str, source: str = "<condition>", line: int = 1,
          column: int = 1) -> Tree[Token]:
    """Parse `text`; errors carry positions shifted by where the text sits in `source`."""
    try:
        return _tree(text)
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


if __name__ == "__main__":
    write_table()
    print(f"wrote {TABLE}")

"""The condition language: parse with lark, compile to closures, evaluate in three values.

A compiled condition returns True, False or None. None is *unknown*: some fact it needs is
not shown by the artifacts (Kleene logic: `false and unknown` is false, `true or unknown`
is true). Grammar: condition.lark; reference for rule authors: docs/writing-rules.md.
"""

from __future__ import annotations

import difflib
import fnmatch
import operator
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from xenlint import facts
from xenlint.versions import Version


class _Unknown:
    """The value of a fact the artifacts do not show."""

    def __repr__(self) -> str:
        return "unknown"


UNKNOWN: Any = _Unknown()

_PARSER = Lark.open("condition.lark", rel_to=__file__, parser="lalr", propagate_positions=True)


class ConditionError(Exception):
    """A condition that does not parse or names something that does not exist."""

    def __init__(self, message: str, source: str = "<condition>", line: int = 1,
                 column: int = 1) -> None:
        super().__init__(message)
        self.message, self.source, self.line, self.column = message, source, line, column

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}: {self.message}"


class FactSource(Protocol):
    def get(self, name: str) -> object: ...


@dataclass(slots=True)
class Env:
    """What one evaluation sees: the subject's facts, the rule's parameters, bound variables."""

    subject: FactSource
    params: Mapping[str, Any] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)
    # facts (or evaluation problems) that made some part unknown, in order of discovery
    missing: list[str] = field(default_factory=list)
    # per quantifier variable, the element that decided it (the offending file, package...)
    witness: dict[str, Any] = field(default_factory=dict)

    def note(self, what: str) -> Any:
        if what not in self.missing:
            self.missing.append(what)
        return UNKNOWN


Node = Callable[[Env], Any]


def _truth(value: Any) -> bool | None:
    return None if value is UNKNOWN else bool(value)


def _numeric(a: Any, b: Any) -> tuple[Any, Any]:
    """Kernel config values are strings: compare "64" with 64 as numbers."""
    def num(x: Any) -> Any:
        if isinstance(x, str):
            try:
                return int(x, 0)
            except ValueError:
                return float(x)
        return x
    if isinstance(a, int | float) and not isinstance(a, bool) and isinstance(b, str):
        return a, num(b)
    if isinstance(b, int | float) and not isinstance(b, bool) and isinstance(a, str):
        return num(a), b
    return a, b


_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def compare(op: str, a: Any, b: Any) -> bool:
    """Compare two known values; raises ValueError/TypeError when they cannot be ordered."""
    if op in ("==", "!="):
        if isinstance(b, Version):
            a, b = b, a
        try:
            equal = a == b if isinstance(a, Version) else operator.eq(*_numeric(a, b))
        except ValueError:
            equal = a == b
        return equal if op == "==" else not equal
    if a is None or b is None:
        return False
    if isinstance(a, str) and isinstance(b, str):
        raise TypeError(f"cannot order {a!r} and {b!r} as plain strings: "
                        "use debver(), rpmver() or kver()")
    return bool(_ORDER[op](*_numeric(a, b)))


def _index(value: Any, key: Any) -> Any:
    if value is UNKNOWN or key is UNKNOWN:
        return UNKNOWN
    if value is None:
        return None
    if isinstance(value, Mapping):
        return value.get(key)
    if isinstance(value, list | tuple | str) and isinstance(key, int):
        return value[key] if -len(value) <= key < len(value) else None
    if isinstance(key, str) and not key.startswith("_"):
        return getattr(value, key, None)
    return None


def _elements(value: Any) -> list[Any]:
    # sets are iterated sorted so the reported witness is the same every run
    if isinstance(value, Mapping):
        return sorted(value, key=str)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return list(value)


def _fn(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return fn


FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "debver": _fn(lambda x: Version(str(x), "debver")),
    "rpmver": _fn(lambda x: Version(str(x), "rpmver")),
    "kver": _fn(lambda x: Version(str(x), "kver")),
    "count": _fn(len),
    "lower": _fn(lambda x: str(x).lower()),
    "basename": _fn(lambda x: posixpath.basename(str(x))),
    "dirname": _fn(lambda x: posixpath.dirname(str(x))),
}


@dataclass(frozen=True, slots=True)
class Scope:
    """What a name may refer to while compiling: facts of `kind`, `params`, bound variables."""

    kind: str | None = None
    params: frozenset[str] | None = None  # None: accept any $param
    variables: frozenset[str] = frozenset()
    # quantifier variables of the rule's conditions, visible to message placeholders
    witnesses: frozenset[str] = frozenset()

    def bind(self, name: str) -> Scope:
        return Scope(self.kind, self.params, self.variables | {name}, self.witnesses)


class _Compiler:
    """Tree -> closure. Names are checked here, so a typo fails when the rulebook loads."""

    def __init__(self, source: str, line: int, column: int) -> None:
        self.source, self.line, self.column = source, line, column
        self.facts: set[str] = set()
        self.variables: set[str] = set()

    def error(self, message: str, where: Tree[Token] | Token | None) -> ConditionError:
        line = col = 1
        if isinstance(where, Token):
            line, col = where.line or 1, where.column or 1
        elif isinstance(where, Tree) and not where.meta.empty:
            line, col = where.meta.line, where.meta.column
        return ConditionError(message, self.source, self.line + line - 1,
                              col + (self.column - 1 if line == 1 else 0))

    def compile(self, tree: Tree[Token] | Token, scope: Scope) -> Node:
        if isinstance(tree, Token):
            raise self.error(f"unexpected {tree!r}", tree)
        method = getattr(self, f"c_{tree.data}", None)
        if method is None:
            raise self.error(f"unsupported construct {tree.data}", tree)
        node: Node = method(tree, scope)
        return node

    # logic, in three values
    def c_or_test(self, t: Tree[Token], s: Scope) -> Node:
        parts = [self.compile(c, s) for c in t.children]

        def run(env: Env) -> Any:
            seen = [_truth(p(env)) for p in parts]
            return True if True in seen else (UNKNOWN if None in seen else False)
        return run

    def c_and_test(self, t: Tree[Token], s: Scope) -> Node:
        parts = [self.compile(c, s) for c in t.children]

        def run(env: Env) -> Any:
            seen = [_truth(p(env)) for p in parts]
            return False if False in seen else (UNKNOWN if None in seen else True)
        return run

    def c_negation(self, t: Tree[Token], s: Scope) -> Node:
        inner = self.compile(t.children[0], s)

        def run(env: Env) -> Any:
            v = _truth(inner(env))
            return UNKNOWN if v is None else not v
        return run

    def c_any_of(self, t: Tree[Token], s: Scope) -> Node:
        return self._quantifier(t, s, want=True)

    def c_all_of(self, t: Tree[Token], s: Scope) -> Node:
        return self._quantifier(t, s, want=False)

    def _quantifier(self, t: Tree[Token], s: Scope, want: bool) -> Node:
        var_tok, coll_tree, body_tree = t.children
        var = str(var_tok)
        self.variables.add(var)
        coll = self.compile(coll_tree, s)
        body = self.compile(body_tree, s.bind(var))

        def run(env: Env) -> Any:
            items = coll(env)
            if items is UNKNOWN:
                return UNKNOWN
            unknown = False
            saved = env.vars.get(var, UNKNOWN)
            try:
                for item in _elements(items or ()):
                    env.vars[var] = item
                    v = _truth(body(env))
                    if v is want:  # `any` found a true element, `all` a false one
                        env.witness[var] = item
                        return want
                    unknown = unknown or v is None
            finally:
                env.vars[var] = saved
            return UNKNOWN if unknown else not want
        return run

    # comparisons
    def c_compare(self, t: Tree[Token], s: Scope) -> Node:
        left_t, op_tok, right_t = t.children
        op = str(op_tok)
        left, right = self.compile(left_t, s), self.compile(right_t, s)
        # against the literal `none`, an unknown fact counts as absent: `x != none` is existence
        vs_none = op in ("==", "!=") and any(
            isinstance(c, Tree) and c.data == "none" for c in (left_t, right_t))

        def run(env: Env) -> Any:
            a, b = left(env), right(env)
            if vs_none:
                a, b = (None if a is UNKNOWN else a), (None if b is UNKNOWN else b)
            if a is UNKNOWN or b is UNKNOWN:
                return UNKNOWN
            try:
                return compare(op, a, b)
            except (TypeError, ValueError) as exc:
                return env.note(str(exc))
        return run

    def c_member(self, t: Tree[Token], s: Scope, negate: bool = False) -> Node:
        item, coll = (self.compile(c, s) for c in t.children)

        def run(env: Env) -> Any:
            a, b = item(env), coll(env)
            if a is UNKNOWN or b is UNKNOWN:
                return UNKNOWN
            if b is None:
                found = False
            elif isinstance(b, str):
                found = isinstance(a, str) and a in b
            else:
                try:
                    found = a in b
                except TypeError as exc:
                    return env.note(str(exc))
            return found != negate
        return run

    def c_not_member(self, t: Tree[Token], s: Scope) -> Node:
        return self.c_member(t, s, negate=True)

    def c_glob(self, t: Tree[Token], s: Scope) -> Node:
        value, pattern = (self.compile(c, s) for c in t.children)

        def run(env: Env) -> Any:
            v, p = value(env), pattern(env)
            if v is UNKNOWN or p is UNKNOWN:
                return UNKNOWN
            if v is None or p is None:
                return False
            return fnmatch.fnmatchcase(str(v), str(p))
        return run

    def c_exists(self, t: Tree[Token], s: Scope) -> Node:
        inner = self.compile(t.children[0], s)
        return lambda env: inner(env) not in (None, UNKNOWN)

    # values
    def c_name(self, t: Tree[Token], s: Scope) -> Node:
        parts = [str(p) for p in t.children]
        if parts[0] in s.variables:
            var, rest = parts[0], parts[1:]

            def run_var(env: Env) -> Any:
                value = env.vars.get(var, UNKNOWN)
                for key in rest:
                    value = _index(value, key)
                return value
            return run_var
        if parts[0] in s.witnesses:
            var, rest = parts[0], parts[1:]

            def run_witness(env: Env) -> Any:
                value = env.witness.get(var, UNKNOWN)
                for key in rest:
                    value = _index(value, key)
                return value
            return run_witness
        return self._fact(t, parts, s)

    def _fact(self, t: Tree[Token], parts: list[str], s: Scope) -> Node:
        dotted = ".".join(parts)
        found = facts.resolve(dotted)
        if found is None:
            close = difflib.get_close_matches(dotted, list(facts.registry()), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            if parts[0] in self.variables:
                hint = " (a quantifier's variable is only visible in its body: " \
                       "parenthesise a compound body)"
            raise self.error(f"unknown fact {dotted!r}{hint}", t)
        spec, rest = found
        if s.kind is not None and s.kind not in spec.subjects:
            raise self.error(f"fact {spec.name!r} is not available for applies-to = "
                             f"{s.kind!r} (only {', '.join(spec.subjects)})", t)
        self.facts.add(spec.name)
        name = spec.name

        def run(env: Env) -> Any:
            value = env.subject.get(name)
            if value is None:
                return env.note(name)
            for key in rest:
                value = _index(value, key)
            return value
        return run

    def c_param(self, t: Tree[Token], s: Scope) -> Node:
        name = str(t.children[0])
        if s.params is not None and name not in s.params:
            raise self.error(f"unknown parameter ${name} (declare it under [params])", t)
        return lambda env: env.params.get(name, UNKNOWN)

    def c_index(self, t: Tree[Token], s: Scope) -> Node:
        value, key = (self.compile(c, s) for c in t.children)
        return lambda env: _index(value(env), key(env))

    def c_call(self, t: Tree[Token], s: Scope) -> Node:
        name, *arg_trees = t.children
        fn = FUNCTIONS.get(str(name))
        if fn is None:
            raise self.error(f"unknown function {name}() (known: "
                             f"{', '.join(sorted(FUNCTIONS))})", t)
        args = [a for a in arg_trees if a is not None]
        if len(args) != 1:
            raise self.error(f"{name}() takes exactly one argument", t)
        arg = self.compile(args[0], s)

        def run(env: Env) -> Any:
            v = arg(env)
            if v is UNKNOWN or v is None:
                return v
            try:
                return fn(v)
            except (TypeError, ValueError) as exc:
                return env.note(f"{name}(): {exc}")
        return run

    def c_list(self, t: Tree[Token], s: Scope) -> Node:
        items = [self.compile(c, s) for c in t.children if c is not None]
        return lambda env: [i(env) for i in items]

    def c_string(self, t: Tree[Token], s: Scope) -> Node:
        raw = str(t.children[0])
        text = raw[1:-1]
        if raw.startswith('"'):
            text = re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), text)
        return lambda env: text

    def c_number(self, t: Tree[Token], s: Scope) -> Node:
        raw = str(t.children[0])
        num = float(raw) if any(c in raw for c in ".eE") else int(raw)
        return lambda env: num

    def c_none(self, t: Tree[Token], s: Scope) -> Node:
        return lambda env: None

    def c_true(self, t: Tree[Token], s: Scope) -> Node:
        return lambda env: True

    def c_false(self, t: Tree[Token], s: Scope) -> Node:
        return lambda env: False


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
        return _truth(self.fn(env))


def compile_condition(text: str, scope: Scope | None = None, *, source: str = "<condition>",
                      line: int = 1, column: int = 1) -> Condition:
    """Parse and compile; a ConditionError names source, line and column of the problem."""
    compiler = _Compiler(source, line, column)
    fn = compiler.compile(parse(text, source, line, column), scope or Scope())
    return Condition(text, fn, frozenset(compiler.facts), frozenset(compiler.variables))


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


def format_value(value: Any) -> str:
    if value is UNKNOWN:
        return "?"
    if value is None:
        return "none"
    if isinstance(value, set | frozenset | list | tuple):
        return ", ".join(format_value(v) for v in _elements(value))
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

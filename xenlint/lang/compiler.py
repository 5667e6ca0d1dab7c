"""Compile a condition's parse tree to closures; names are checked here, at load time."""

from __future__ import annotations

import difflib
import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from lark import Token, Tree

from xenlint import facts
from xenlint.lang.values import FUNCTIONS, UNKNOWN, Env, Node, compare, elements, index, truth


class ConditionError(Exception):
    """A condition that does not parse or names something that does not exist."""

    def __init__(self, message: str, source: str = "<condition>", line: int = 1,
                 column: int = 1) -> None:
        super().__init__(message)
        self.message, self.source, self.line, self.column = message, source, line, column

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}: {self.message}"


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


class Compiler:
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
        return self._connective(t, s, decisive=True)

    def c_and_test(self, t: Tree[Token], s: Scope) -> Node:
        return self._connective(t, s, decisive=False)

    def _connective(self, t: Tree[Token], s: Scope, decisive: bool) -> Node:
        """`or` (one True decides) or `and` (one False decides); else unknown if any part
        is, else the other value. Every part is evaluated, so an unknown names all the
        facts it lacked."""
        parts = [self.compile(c, s) for c in t.children]

        def run(env: Env) -> Any:
            seen = [truth(p(env)) for p in parts]
            return decisive if decisive in seen else (UNKNOWN if None in seen else not decisive)
        return run

    def c_negation(self, t: Tree[Token], s: Scope) -> Node:
        inner = self.compile(t.children[0], s)

        def run(env: Env) -> Any:
            v = truth(inner(env))
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
                for item in elements(items or ()):
                    env.vars[var] = item
                    v = truth(body(env))
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
                    value = index(value, key)
                return value
            return run_var
        if parts[0] in s.witnesses:
            var, rest = parts[0], parts[1:]

            def run_witness(env: Env) -> Any:
                value = env.witness.get(var, UNKNOWN)
                for key in rest:
                    value = index(value, key)
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
                value = index(value, key)
            return value
        return run

    def c_param(self, t: Tree[Token], s: Scope) -> Node:
        name = str(t.children[0])
        if s.params is not None and name not in s.params:
            raise self.error(f"unknown parameter ${name} (declare it under [params])", t)
        return lambda env: env.params.get(name, UNKNOWN)

    def c_index(self, t: Tree[Token], s: Scope) -> Node:
        value, key = (self.compile(c, s) for c in t.children)
        return lambda env: index(value(env), key(env))

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

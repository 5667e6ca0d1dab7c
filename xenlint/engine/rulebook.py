"""Load rules/**/*.toml into Rule objects: validate every key, compile every condition.

A broken rule file is a `RuleError` naming its file, line and column; loading collects all
of them so one run shows every problem at once.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from xenlint.facts import SUBJECT_KINDS
from xenlint.finding import PROFILES, RuleInfo, Severity
from xenlint.lang.condition import (
    Condition,
    ConditionError,
    Scope,
    Template,
    compile_condition,
    compile_template,
)

T = TypeVar("T")

RULE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TOP_KEYS = {"severity", "profiles", "checklist", "applies-to", "when", "expect", "message",
             "location", "params", "doc", "remedy-kind"}
_REQUIRED = ("severity", "profiles", "checklist", "applies-to", "expect", "message", "doc")
_DOC_KEYS = {"what", "why", "fix", "example", "references", "static-proxy"}
# what `check --remedies` merges a rule's fix into; absent, it follows `applies-to`
REMEDY_KINDS = ("kernel-config", "initramfs-modules", "dependency", "packaging")
DEFAULT_REMEDY_KIND = {"kernel": "kernel-config", "initramfs": "initramfs-modules",
                       "module": "packaging", "package": "packaging", "packages": "packaging"}


class RuleError(Exception):
    def __init__(self, message: str, path: Path | str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message, self.path, self.line, self.column = message, str(path), line, column

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


@cache
def checklist() -> dict[str, dict[str, str]]:
    """The checklist keys with their `title` and `proxy` (xenlint/data/checklist.toml)."""
    # beside this module, like the rules and the parser table: importlib.resources would
    # import its zip readers on every run
    text = (Path(__file__).parent.parent / "data" / "checklist.toml").read_text("utf-8")
    return tomllib.loads(text)


@dataclass(frozen=True, slots=True)
class RuleDoc:
    what: str
    why: str
    fix: str
    example: str = ""
    references: tuple[str, ...] = ()
    static_proxy: str = ""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    path: Path
    severity: Severity
    profiles: tuple[str, ...]
    checklist: tuple[str, ...]
    applies_to: str
    when: Condition | None
    expect: Condition
    message: Template
    location: Template | None
    params: Mapping[str, Any]
    doc: RuleDoc
    when_text: str = ""
    expect_text: str = ""
    remedy_kind: str = "packaging"
    # doc.fix compiled like the message: `{fact}` placeholders filled per finding
    fix: Template | None = None

    @property
    def summary(self) -> str:
        """The first sentence of `what`, for listings."""
        first = re.split(r"(?<=\.)\s", self.doc.what.strip(), maxsplit=1)[0]
        return first.strip()

    @property
    def facts(self) -> frozenset[str]:
        conds = [c for c in (self.when, self.expect) if c is not None]
        out = set(self.message.facts)
        for c in conds:
            out |= c.facts
        return frozenset(out)

    def info(self) -> RuleInfo:
        return RuleInfo(self.id, self.severity, self.profiles, self.checklist, self.summary,
                        self.doc.what, self.doc.why, self.doc.fix, self.doc.references,
                        self.applies_to)


@dataclass(slots=True)
class Rulebook:
    rules: dict[str, Rule] = field(default_factory=dict)
    errors: list[RuleError] = field(default_factory=list)

    def __iter__(self) -> Any:
        return iter(self.rules.values())


def default_rule_dirs() -> list[Path]:
    """The shipped rules: `xenlint/rules` (in a checkout, a symlink to `rules/`, so that
    wheels carry the rules as package data)."""
    candidate = Path(__file__).resolve().parent.parent / "rules"
    return [candidate.resolve()] if candidate.is_dir() else []


def load_rulebook(dirs: Iterable[Path] | None = None,
                  params: Mapping[str, Mapping[str, Any]] | None = None, *,
                  checklist_keys: Iterable[str] = (),
                  params_at: Mapping[str, tuple[str, int]] | None = None) -> Rulebook:
    """Load every rule under `dirs` (default: the shipped rules); `params` override [params]
    (`params_at`: where the configuration sets each rule's, file and line);
    `checklist_keys`: a configuration's own checklist keys, allowed beside the Xen ones."""
    book = Rulebook()
    extra = tuple(checklist_keys)
    for directory in (default_rule_dirs() if dirs is None else dirs):
        if not Path(directory).is_dir():
            book.errors.append(RuleError("rule directory does not exist", directory))
            continue
        for path in sorted(Path(directory).rglob("*.toml")):
            try:
                rule = load_rule(path, (params or {}).get(path.stem), extra)
            except RuleError as exc:
                book.errors.append(exc)
                continue
            if rule.id in book.rules:
                book.errors.append(RuleError(
                    f"rule id {rule.id} already defined in {book.rules[rule.id].path}", path))
                continue
            book.rules[rule.id] = rule
    book.errors += _param_errors(book, params or {}, params_at or {})
    return book


def _param_errors(book: Rulebook, params: Mapping[str, Mapping[str, Any]],
                  params_at: Mapping[str, tuple[str, int]]) -> list[RuleError]:
    """What is wrong with the configuration's [params.RULE] tables, at their file:line: a
    rule that does not exist (with a suggestion), or a parameter the rule does not take.
    A rule whose own file failed to load has its error already; nothing is added."""
    failed = {Path(e.path).stem for e in book.errors}
    out = []
    for rule_id, values in params.items():
        where, line = params_at.get(rule_id, ("configuration", 1))
        rule = book.rules.get(rule_id)
        if rule is None:
            if rule_id not in failed:
                out.append(RuleError(f"[params.{rule_id}] names no rule"
                                     f"{suggest(rule_id, book.rules)} (see `xenlint rules`)",
                                     where, line))
            continue
        unknown = sorted(set(values) - set(rule.params))
        if unknown:
            takes = ", ".join(rule.params)
            out.append(RuleError(
                f"[params.{rule_id}] sets {', '.join(unknown)}, which {rule_id} does not take "
                f"(its parameters: {takes or 'none'}; see `xenlint rules --params`)",
                where, line))
    return out


def suggest(word: str, candidates: Iterable[str]) -> str:
    """" (did you mean 'x'?)" for the closest candidate, or ""."""
    import difflib

    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _locate(text: str, key: str) -> tuple[int, int]:
    """Line and column where the value of top-level `key` starts (1-based; TOML gives none)."""
    m = re.search(rf"^[ \t]*[\"']?{re.escape(key)}[\"']?[ \t]*=[ \t]*", text, re.MULTILINE)
    if m is None:
        return 1, 1
    line = text.count("\n", 0, m.end()) + 1
    col = m.end() - (text.rfind("\n", 0, m.end()) + 1) + 1
    rest = text[m.end():]
    for quote in ('"""', "'''", '"', "'"):
        if rest.startswith(quote):
            if len(quote) == 3 and rest[3:4] == "\n":
                return line + 1, 1  # TOML drops the newline right after the opening quotes
            return line, col + len(quote)
    return line, col


def _toml_error(exc: tomllib.TOMLDecodeError, path: Path) -> RuleError:
    m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
    message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
    if m is None:
        return RuleError(f"invalid TOML: {message}", path)
    return RuleError(f"invalid TOML: {message}", path, int(m.group(1)), int(m.group(2)))


def _strings(value: Any, key: str, path: Path, text: str, allowed: Iterable[str] = ()) -> \
        tuple[str, ...]:
    line, col = _locate(text, key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise RuleError(f"{key} must be a non-empty list of strings", path, line, col)
    allowed = tuple(allowed)
    for v in value:
        if allowed and v not in allowed:
            hint = " (a distribution's own keys are declared in the configuration's " \
                "[checklist] table)" if key == "checklist" else ""
            raise RuleError(f"{key}: unknown value {v!r}{suggest(v, allowed)} "
                            f"(known: {', '.join(allowed)}){hint}", path, line, col)
    return tuple(value)


def _doc(data: Any, path: Path, text: str) -> RuleDoc:
    m = re.search(r"^[ \t]*\[doc\]", text, re.MULTILINE)
    line = text.count("\n", 0, m.start()) + 1 if m else 1
    if not isinstance(data, dict):
        raise RuleError("[doc] must be a table", path, line)
    unknown = sorted(set(data) - _DOC_KEYS)
    if unknown:
        raise RuleError(f"[doc]: unknown key(s) {', '.join(unknown)}", path, line)
    for key in ("what", "why", "fix"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise RuleError(f"[doc] needs a non-empty `{key}`", path, line)
    refs = data.get("references", [])
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise RuleError("[doc] references must be a list of strings", path, line)
    # the fix is a template (compiled in load_rule); docs show it with `{{`/`}}` unescaped
    fix = re.sub(r"\{\{|\}\}", lambda m: m.group(0)[0], data["fix"].strip())
    return RuleDoc(data["what"].strip(), data["why"].strip(), fix,
                   str(data.get("example", "")).strip(), tuple(refs),
                   str(data.get("static-proxy", "")).strip())


def _params(data: Any, overrides: Mapping[str, Any] | None, path: Path) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise RuleError("[params] must be a table", path)
    params = dict(data)
    # a name the rule does not take is the configuration's error, reported at its line
    # by load_rulebook; the rule itself still loads
    params.update({k: v for k, v in (overrides or {}).items() if k in params})
    return params


def _compiled(text: str, data: dict[str, Any], key: str, scope: Scope, path: Path,
              compile_fn: Callable[..., T]) -> T | None:
    """Compile one string-valued key with `compile_fn`, errors pointing at the key's line."""
    value = data.get(key)
    if value is None:
        return None
    line, col = _locate(text, key)
    if not isinstance(value, str):
        raise RuleError(f"{key} must be a string", path, line, col)
    try:
        return compile_fn(value, scope, source=str(path), line=line, column=col)
    except ConditionError as exc:
        raise RuleError(exc.message, path, exc.line, exc.column) from None


def _condition(text: str, data: dict[str, Any], key: str, scope: Scope, path: Path) -> \
        Condition | None:
    return _compiled(text, data, key, scope, path, compile_condition)


def _template(text: str, data: dict[str, Any], key: str, scope: Scope, path: Path) -> \
        Template | None:
    return _compiled(text, data, key, scope, path, compile_template)


def load_rule(path: Path, param_overrides: Mapping[str, Any] | None = None,
              checklist_keys: Iterable[str] = ()) -> Rule:
    """One rule file -> Rule, or a RuleError with the file, line and column of the problem."""
    try:
        text = path.read_text("utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise RuleError(f"cannot be read: {exc.strerror}", path) from None
    except UnicodeDecodeError:
        raise RuleError("is not UTF-8 text", path) from None
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(exc, path) from None
    if not RULE_ID.match(path.stem):
        raise RuleError(f"rule id {path.stem!r} (the file name) must be kebab-case", path)
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        line = _locate(text, unknown[0])[0]
        raise RuleError(f"unknown key {unknown[0]!r}", path, line)
    for key in _REQUIRED:
        if key not in data:
            raise RuleError(f"missing required key {key!r}", path)
    severity = data["severity"]
    if severity not in {s.value for s in Severity}:
        raise RuleError(f"severity must be error, warning or info, not {severity!r}", path,
                        *_locate(text, "severity"))
    applies = data["applies-to"]
    if applies not in SUBJECT_KINDS:
        raise RuleError(f"applies-to must be one of {', '.join(SUBJECT_KINDS)}, not "
                        f"{applies!r}", path, *_locate(text, "applies-to"))
    params = _params(data.get("params", {}), param_overrides, path)
    scope = Scope(applies, frozenset(params))
    when = _condition(text, data, "when", scope, path)
    expect = _condition(text, data, "expect", scope, path)
    assert expect is not None  # required above
    variables = expect.variables | (when.variables if when else frozenset())
    msg_scope = Scope(applies, frozenset(params), witnesses=variables)
    message = _template(text, data, "message", msg_scope, path)
    assert message is not None
    doc = _doc(data["doc"], path, text)
    fix = _template(text, data["doc"], "fix", msg_scope, path)
    return Rule(
        id=path.stem, path=path, severity=Severity(severity),
        profiles=_strings(data["profiles"], "profiles", path, text, PROFILES),
        checklist=_strings(data["checklist"], "checklist", path, text,
                           (*checklist(), *checklist_keys)),
        applies_to=applies, when=when, expect=expect, message=message,
        location=_template(text, data, "location", msg_scope, path), params=params,
        doc=doc, when_text=data.get("when", ""), expect_text=data["expect"],
        remedy_kind=_remedy_kind(data, applies, path, text), fix=fix)


def _remedy_kind(data: dict[str, Any], applies: str, path: Path, text: str) -> str:
    kind = data.get("remedy-kind", DEFAULT_REMEDY_KIND[applies])
    if kind not in REMEDY_KINDS:
        raise RuleError(f"remedy-kind must be one of {', '.join(REMEDY_KINDS)}, not {kind!r}",
                        path, *_locate(text, "remedy-kind"))
    return str(kind)

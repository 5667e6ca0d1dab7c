"""Runtime values of the condition language: unknown, the evaluation environment, comparisons."""

from __future__ import annotations

import operator
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from xenlint.lang.versions import Version


class _Unknown:
    """The value of a fact the artifacts do not show."""

    def __repr__(self) -> str:
        return "unknown"


UNKNOWN: Any = _Unknown()


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


def truth(value: Any) -> bool | None:
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


_PLAIN = (str, bool, int, float)
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def compare(op: str, a: Any, b: Any) -> bool:
    """Compare two known values; raises ValueError/TypeError when they cannot be ordered."""
    if op in ("==", "!="):
        if type(a) is type(b) and type(a) in _PLAIN:  # most comparisons: no conversion
            return bool(a == b) == (op == "==")
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


def index(value: Any, key: Any) -> Any:
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


def elements(value: Any) -> list[Any]:
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

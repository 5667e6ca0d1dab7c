"""udev rule files, parsed with a lark grammar (xenlint/lang/udev.lark): what they RUN.

A rule's `RUN+="/etc/xen/scripts/block $env{ACTION}"` names a program; a Xen hotplug rule
whose program is not in the package set does nothing but log an error at device time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from lark import Lark, Token, Tree
from lark.exceptions import LarkError

from xenlint import capture
from xenlint.artifact import Artifact
from xenlint.facts import Paths, Subject, fact
from xenlint.facts import pkgset as ps

RULE_DIRS = ("/etc/udev/rules.d/", "/lib/udev/rules.d/", "/usr/lib/udev/rules.d/")
capture.want(*(d + "*.rules" for d in RULE_DIRS))


@dataclass(frozen=True, slots=True)
class Pair:
    key: str
    attr: str | None
    op: str
    value: str


@lru_cache(maxsize=1)
def parser() -> Lark:
    return Lark.open("../lang/udev.lark", rel_to=__file__, parser="lalr")


def parse(text: str) -> list[list[Pair]]:
    """The rules of a udev rules file, each a list of key/op/value pairs.

    Raises ValueError with the line and column when the text is not valid udev syntax.
    """
    joined = re.sub(r"\\\r?\n", " ", text)
    try:
        tree = parser().parse(joined if joined.endswith("\n") else joined + "\n")
    except LarkError as exc:
        line = getattr(exc, "line", "?")
        col = getattr(exc, "column", "?")
        raise ValueError(f"line {line}, column {col}: not udev rule syntax") from None
    rules: list[list[Pair]] = []
    for node in tree.find_data("rule"):
        pairs = []
        for pair in node.children:
            if not isinstance(pair, Tree):
                continue
            toks = [t for t in pair.children if isinstance(t, Token)]
            by = {t.type: str(t) for t in toks}
            raw = by["VALUE"][1:-1]
            pairs.append(Pair(by["KEY"], by.get("ATTR", "")[1:-1] or None, by["OP"],
                              re.sub(r"\\(.)", r"\1", raw)))
        rules.append(pairs)
    return rules


def run_programs(rules: list[list[Pair]]) -> list[str]:
    """The programs the rules RUN (first word of each RUN value; builtins skipped)."""
    out = []
    for rule in rules:
        for p in rule:
            if p.key == "RUN" and p.attr != "builtin" and p.op in ("=", "+=", ":="):
                words = p.value.split()
                if words:
                    out.append(words[0])
    return out


def rule_files(art: Artifact, within: ps.PackageSet | None = None) -> list[str]:
    return sorted(p for p in ps.files(art, within)
                  if p.startswith(RULE_DIRS) and p.endswith(".rules"))


@fact("udev.rule_files", ("package",), paths=Paths(under=RULE_DIRS))
def udev_rule_files(subject: Subject) -> list[str] | None:
    """The udev rules files the package ships."""
    art = subject.artifact
    return rule_files(art, ps.PackageSet.of(subject.run)) if art is not None else None


def _shipped(subject: Subject) -> set[str]:
    """Every path any artifact of the run ships, gathered once per run: each package
    with udev rules asks, and an archive has tens of thousands of paths."""
    return ps.PackageSet.of(subject.run).remember(
        "udev.shipped", lambda: {p for other in subject.run.artifacts for p in other.files})


@fact("udev.missing_run_targets", ("package",),
      paths=Paths(under=RULE_DIRS, containing=("xen",)))
def udev_missing_run_targets(subject: Subject) -> str | None:
    """Xen programs (absolute RUN targets with "xen" in their path) that the package's udev
    rules run but no artifact of the run ships, as "program (rules file)"; "" when all are
    there. A rules file that does not parse is reported with its line and column."""
    art = subject.artifact
    if art is None:
        return None
    problems = []
    for path in rule_files(art, ps.PackageSet.of(subject.run)):
        data = art.read(path)
        if data is None:
            return None
        try:
            rules = parse(data.decode("utf-8", "replace"))
        except ValueError as exc:
            problems.append(f"{path}: {exc}")
            continue
        for prog in run_programs(rules):
            if prog.startswith("/") and "xen" in prog and prog not in _shipped(subject):
                problems.append(f"{prog} ({path})")
    return ", ".join(dict.fromkeys(problems))

"""Overrides: accepted findings, each with a rule id, an artifact glob, an optional inner-path
glob and a mandatory reason.

They come from `--overrides FILE`, a `xenlint-overrides` file next to the artifacts, or
`[[overrides]]` in the configuration. A matched finding is kept but marked suppressed; an
override that matched nothing is itself reported (rule `unused-override`, info).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xenlint.finding import Finding, RuleInfo, Severity

FILE_NAME = "xenlint-overrides"
_KEYS = {"rule", "artifact", "path", "reason"}

UNUSED_OVERRIDE = RuleInfo(
    "unused-override", Severity.INFO, ("dom0", "domu", "installer"), (),
    "An override matched no finding.",
    what="Reports an override that suppressed nothing in this run.",
    why="A stale override hides nothing today but will silently hide a real problem later, "
        "and its reason no longer describes the artifacts.",
    fix="Remove the override, or correct its rule id or globs.")


class OverrideError(Exception):
    """An override that cannot be used, e.g. one without a reason (exit status 2)."""


@dataclass(frozen=True, slots=True)
class Override:
    rule: str
    artifact: str
    path: str | None
    reason: str
    origin: str  # "file:line" or "file" where it was written

    def matches(self, finding: Finding) -> bool:
        if not fnmatch.fnmatchcase(finding.rule, self.rule):
            return False
        art = finding.artifact
        if not (fnmatch.fnmatchcase(art, self.artifact)
                or fnmatch.fnmatchcase(Path(art).name, self.artifact)):
            return False
        if self.path is None:
            return True
        location = finding.location or ""
        # a nested location "inner.img!/lib/x.ko" matches by any of its parts, or as a whole
        parts = [location, *location.split("!")]
        return any(fnmatch.fnmatchcase(p, self.path) for p in parts if p)


def _lines(text: str) -> list[int]:
    return [text.count("\n", 0, m.start()) + 1
            for m in re.finditer(r"^[ \t]*\[\[overrides\]\]", text, re.MULTILINE)]


def parse(entries: Sequence[Any], origin: str, lines: Sequence[int] = ()) -> list[Override]:
    out = []
    for i, entry in enumerate(entries):
        where = f"{origin}:{lines[i]}" if i < len(lines) else origin
        if not isinstance(entry, dict):
            raise OverrideError(f"{where}: an override must be a table")
        unknown = sorted(set(entry) - _KEYS)
        if unknown:
            raise OverrideError(f"{where}: unknown key(s) {', '.join(unknown)}")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise OverrideError(f"{where}: an override needs a reason (reason = \"...\")")
        rule = entry.get("rule")
        if not isinstance(rule, str) or not rule:
            raise OverrideError(f"{where}: an override needs a rule id (rule = \"...\")")
        artifact, path = entry.get("artifact", "*"), entry.get("path")
        if not isinstance(artifact, str) or not (path is None or isinstance(path, str)):
            raise OverrideError(f"{where}: artifact and path must be glob strings")
        out.append(Override(rule, artifact, path, reason.strip(), where))
    return out


def load_file(path: Path) -> list[Override]:
    """An overrides file: TOML with one `[[overrides]]` table per override."""
    try:
        text = path.read_text("utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise OverrideError(f"{path}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise OverrideError(f"{path}: invalid TOML: {exc}") from None
    unknown = sorted(set(data) - {"overrides"})
    if unknown:
        raise OverrideError(f"{path}: unknown key(s) {', '.join(unknown)} "
                            "(write one [[overrides]] table per override)")
    entries = data.get("overrides", [])
    if not isinstance(entries, list):
        raise OverrideError(f"{path}: overrides must be an array of tables ([[overrides]])")
    return parse(entries, str(path), _lines(text))


def beside(inputs: Iterable[str]) -> list[Path]:
    """`xenlint-overrides` files next to the inputs (in a directory given, or beside a file)."""
    found: list[Path] = []
    for given in inputs:
        p = Path(given)
        candidate = (p if p.is_dir() else p.parent) / FILE_NAME
        if candidate.is_file() and candidate.resolve() not in {f.resolve() for f in found}:
            found.append(candidate)
    return found


def apply(findings: list[Finding], overrides: Sequence[Override], ran: Iterable[str],
          known: Iterable[str]) -> tuple[list[Finding], list[Finding]]:
    """(findings with matched ones suppressed, `unused-override` findings).

    An override is unused when its rule ran and it matched nothing, or when it names no
    known rule at all (a typo); one for a rule that did not run this time is left alone.
    """
    used: set[int] = set()
    out = []
    for finding in findings:
        hit = next((i for i, o in enumerate(overrides) if o.matches(finding)), None)
        if hit is not None:
            used.add(hit)
            finding = dataclasses.replace(finding, suppressed=True,
                                          suppression_reason=overrides[hit].reason)
        out.append(finding)
    ran_ids, known_ids = set(ran), set(known)
    unused = []
    for i, o in enumerate(overrides):
        if i in used:
            continue
        ran_rule = any(fnmatch.fnmatchcase(r, o.rule) for r in ran_ids)
        exists = any(fnmatch.fnmatchcase(r, o.rule) for r in known_ids)
        if exists and not ran_rule:
            continue
        file, _, line = o.origin.rpartition(":")
        file, location = (file, f"line {line}") if line.isdigit() else (o.origin, None)
        what = "matched no finding" if exists else "names no known rule"
        inner = f" at {o.path}" if o.path else ""
        unused.append(Finding(
            UNUSED_OVERRIDE.id, Severity.INFO, "all", (), file, location,
            f"override of {o.rule} for {o.artifact}{inner} {what} (reason: {o.reason})",
            UNUSED_OVERRIDE.fix))
    return out, unused

"""Overrides: accepted findings, each with a rule id, an artifact glob, an optional inner-path
glob and a mandatory reason.

They come from `--overrides FILE`, a `xenlint-overrides` file next to the artifacts,
`[[overrides]]` in the configuration, or a package's own
`/usr/share/xenlint/overrides/<package>` (which applies to that package only, as lintian reads
`/usr/share/lintian/overrides/`). A file is TOML (`[[overrides]]` tables) or lintian's line
format, `[package[ arch]: ]rule [context]`, the `#` lines just before an override being its
reason. A matched finding is kept but marked suppressed; an override that matched nothing is
itself reported (rule `unused-override`, info). `--no-overrides` ignores them all.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xenlint import capture
from xenlint.finding import Finding, RuleInfo, Severity

FILE_NAME = "xenlint-overrides"
# where a package ships overrides for itself, named after the package
IN_PACKAGE = "/usr/share/xenlint/overrides/"
capture.want(IN_PACKAGE + "*")

FORMATS_HINT = ("an overrides file is either TOML, one [[overrides]] table per override "
                "(rule = \"...\", artifact = \"...\", path = \"...\", reason = \"...\"), "
                "or lintian's line format, `[package[ arch]: ]rule [context]` with the reason "
                "on `#` lines just before it")
_RULE_ID = re.compile(r"[a-z0-9*?\[\]][a-z0-9*?\[\]._+-]*")
# `package:` or `package [arch ...]:` before the rule id
_PREFIX = re.compile(r"(?P<package>[a-z0-9][a-z0-9+.*?-]*)(?:[ \t]+(?P<arch>\[[^]]*\]))?"
                     r"[ \t]*:[ \t]*")
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
    # lintian's line format: the package (and architecture) it is for, and a context glob
    # matched against the path inside or the message
    package: str | None = None
    arch: str | None = None
    context: str | None = None

    def matches(self, finding: Finding,
                packages: Mapping[str, tuple[str, str]] | None = None) -> bool:
        """`packages`: input file -> (package name, architecture), for `package[ arch]:`."""
        if not fnmatch.fnmatchcase(finding.rule, self.rule):
            return False
        art = finding.artifact
        if not (fnmatch.fnmatchcase(art, self.artifact)
                or fnmatch.fnmatchcase(Path(art).name, self.artifact)):
            return False
        if self.package is not None:
            name, arch = (packages or {}).get(art.split("!", 1)[0], ("", ""))
            if not fnmatch.fnmatchcase(name, self.package) or \
                    (self.arch is not None and not _arch_matches(self.arch, arch)):
                return False
        location = finding.location or ""
        # a nested location "inner.img!/lib/x.ko" matches by any of its parts, or as a whole
        parts = [p for p in [location, *location.split("!")] if p]
        if self.path is not None and not any(fnmatch.fnmatchcase(p, self.path)
                                             for p in parts):
            return False
        if self.context is None:
            return True
        return any(fnmatch.fnmatchcase(p, self.context) or
                   fnmatch.fnmatchcase(p.lstrip("/"), self.context.lstrip("/")) for p in parts) \
            or fnmatch.fnmatchcase(finding.message, f"*{self.context}*")


def _arch_matches(wanted: str, arch: str) -> bool:
    """lintian's `[amd64 i386]` or `[!arm64]` (also without brackets): any, or none of."""
    names = wanted.strip("[]").split()
    if names and all(n.startswith("!") for n in names):
        return arch not in {n[1:] for n in names}
    return arch in names or "any" in names


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


def parse_lines(text: str, origin: str, package: str | None = None,
                artifact: str = "*") -> list[Override]:
    """lintian's format: `[package[ arch]: ]rule [context]` per line, the `#` lines just
    before it its reason. `package`/`artifact`: what a package's own file applies to."""
    out: list[Override] = []
    reason: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            reason = []  # a blank line ends the comment block that would be the reason
            continue
        if line.startswith("#"):
            reason.append(line.lstrip("#").strip())
            continue
        where = f"{origin}:{number}"
        prefix = _PREFIX.match(line)
        for_package, arch = (prefix["package"], prefix["arch"]) if prefix else (None, None)
        rest = line[prefix.end():] if prefix else line
        rule, _, context = rest.partition(" ")
        if not _RULE_ID.fullmatch(rule):
            raise OverrideError(f"{where}: {rule!r} is not a rule id; {FORMATS_HINT}")
        text_reason = " ".join(r for r in reason if r)
        if not text_reason:
            raise OverrideError(f"{where}: an override needs a reason: a `#` comment line "
                                "just before it")
        if package is not None and for_package not in (None, package):
            raise OverrideError(f"{where}: names package {for_package}, but this file is "
                                f"{package}'s own and applies to it alone")
        out.append(Override(rule, artifact, None, text_reason, where,
                            package=for_package or package, arch=arch,
                            context=context.strip() or None))
        reason = []
    return out


def _is_toml(text: str) -> bool:
    return bool(re.search(r"^[ \t]*(\[|[\w\"'-]+[ \t]*=)", text, re.MULTILINE))


def load_file(path: Path) -> list[Override]:
    """An overrides file: TOML `[[overrides]]` tables, or lintian's line format."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OverrideError(f"{path}: cannot be read: {exc}") from None
    if not _is_toml(text):
        return parse_lines(text, str(path))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise OverrideError(f"{path}: invalid TOML: {exc}; {FORMATS_HINT}") from None
    unknown = sorted(set(data) - {"overrides"})
    if unknown:
        raise OverrideError(f"{path}: unknown key(s) {', '.join(unknown)}; {FORMATS_HINT}")
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


def in_package(path: str, package: str, data: bytes) -> list[Override]:
    """The overrides a package ships for itself at /usr/share/xenlint/overrides/<package>:
    they apply to that package's findings only."""
    origin = f"{path}!{IN_PACKAGE}{package}"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise OverrideError(f"{origin}: is not UTF-8 text") from None
    return parse_lines(text, origin, package=package, artifact=path)


def apply(findings: list[Finding], overrides: Sequence[Override], ran: Iterable[str],
          known: Iterable[str], packages: Mapping[str, tuple[str, str]] | None = None
          ) -> tuple[list[Finding], list[Finding]]:
    """(findings with matched ones suppressed, `unused-override` findings).

    An override is unused when its rule ran and it matched nothing, or when it names no
    known rule at all (a typo); one for a rule that did not run this time is left alone.
    """
    used: set[int] = set()
    out = []
    for finding in findings:
        hit = next((i for i, o in enumerate(overrides) if o.matches(finding, packages)),
                   None)
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
        inner = f" at {o.path}" if o.path else (f" ({o.context})" if o.context else "")
        unused.append(Finding(
            UNUSED_OVERRIDE.id, Severity.INFO, "all", (), file, location,
            f"override of {o.rule} for {o.package or o.artifact}{inner} {what} "
            f"(reason: {o.reason})",
            UNUSED_OVERRIDE.fix))
    return out, unused

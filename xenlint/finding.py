"""Typed results of a run: findings, unknowns and read errors. Only reporters format them."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field

# what a rule is checked for: the role the checked system plays
PROFILES = ("dom0", "domu", "installer")
# the exit status of a run: clean, findings at or above --fail-on, an input not read
EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]

    @property
    def letter(self) -> str:
        return self.value[0].upper()


class FailNever(enum.Enum):
    """`--fail-on none`: findings never make the exit status 1 (read errors still give 2)."""

    NEVER = "none"


def parse_fail_on(value: str) -> Severity | FailNever:
    value = value.lower()
    return FailNever.NEVER if value == FailNever.NEVER.value else Severity(value)


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What reporters need to know about a rule (SARIF rule metadata, JUnit test names)."""

    id: str
    severity: Severity
    profiles: tuple[str, ...]
    checklist: tuple[str, ...]
    summary: str
    what: str = ""
    why: str = ""
    fix: str = ""
    references: tuple[str, ...] = ()
    # the subject kind the rule checks (package, kernel, ...); "" for xenlint's own rules
    applies_to: str = ""


@dataclass(frozen=True, slots=True)
class Remedy:
    """Where a finding's fix goes, so `check --remedies` can merge fixes of one target."""

    # kernel-config | initramfs-modules | dependency | packaging (the rule's `remedy-kind`)
    kind: str
    # the thing to change: the artifact path, plus "!inner" for nested subjects
    target: str
    # a short human name for it ("kernel 6.1.0-56-amd64", "package xen-system-amd64")
    label: str = ""
    # "deb" | "rpm" for a package target (which relation syntax to print), else ""
    flavor: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: Severity
    profile: str
    checklist: tuple[str, ...]
    # the input file the finding is about (the top-level path given or found), for SARIF
    artifact: str
    # the path inside that artifact, or a nested one ("outer.deb!/boot/vmlinuz-..."), or None
    location: str | None
    message: str
    fix: str
    suppressed: bool = False
    suppression_reason: str | None = None
    remedy: Remedy | None = None
    # every profile the same problem was found for, `profile` first (see merge_profiles)
    profiles: tuple[str, ...] = ()
    # found in the --baseline report: shown, but neither counted nor failing the run
    known: bool = False

    @property
    def all_profiles(self) -> tuple[str, ...]:
        return self.profiles or (self.profile,)


@dataclass(frozen=True, slots=True)
class Unknown:
    """A rule that could neither pass nor fail: a fact it needs is not shown by the artifacts."""

    rule: str
    profile: str
    artifact: str
    missing: str
    # one sentence naming what is missing and why it matters ("" when a fact is simply
    # not shown by the artifacts read)
    reason: str = ""
    # relation targets not in the run whose contents would decide the answer
    absent_packages: tuple[str, ...] = ()
    # where inside the artifact (a nested subject, a package set's architecture), or None
    location: str | None = None


@dataclass(frozen=True, slots=True)
class ReadError:
    artifact: str
    message: str


@dataclass(slots=True)
class Report:
    findings: list[Finding] = field(default_factory=list)
    unknowns: list[Unknown] = field(default_factory=list)
    # how many unknowns the run found but did not list (no --show-unknown)
    hidden_unknowns: int = 0
    errors: list[ReadError] = field(default_factory=list)
    # every artifact path that was checked, and every rule that ran (for JUnit/SARIF)
    artifacts: list[str] = field(default_factory=list)
    rules: list[RuleInfo] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)
    # input file -> the subject kinds read from it (package, kernel, initramfs, ...), so
    # JUnit lists as passed only the rules that could apply to it
    kinds: dict[str, list[str]] = field(default_factory=dict)
    # input file -> the name of the package it is, for matching against a baseline
    packages: dict[str, str] = field(default_factory=dict)
    # with --baseline: its path, and how many of its findings this run no longer has
    baseline: str | None = None
    fixed: int = 0
    # what was read all the same, though not as written (a --with-repo index whose text
    # is not UTF-8): one line each, printed on standard error beside the report
    warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Findings by severity (unsuppressed ones), the suppressed ones, and the unknowns
        (listed or not). Inputs that could not be read are `errors`, counted apart: they
        are no findings."""
        out = {s.value: 0 for s in Severity}
        for f in self.findings:
            if not f.suppressed and not f.known:
                out[f.severity.value] += 1
        out["suppressed"] = sum(f.suppressed for f in self.findings)
        out["unknowns"] = len(self.unknowns) + self.hidden_unknowns
        if self.baseline is not None:
            out["known"] = sum(f.known and not f.suppressed for f in self.findings)
            out["fixed"] = self.fixed
        return out


def merge_profiles(findings: list[Finding]) -> list[Finding]:
    """One finding per problem: the same rule, severity, place, message and fix found for
    several profiles becomes one finding listing them all (in the order met), so it is
    printed and counted once."""
    merged: dict[tuple[object, ...], list[Finding]] = {}
    for f in findings:
        key = (f.rule, f.severity, f.checklist, f.artifact, f.location, f.message, f.fix,
               f.suppressed, f.suppression_reason, f.remedy)
        merged.setdefault(key, []).append(f)
    out = []
    for group in merged.values():
        profiles = tuple(dict.fromkeys(p for f in group for p in f.all_profiles))
        out.append(dataclasses.replace(group[0], profile=profiles[0], profiles=profiles))
    return out

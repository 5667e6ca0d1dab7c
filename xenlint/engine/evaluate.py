"""Check rules against subjects: `when` false skips, `expect` false is a finding, unknown is noted.

Subjects are each top-level package, each kernel unit, each initramfs and
kernel module found anywhere, and the whole run as one package set.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator, Sequence

from xenlint.artifact import Artifact, Kind
from xenlint.engine.remedies import remedy_for
from xenlint.engine.rulebook import Rule
from xenlint.facts import Run, Subject, resolve
from xenlint.facts.pkgset import machine
from xenlint.finding import Finding, Unknown
from xenlint.lang.condition import Env, Template

_PACKAGE_KINDS = (Kind.DEB, Kind.RPM, Kind.INSTALLED)
_KERNEL_KINDS = (Kind.KERNEL_IMAGE, Kind.KERNEL_CONFIG)
_KERNEL_PATHS = ("/boot/vmlinuz-", "/boot/config-")


def _is_kernel_unit(art: Artifact) -> bool:
    if art.kind in _KERNEL_KINDS:
        return True
    if art.kind not in (*_PACKAGE_KINDS, Kind.DIRECTORY):
        return False
    if any(c.kind in _KERNEL_KINDS for c in art.children):
        return True
    # before the kernel readers open them, the paths alone say "this is a kernel"
    return any(p.startswith(_KERNEL_PATHS) for p in art.entries)


def _inner(top: Artifact, art: Artifact) -> str | None:
    """Where `art` sits inside the input `top` ("/boot/initrd.img-6.1"), None for top itself."""
    if art is top:
        return None
    prefix = top.path + "!"
    return art.path[len(prefix):] if art.path.startswith(prefix) else art.path


def _nested(top: Artifact, art: Artifact, run: Run, in_kernel: bool) -> Iterator[Subject]:
    loc = _inner(top, art)
    if not in_kernel and art is not top and art.kind in _KERNEL_KINDS:
        yield Subject("kernel", art, run, input=top.path, location=loc)
    if art.kind is Kind.INITRAMFS:
        yield Subject("initramfs", art, run, input=top.path, location=loc)
    if art.kind is Kind.KERNEL_MODULE:
        yield Subject("module", art, run, input=top.path, location=loc)
    # a kernel-image and kernel-config of one package are one kernel, not two
    covered = in_kernel or (art is not top and art.kind in _KERNEL_KINDS)
    for child in art.children:
        yield from _nested(top, child, run, covered)


def build_subjects(artifacts: Sequence[Artifact], set_label: str = "",
                   context: Sequence[Artifact] = (), set_arch: str = "") -> list[Subject]:
    """Every subject of one run, in input order; unreadable artifacts have none, and the
    `context` packages (--with-repo) join the run's package set without being subjects.

    Packages of several machine architectures form one package set per architecture
    (Run.by_arch): a package, and a kernel or image inside it, is checked within its own
    architecture's set; all/noarch packages and other inputs within the whole run. Each
    set is one package-set subject, located by its architecture (`arch=arm64`); `set_arch`
    names the architecture of a run that holds one (an audit's set per architecture)."""
    readable = [a for a in artifacts if not a.error]
    run = Run.of(readable, context)
    per_arch = run.by_arch()
    out: list[Subject] = []
    for top in readable:
        home = run
        if top.package is not None and per_arch:
            home = per_arch.get(machine(top.package.architecture), run)
        if top.kind in _PACKAGE_KINDS and top.package is not None:
            out.append(Subject("package", top, home))
        unit = _is_kernel_unit(top)
        if unit:
            out.append(Subject("kernel", top, home))
        out.extend(_nested(top, top, home, unit))
    label = set_label or _common_label([a.path for a in artifacts])
    if per_arch:
        out += [Subject("packages", None, sub, input=label, location=f"arch={arch}")
                for arch, sub in per_arch.items()]
    else:
        run.arch = set_arch
        out.append(Subject("packages", None, run, input=label,
                           location=f"arch={set_arch}" if set_arch else None))
    return out


def _common_label(paths: list[str]) -> str:
    if len(paths) == 1:
        return paths[0]
    try:
        return os.path.commonpath(paths) or "."
    except ValueError:
        return "."


def _render(template: Template | None, env: Env) -> str | None:
    return template.render(env) if template is not None else None


def _missing(env: Env, subject: Subject) -> str:
    """What made a rule unknown: the facts not shown, with the reason when one failed."""
    parts = [f"{m} ({subject.failures[m]})" if m in subject.failures else m
             for m in env.missing]
    return ", ".join(parts) or "?"


def _unknown(rule: Rule, env: Env, subject: Subject) -> Unknown:
    gaps = [subject.gaps[m] for m in env.missing if m in subject.gaps]
    reason = " ".join(dict.fromkeys(g.reason.rstrip(".") + "." for g in gaps))
    absent = tuple(dict.fromkeys(n for g in gaps for n in g.absent))
    return Unknown(rule.id, subject.profile, subject.input, _missing(env, subject), reason,
                   absent, subject.location)


def check_rule(rule: Rule, subject: Subject) -> Finding | Unknown | None:
    """One rule on one subject for `subject.profile`: a finding, an unknown, or None (ok)."""
    env = Env(subject, rule.params)
    if rule.when is not None:
        applies = rule.when.evaluate(env)
        if applies is False:
            return None
        if applies is None:
            return _unknown(rule, env, subject)
    verdict = rule.expect.evaluate(env)
    if verdict is True:
        return None
    if verdict is None:
        return _unknown(rule, env, subject)
    inner = _render(rule.location, env)
    location = subject.location
    if inner:
        location = f"{location}!{inner}" if location else inner
    fix = rule.fix.render(env).strip() if rule.fix is not None else rule.doc.fix
    return Finding(rule.id, rule.severity, subject.profile, rule.checklist, subject.input,
                   location, rule.message.render(env), fix,
                   remedy=remedy_for(rule.remedy_kind, subject))


def profile_blind(rule: Rule) -> bool:
    """Whether the rule gives the same answer for every profile: none of the facts its
    conditions and texts use depends on the profile (FactSpec.per_profile)."""
    names = set(rule.facts)
    for template in (rule.location, rule.fix):
        if template is not None:
            names |= template.facts
    for name in names:
        found = resolve(name)
        if found is None or found[0].per_profile:
            return False
    return True


# A result with where it falls in `evaluate`'s order: (rule index, subject index, profile
# index). Parts of one evaluation, run apart, merge back into that order by sorting.
Tagged = tuple[tuple[int, int, int], Finding | Unknown]


def evaluate(rules: Iterable[Rule], subjects: Sequence[Subject],
             profiles: Sequence[str]) -> tuple[list[Finding], list[Unknown]]:
    """Every selected rule on every subject of its kind, for each of its profiles asked for."""
    return untag(evaluate_part(list(rules), subjects, profiles))


def evaluate_part(rules: Sequence[Rule], subjects: Sequence[Subject],
                  profiles: Sequence[str], only: Iterable[int] | None = None) -> list[Tagged]:
    """`evaluate` of the subjects at the indices `only` (default: all), tagged."""
    out: list[Tagged] = []
    # Subjects by kind, each with one view per profile shared by every rule: an archive of
    # 20,000 packages otherwise costs a million kind tests and half a million views.
    by_kind: dict[str, list[tuple[int, _Views]]] = {}
    for index in range(len(subjects)) if only is None else only:
        subject = subjects[index]
        by_kind.setdefault(subject.kind, []).append((index, _Views(subject)))
    for rule_index, rule in enumerate(rules):
        wanted = [p for p in profiles if p in rule.profiles]
        if not wanted:
            continue
        # a rule blind to the profile is checked once; its answer holds for each profile
        once = profile_blind(rule)
        for index, views in by_kind.get(rule.applies_to, ()):
            for k, result in enumerate(_answers(rule, views, wanted, once)):
                if result is not None:
                    out.append(((rule_index, index, k), result))
    return out


def untag(tagged: Iterable[Tagged]) -> tuple[list[Finding], list[Unknown]]:
    """Findings and unknowns, in the order of their tags."""
    findings: list[Finding] = []
    unknowns: list[Unknown] = []
    for _tag, result in sorted(tagged, key=lambda t: t[0]):
        if isinstance(result, Finding):
            findings.append(result)
        else:
            unknowns.append(result)
    return findings, unknowns


class _Views(dict[str, Subject]):
    """A subject's view for each profile, made when a rule first asks for that profile
    (a rule blind to the profile asks for one)."""

    __slots__ = ("subject",)

    def __init__(self, subject: Subject) -> None:
        super().__init__()
        self.subject = subject

    def __missing__(self, profile: str) -> Subject:
        view = self[profile] = self.subject.with_profile(profile)
        return view


def _answers(rule: Rule, views: _Views, wanted: list[str],
             once: bool) -> list[Finding | Unknown | None]:
    if not once:
        return [check_rule(rule, views[profile]) for profile in wanted]
    first = check_rule(rule, views[wanted[0]])
    if first is None:
        return []
    return [first, *(dataclasses.replace(first, profile=p) for p in wanted[1:])]

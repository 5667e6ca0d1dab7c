"""The Lint API used by `check` and `audit`: options in, a Report out."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from xenlint.artifact import Artifact
from xenlint.engine import overrides as ovr
from xenlint.engine.config import Config, ConfigError, load_config
from xenlint.engine.evaluate import build_subjects, evaluate
from xenlint.engine.rulebook import Rule, default_rule_dirs, load_rulebook, suggest
from xenlint.facts import Subject
from xenlint.finding import (
    EXIT_ERROR,
    EXIT_FINDINGS,
    EXIT_OK,
    PROFILES,
    FailNever,
    Finding,
    ReadError,
    Report,
    Severity,
    Unknown,
    merge_profiles,
)
from xenlint.limits import Limits
from xenlint.readers import read_path

# engine.evaluate, or something that gives the same answer another way (audit/shards.py)
Evaluator = Callable[[list[Rule], list[Subject], Sequence[str]],
                     tuple[list[Finding], list[Unknown]]]



class LintError(Exception):
    """A usage problem: bad configuration, a broken rule file, an override without reason."""


@dataclass(frozen=True, slots=True)
class LintOptions:
    profiles: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    # None: the configuration's fail-on, else error; NEVER: no finding fails the run
    fail_on: Severity | FailNever | None = None
    overrides_file: Path | None = None
    config_path: Path | None = None
    extra_rule_dirs: tuple[Path, ...] = ()
    show_unknown: bool = False
    # ignore every override: configuration, files, and those packages ship
    no_overrides: bool = False
    limits: Limits = field(default_factory=Limits)
    # --with-repo: repositories whose packages join each package set as context
    with_repo: tuple[Path, ...] = ()
    # False: ignore xenlint.toml/pyproject.toml found from the current directory (tests)
    search_config: bool = True


def config_for(options: LintOptions) -> Config:
    try:
        return load_config(options.config_path, search=options.search_config)
    except ConfigError as exc:
        raise LintError(str(exc)) from None


def effective_fail_on(options: LintOptions, config: Config | None = None
                      ) -> Severity | FailNever:
    if options.fail_on is not None:
        return options.fail_on
    return (config or config_for(options)).fail_on or Severity.ERROR


def _pick(book: Iterable[Rule], select: Sequence[str], ignore: Sequence[str]) -> list[Rule]:
    rules = list(book)
    ids = [r.id for r in rules]
    for pattern in (*select, *ignore):
        if not fnmatch.filter(ids, pattern):
            raise LintError(f"no rule matches {pattern!r}{suggest(pattern, ids)} "
                            "(see `xenlint rules`)")
    if select:
        rules = [r for r in rules if any(fnmatch.fnmatchcase(r.id, p) for p in select)]
    return [r for r in rules if not any(fnmatch.fnmatchcase(r.id, p) for p in ignore)]


def all_rules(options: LintOptions, config: Config) -> list[Rule]:
    """The shipped rules plus those of extra rule directories; a broken one is a LintError."""
    dirs = [*default_rule_dirs(), *config.rule_dirs, *options.extra_rule_dirs]
    book = load_rulebook(dirs, config.params, checklist_keys=config.checklist,
                         params_at=config.params_at)
    if book.errors:
        raise LintError("\n".join(str(e) for e in book.errors))
    return list(book)


def select_rules(options: LintOptions, config: Config, rules: Sequence[Rule]) -> list[Rule]:
    """The rules this run checks, after enable/disable and --select/--ignore."""
    return _pick(rules, options.select or config.enable, (*config.disable, *options.ignore))


def profiles_for(options: LintOptions, config: Config) -> tuple[str, ...]:
    profiles = options.profiles or config.profiles or PROFILES
    bad = [p for p in profiles if p not in PROFILES]
    if bad:
        raise LintError(f"unknown profile(s) {', '.join(bad)} (known: {', '.join(PROFILES)})")
    return tuple(dict.fromkeys(profiles))


def _overrides(options: LintOptions, config: Config, inputs: Sequence[str],
               artifacts: Sequence[Artifact] = ()) -> list[ovr.Override]:
    if options.no_overrides:
        return []
    try:
        found = ovr.parse(config.overrides, str(config.path or "configuration"))
        if options.overrides_file is not None:
            found += ovr.load_file(options.overrides_file)
        for path in ovr.beside(inputs):
            found += ovr.load_file(path)
        for art in artifacts:
            if art.package is not None and not art.error:
                data = art.read(ovr.IN_PACKAGE + art.package.name)
                if data is not None:
                    found += ovr.in_package(art.path, art.package.name, data)
    except ovr.OverrideError as exc:
        raise LintError(str(exc)) from None
    return found


def lint_paths(paths: Sequence[str | Path], options: LintOptions) -> Report:
    """Read every path (all of them form one package set) and check it."""
    config = config_for(options)
    known = all_rules(options, config)  # fail on a broken rule before reading anything
    rules = select_rules(options, config, known)
    artifacts = [a for p in paths for a in read_path(p, options.limits)]
    context, errors, warnings = repo_context(options, [artifacts])
    report = lint_selected(artifacts, options, config, (known, rules), [str(p) for p in paths],
                           context=context[0])
    report.errors += errors
    report.warnings += warnings
    return report


def repo_context(options: LintOptions, sets: Sequence[Sequence[Artifact]]) -> \
        tuple[list[list[Artifact]], list[ReadError], list[str]]:
    """For each package set, the --with-repo packages its relations reach; the
    repositories' read errors (each an unreadable input); and what they were read with
    all the same (index text that is not UTF-8), one line each."""
    if not options.with_repo:
        return [[] for _set in sets], [], []
    from xenlint.audit.context import Context  # index readers load only when asked for

    ctx = Context.load(options.with_repo, options.limits)
    found = ctx.for_sets(sets)
    return found, [ReadError(path, msg) for path, msg in ctx.errors], ctx.warnings


def lint_artifacts(artifacts: Sequence[Artifact], options: LintOptions,
                   inputs: Sequence[str] | None = None) -> Report:
    """Check artifacts that were already read. `inputs` are the paths the user gave (they
    name the package-set subject and locate `xenlint-overrides`); default: the artifacts'."""
    config = config_for(options)
    known = all_rules(options, config)
    book = (known, select_rules(options, config, known))
    return lint_selected(list(artifacts), options, config, book,
                         [a.path for a in artifacts] if inputs is None else list(inputs))


def lint_selected(artifacts: list[Artifact], options: LintOptions, config: Config,
                  book: tuple[list[Rule], list[Rule]], inputs: Sequence[str],
                  evaluator: Evaluator = evaluate, context: Sequence[Artifact] = (),
                  set_arch: str = "") -> Report:
    """Check artifacts with rules already loaded (`book` = known, selected): what audits call
    once per package set, so the rulebook is loaded once per run. `context` packages
    (--with-repo) join the package set; they are neither checked nor reported. `set_arch`
    names the machine architecture of a set that holds one (an audit's set per
    architecture)."""
    known, rules = book
    profiles = profiles_for(options, config)
    found_overrides = _overrides(options, config, inputs, artifacts)
    ran = [r for r in rules if set(r.profiles) & set(profiles)]
    label = inputs[0] if len(inputs) == 1 else ""
    subjects = build_subjects(artifacts, label, context, set_arch)
    findings, unknowns = evaluator(ran, subjects, profiles)
    packages = {a.path: (a.package.name, a.package.architecture)
                for a in artifacts if a.package is not None}
    findings, unused = ovr.apply(findings, found_overrides, [r.id for r in ran],
                                 [r.id for r in known], packages)
    report = Report(artifacts=[a.path for a in artifacts], profiles=list(profiles),
                    rules=[r.info() for r in ran], kinds=_kinds(subjects),
                    packages={path: name for path, (name, _) in packages.items()})
    # sorted first, so that each merged finding's first profile is in profile order
    report.findings = merge_profiles(sorted(findings, key=lambda f: (
        f.artifact, f.location or "", f.rule, f.profile, f.message))) + unused
    if unused:
        report.rules.append(ovr.UNUSED_OVERRIDE)
    report.unknowns = unknowns if options.show_unknown else []
    report.hidden_unknowns = 0 if options.show_unknown else len(unknowns)
    report.errors = [ReadError(path, msg) for a in artifacts for path, msg in a.read_errors()]
    return report


def _kinds(subjects: Sequence[Subject]) -> dict[str, list[str]]:
    """Input file -> the kinds of subject read from it; a package also answers to the
    package-set rules, which look at it through its set."""
    out: dict[str, list[str]] = {}
    for subject in subjects:
        if subject.artifact is None:
            continue
        kinds = out.setdefault(subject.input.split("!", 1)[0], [])
        for kind in (subject.kind, "packages") if subject.kind == "package" else \
                (subject.kind,):
            if kind not in kinds:
                kinds.append(kind)
    return out


def _errors(art: Artifact) -> list[tuple[str, str]]:
    return [(a.path, a.error) for a in art.walk() if a.error]


def exit_status(report: Report, fail_on: Severity | FailNever = Severity.ERROR) -> int:
    """0 clean, 1 findings at or above `fail_on`, 2 when some input could not be read."""
    if report.errors:
        return EXIT_ERROR
    if isinstance(fail_on, FailNever):
        return EXIT_OK
    if any(not f.suppressed and not f.known and f.severity.rank >= fail_on.rank
           for f in report.findings):
        return EXIT_FINDINGS
    return EXIT_OK

"""One audit: discover package sets, turn files into views in parallel (or from the
cache), then lint each package set with the same engine `check` uses."""

from __future__ import annotations

import dataclasses
import functools
import os
import stat
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xenlint.artifact import Artifact, Kind
from xenlint.audit import verdicts
from xenlint.audit.cache import PRIVATE, Cache, StatIndex, modes_for, salt_for, usable_root
from xenlint.audit.context import stamp as context_stamp
from xenlint.audit.executor import (
    ALONE,
    Executor,
    Submitter,
    WorkerCrashed,
    WorkerTimeout,
    executor_for,
    paused_gc,
)
from xenlint.audit.model import AuditStats, Group, WorkItem
from xenlint.audit.relevance import contents_paths, rules_need_contents
from xenlint.audit.targets import IndexJob, Parsed, discover, index_jobs
from xenlint.audit.verdicts import Rules
from xenlint.audit.worker import MISMATCH, Outcome, Stamp, WorkerConfig, analyse, relocate
from xenlint.facts import Paths
from xenlint.finding import ReadError, Report
from xenlint.limits import ArtifactError, Limits
from xenlint.readers import NOTHING_TO_READ

if TYPE_CHECKING:
    from xenlint.engine.config import Config
    from xenlint.engine.lint import LintOptions

# The hard deadline leaves the in-worker timer room to fire first and report cleanly.
HARD_DEADLINE_FACTOR, HARD_DEADLINE_GRACE = 2.0, 10.0


@dataclass(slots=True)
class AuditSettings:
    jobs: int | None = None
    cache_root: Path | None = None  # None: no cache
    # use a cache root that other users own or may write (cache.refusal)
    shared_cache: bool = False
    timeout: float = 300.0
    executor: str = "local"


@dataclass(slots=True)
class AuditResult:
    report: Report
    stats: AuditStats


Progress = Callable[[int, int], None]


def _failed(item: WorkItem, exc: BaseException) -> Artifact:
    if isinstance(exc, WorkerTimeout):
        msg = f"was abandoned: {exc} (--timeout)"
    elif isinstance(exc, WorkerCrashed):
        msg = "crashed the reader process (a bug in a parsing library?)"
    else:
        msg = f"could not be analysed ({type(exc).__name__}: {exc})"
    return Artifact(item.display, Kind.FILE, error=msg)


def _cost(item: WorkItem) -> int:
    """What reading the item costs, roughly: its size; a root tree is read in a batch of
    its own (executor.ALONE), before the packages."""
    try:
        st = os.stat(item.path)
    except OSError:
        return 0
    return ALONE if stat.S_ISDIR(st.st_mode) else st.st_size


def cache_for(options: LintOptions, settings: AuditSettings, config: Config) -> Cache | None:
    if settings.cache_root is None:
        return None
    dirs = (*options.extra_rule_dirs, *config.rule_dirs)
    return Cache(settings.cache_root, salt_for(options.limits, tuple(dirs)),
                 modes_for(settings.cache_root, settings.shared_cache))


def analyse_all(items: list[WorkItem], shas: dict[WorkItem, str | None],
                options: LintOptions, settings: AuditSettings, cache: Cache | None,
                stats: AuditStats, progress: Progress | None = None,
                executor: Executor | None = None,
                facts: frozenset[str] | None = None,
                stamps: dict[WorkItem, Stamp] | None = None) -> dict[WorkItem, Artifact | None]:
    """Every item's view: cache hits in this process, the rest through the executor.
    `shas` holds hashes xenlint computed itself (the stat index), never one an index
    claims; it gains the hash of every file the workers hashed, and `stamps` the fstat
    each of those hashes was taken with."""
    views: dict[WorkItem, Artifact | None] = {}
    todo: list[WorkItem] = []
    for item in dict.fromkeys(items):
        sha = shas.get(item)
        if sha and item.sha256 and sha != item.sha256:
            views[item] = Artifact(item.display, Kind.FILE, error=MISMATCH)
            continue
        hit = cache.get(sha) if cache is not None and sha else None
        if hit is None:
            todo.append(item)
            continue
        art, old = hit
        if art is not None:
            relocate(art, old, item, options.limits)
        views[item] = art
        stats.cached += 1
    done, total = len(views), len(views) + len(todo)
    if progress:
        progress(done, total)
    if not todo:
        return views
    config = WorkerConfig(options.limits, settings.timeout,
                          str(cache.root) if cache else None, cache.salt if cache else "",
                          facts, cache.modes if cache else PRIVATE)
    ex = executor or executor_for(settings.executor, settings.jobs)
    deadline = settings.timeout * HARD_DEADLINE_FACTOR + HARD_DEADLINE_GRACE \
        if settings.timeout else 0
    # largest first, so that the pool does not end on one big kernel package
    costs = {item: _cost(item) for item in todo}
    todo.sort(key=lambda i: (costs[i] != ALONE, -costs[i]))
    try:
        for item, result in ex.run(functools.partial(analyse, config=config), todo,
                                   deadline=deadline, costs=[costs[i] for i in todo]):
            if isinstance(result, Outcome):
                views[item] = result.artifact
                stats.cached += result.cached
                stats.opened += not result.cached
                if result.sha256 and result.stamp is not None:
                    shas[item] = result.sha256
                    if stamps is not None:
                        stamps[item] = result.stamp
            else:
                views[item] = _failed(item, result)
            done += 1
            if progress:
                progress(done, total)
    finally:
        if executor is None:
            ex.close()
    return views


def merge(into: Report, part: Report) -> None:
    # an all/noarch package is checked in every architecture's set: what each set says the
    # same of it is said once, an unreadable pool file included
    seen_findings, seen_unknowns = set(into.findings), set(into.unknowns)
    into.findings += [f for f in part.findings if f not in seen_findings]
    into.unknowns += [u for u in part.unknowns if u not in seen_unknowns]
    into.hidden_unknowns += part.hidden_unknowns
    seen_errors = set(into.errors)
    into.errors += [e for e in part.errors if e not in seen_errors]
    # sets, not list scans: an archive's two architecture sets share ~30,000 all packages
    seen_artifacts = set(into.artifacts)
    into.artifacts += [a for a in part.artifacts if a not in seen_artifacts]
    known = {r.id for r in into.rules}
    into.rules += [r for r in part.rules if r.id not in known]
    into.profiles += [p for p in part.profiles if p not in into.profiles]
    into.kinds.update(part.kinds)
    into.packages.update(part.packages)


def group_artifacts(group: Group, views: dict[WorkItem, Artifact | None]) -> list[Artifact]:
    opened = [a for a in (views.get(i) for i in group.items) if a is not None]
    if not group.metadata:
        return opened  # a tree: the order `check` reads it in
    return sorted(opened + group.metadata, key=lambda a: a.path)


def _held(art: Artifact) -> int:
    return sum(a.captured_count() for a in art.walk())


def _learn(views: dict[WorkItem, Artifact | None], held: dict[WorkItem, int],
           cache: Cache | None) -> None:
    """A fact read member contents that nobody declared (a library of another package
    found through the dependency closure): the view fetched them from the file during
    lint. Store the richer view, so the next audit of the same bytes reads nothing."""
    if cache is None:
        return
    for item, art in views.items():
        if art is not None and art.sha256 and _held(art) > held.get(item, 0):
            cache.put(art.sha256, art.path, art)


def _parse_ahead(ex: Executor, target: str, limits: Limits, cache: Cache | None,
                 keep: Paths | None, timeout: float) -> Parsed:
    """Start parsing TARGET's repository indexes in the pool, in pieces, unless the cache
    already holds them: they run while the main process prepares the audit. An executor
    without `submit` leaves them to `discover`."""
    if not isinstance(ex, Submitter):
        return {}
    jobs = [j for j in index_jobs(target, limits, ex.jobs, keep)
            if cache is None or not cache.has_memo(j.tag, list(j.files))]
    parsed: dict[str, Callable[[], Any]] = {}
    for job in jobs:
        # each call under the per-item --timeout, as a package's read is
        calls = [job.timed(timeout, call) for call in job.calls()]
        parsed[job.tag] = functools.partial(_outcome, ex.submit, job, calls,
                                            [ex.submit(call) for call in calls])
    return parsed


def _outcome(submit: Callable[..., Future[Any]], job: IndexJob,
             calls: list[Callable[[], Any]], futures: list[Future[Any]]) -> Any:
    """The parse's result. A worker that died takes every parse of its pool with it: each
    is run once more, alone (results are asked for one at a time), and only one that
    kills its worker again is the culprit."""
    return job.result([_alone_if_broken(submit, call, future)
                       for call, future in zip(calls, futures, strict=True)])


def _alone_if_broken(submit: Callable[..., Future[Any]], call: Callable[[], Any],
                     future: Future[Any]) -> Any:
    try:
        return future.result()
    except BrokenProcessPool:
        pass
    try:
        return submit(call).result()
    except BrokenProcessPool:  # a hostile index crashed a C library
        raise ArtifactError("its parser crashed the worker process") from None


def audit(target: str, options: LintOptions, settings: AuditSettings,
          progress: Progress | None = None, executor: Executor | None = None) -> AuditResult:
    """Audit TARGET. Raises lint.LintError for a usage problem (config, rules, overrides)."""
    ex = executor or executor_for(settings.executor, settings.jobs)
    owned = executor is None
    try:
        with paused_gc():  # the main process builds views and findings, it drops little
            return _audit(target, options, settings, progress, ex, owned)
    except BaseException:
        if owned and isinstance(ex, Submitter):
            ex.abandon()  # a usage error need not wait for the index parse
        raise
    finally:
        if owned:
            ex.close()


def _audit(target: str, options: LintOptions, settings: AuditSettings,
           progress: Progress | None, ex: Executor, owned: bool) -> AuditResult:
    start = time.perf_counter()
    stats = AuditStats()
    from xenlint.engine.lint import config_for

    config = config_for(options)  # usage errors before any reading
    # a root that others may write is refused here too, for callers of this API
    settings = dataclasses.replace(
        settings, cache_root=usable_root(settings.cache_root, settings.shared_cache))
    cache = cache_for(options, settings, config)
    rules = Rules.load(options, config)  # usage errors before any package is read
    keep = contents_paths(rules.facts)
    parsed = _parse_ahead(ex, target, options.limits, cache, keep, settings.timeout)
    groups = discover(target, options.limits, rules_need_contents(rules.selected), cache,
                      parsed, keep, settings.timeout)
    stats.warnings = [w for g in groups for w in g.warnings]
    index = StatIndex(settings.cache_root, cache.modes if cache else PRIVATE)
    shas = {i: index.lookup(i.path) for g in groups for i in g.items}
    repo_stamp = context_stamp(options.with_repo) if cache else ""
    parts: list[Report | None] = []
    for group in groups:
        k = verdicts.key(group, shas, options, rules, cache, repo_stamp) if cache else None
        parts.append(cache.get_report(k) if cache and k else None)
    todo = [i for g, part in zip(groups, parts, strict=True) if part is None for i in g.items]
    stamps: dict[WorkItem, Stamp] = {}
    views = analyse_all(todo, shas, options, settings, cache, stats, progress, ex,
                        rules.facts, stamps)
    if owned:
        ex.close()  # its threads must end before lint may fork (shards.py)
    for item, stamp in stamps.items():
        if sha := shas.get(item):
            index.record(item.path, sha, stamp)
    index.save()
    held = {item: _held(art) for item, art in views.items() if art is not None}
    report = Report()
    todo_arts = {id(g): group_artifacts(g, views)
                 for g, part in zip(groups, parts, strict=True) if part is None}
    from xenlint.engine.lint import repo_context

    # the --with-repo indexes are read once, for every package set still to lint
    contexts, report.errors, context_warnings = repo_context(options, list(todo_arts.values()))
    stats.warnings += context_warnings
    context_of = dict(zip(todo_arts, contexts, strict=True))
    for group, part in zip(groups, parts, strict=True):
        if part is None:
            arts = todo_arts[id(group)]
            stats.from_index += sum(a.meta.metadata_only for a in arts)
            if arts or len(groups) == 1:  # an empty tree still gets `check`'s verdict
                part = verdicts.lint_group(arts, options, rules, group.label, ex.jobs,
                                           context=context_of[id(group)], arch=group.arch)
                k = verdicts.key(group, shas, options, rules, cache, repo_stamp) if cache else None
                if cache and k:
                    cache.put_report(k, part)
        else:
            stats.cached += len(group.items)
            stats.from_index += len(group.metadata)
        stats.groups.append((group.name, group.size))
        if part is not None:
            merge(report, part)
    _learn(views, held, cache)
    if not report.artifacts and not report.errors:
        # as `check DIR` says of it: an audit that read nothing must not pass
        report.artifacts.append(target)
        report.errors.append(ReadError(target, NOTHING_TO_READ))
    stats.seconds = time.perf_counter() - start
    return AuditResult(report, stats)

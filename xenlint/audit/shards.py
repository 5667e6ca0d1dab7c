"""Lint of one big package set in parts, side by side, in processes forked from this one.

Every part needs the whole set (package-set facts: closures, who ships a path), which a
forked child inherits for free and which would cost more to pickle than to lint. So this
is local and fork-only: where fork is not available, or where another thread runs (fork
would copy its locks in whatever state they are), the set is linted in this process as
`check` does. Forking pays only for big sets: after a fork, parent and child both copy
every page they write to (reference counts), which costs more than linting a few hundred
packages. The children return tagged results that merge into exactly `evaluate`'s order,
and the member contents their facts had to read from disk, so that the audit can cache
them as after a serial lint.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from xenlint.artifact import Artifact
from xenlint.audit.executor import die_with_parent
from xenlint.engine.evaluate import Tagged, evaluate_part, untag
from xenlint.engine.rulebook import Rule
from xenlint.facts import Subject
from xenlint.finding import Finding, Unknown

# Below this many subjects, forking costs more than the parts save (docs/audit.md).
MIN_SUBJECTS = 4000
# Each child copies about half of this process's memory (the views of different packages
# share pages): more parts would cost memory faster than they save time.
MAX_PARTS = 4


class _Work:
    """One lint in parts: what every child inherits when it forks."""

    def __init__(self, rules: Sequence[Rule], subjects: Sequence[Subject],
                 profiles: Sequence[str], parts: list[list[int]]) -> None:
        self.rules, self.subjects, self.profiles, self.parts = rules, subjects, profiles, parts
        self.artifacts = _artifacts(subjects)
        # what a child's facts read comes after these counts (Artifact.captured_since)
        self.held = [a.captured_count() for a in self.artifacts]


# member path -> bytes that a child's facts read, by index in `_Work.artifacts`
Learned = dict[int, dict[str, bytes]]


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and \
        threading.active_count() == 1


def _artifacts(subjects: Sequence[Subject]) -> list[Artifact]:
    """Every artifact the subjects' runs hold, nested ones included, in a fixed order."""
    runs = {id(s.run): s.run for s in subjects}
    seen: dict[int, Artifact] = {}
    for run in runs.values():
        for art in run.artifacts:
            for a in art.walk():
                seen.setdefault(id(a), a)
    return list(seen.values())


# In a forked child only: the work its pool's initializer handed it. A task reaches
# what its process inherited only through its module; the parent keeps no such state.
_adopted: list[_Work] = []


def _adopt(parent: int, work: _Work) -> None:
    """A child's start: forked with the work (fork passes it without pickling)."""
    die_with_parent(parent)
    _adopted[:] = [work]


def _part(k: int) -> tuple[list[Tagged], Learned]:
    assert _adopted, "a part runs only in a child forked by evaluate_in_parts"
    work = _adopted[0]
    tagged = evaluate_part(work.rules, work.subjects, work.profiles, work.parts[k])
    learned = {i: a.captured_since(work.held[i])
               for i, a in enumerate(work.artifacts) if a.captured_count() > work.held[i]}
    return tagged, learned


def evaluate_in_parts(rules: Sequence[Rule], subjects: Sequence[Subject],
                      profiles: Sequence[str], parts: int
                      ) -> tuple[list[Finding], list[Unknown]]:
    """`engine.evaluate`, in `parts` processes (this one among them) when it pays."""
    rules = list(rules)
    parts = min(parts, MAX_PARTS)
    if parts < 2 or len(subjects) < MIN_SUBJECTS or not can_fork():
        return untag(evaluate_part(rules, subjects, profiles))
    # The package-set subjects first, here: their facts index the whole set (who ships
    # what, each package's listing, closures), which every part would otherwise redo.
    whole = [i for i, s in enumerate(subjects) if s.kind == "packages"]
    tagged = evaluate_part(rules, subjects, profiles, whole)
    rest = [i for i, s in enumerate(subjects) if s.kind != "packages"]
    work = _Work(rules, subjects, profiles, [rest[k::parts] for k in range(parts)])
    with ProcessPoolExecutor(parts - 1, mp_context=multiprocessing.get_context("fork"),
                             initializer=_adopt, initargs=(os.getpid(), work)) as pool:
        try:
            futures = [pool.submit(_part, k) for k in range(1, parts)]
        except OSError:  # no process to be had (a limit on processes): all of it here
            futures = []
        tagged += evaluate_part(rules, subjects, profiles, work.parts[0] if futures else rest)
        for k, future in enumerate(futures, start=1):
            tagged += _collect(work, k, future)
    return untag(tagged)


def _collect(work: _Work, k: int, future: Future[tuple[list[Tagged], Learned]]
             ) -> list[Tagged]:
    """Part k's results, and the contents it read put where the parent's facts find them.
    A child that died (out of memory?) or could not send its results: its part is checked
    here, where it fails or succeeds as it would have serially."""
    try:
        tagged, learned = future.result()
    except Exception:
        return evaluate_part(work.rules, work.subjects, work.profiles, work.parts[k])
    for i, contents in learned.items():
        work.artifacts[i].keep(contents)
    return tagged

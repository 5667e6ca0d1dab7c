"""Lint of a big package set in parts, in forked processes (xenlint/audit/shards.py): the
same findings and unknowns, in the same order, as one process gives; what a part read
from disk comes back; no fork where it would be unsafe or cannot pay."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from audit_repos import FIXTURE_DEBS, deb_repo

import tests.engine.testfacts  # noqa: F401  (registers the test.* facts)
from xenlint.artifact import Artifact, Entry, EntryType, Kind, Package
from xenlint.audit import shards
from xenlint.audit.run import AuditSettings, audit
from xenlint.audit.verdicts import Rules
from xenlint.engine.evaluate import build_subjects, evaluate
from xenlint.engine.lint import LintOptions, profiles_for
from xenlint.engine.rulebook import load_rule
from xenlint.facts import Subject, fact
from xenlint.limits import Limits
from xenlint.readers import read_path

OPTIONS = LintOptions(search_config=False, show_unknown=True)


@fact("test.secret")
def _secret(subject: Subject) -> object:
    """Test-only fact: the undeclared member /etc/secret, read through the artifact."""
    art = subject.artifact
    data = art.read("/etc/secret") if art is not None else None
    return None if data is None else data.decode()


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Parts for sets of any size, and a count of the process pools lint starts."""
    monkeypatch.setattr(shards, "MIN_SUBJECTS", 0)
    pools: list[int] = []

    def counting(*args: Any, **kwargs: Any) -> ProcessPoolExecutor:
        pools.append(args[0])
        return ProcessPoolExecutor(*args, **kwargs)

    monkeypatch.setattr(shards, "ProcessPoolExecutor", counting)
    return pools


@pytest.fixture(scope="module")
def corpus_run(corpus: Path) -> tuple[list[Artifact], Rules, tuple[str, ...]]:
    arts = read_path(str(corpus), Limits())
    rules = Rules.load(OPTIONS)
    return arts, rules, profiles_for(OPTIONS, rules.config)


def test_parts_give_the_corpus_verdicts_of_one_process(
        corpus_run: tuple[list[Artifact], Rules, tuple[str, ...]], forks: list[int]) -> None:
    arts, rules, profiles = corpus_run
    one = evaluate(rules.selected, build_subjects(arts), profiles)
    assert one[0] and one[1], "the corpus has findings and unknowns: none would prove nothing"
    for parts in (2, 3):
        assert shards.evaluate_in_parts(rules.selected, build_subjects(arts), profiles,
                                        parts) == one
    assert forks == [1, 2]  # a child per part but the parent's own


def _die(_k: int) -> Any:
    os._exit(3)


def test_a_dead_part_is_done_in_the_parent(
        corpus_run: tuple[list[Artifact], Rules, tuple[str, ...]], forks: list[int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    arts, rules, profiles = corpus_run
    one = evaluate(rules.selected, build_subjects(arts), profiles)
    monkeypatch.setattr(shards, "_part", _die)
    assert shards.evaluate_in_parts(rules.selected, build_subjects(arts), profiles, 3) == one
    assert forks == [2]


class _NoFork(ProcessPoolExecutor):
    def submit(self, *args: Any, **kwargs: Any) -> Any:
        raise OSError(11, "Resource temporarily unavailable")


def test_no_process_to_be_had_lints_here(
        corpus_run: tuple[list[Artifact], Rules, tuple[str, ...]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    arts, rules, profiles = corpus_run
    monkeypatch.setattr(shards, "MIN_SUBJECTS", 0)
    monkeypatch.setattr(shards, "ProcessPoolExecutor", _NoFork)
    one = evaluate(rules.selected, build_subjects(arts), profiles)
    assert shards.evaluate_in_parts(rules.selected, build_subjects(arts), profiles, 3) == one


@pytest.fixture
def other_thread() -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    yield
    stop.set()
    thread.join()


def test_no_fork_while_another_thread_runs(
        corpus_run: tuple[list[Artifact], Rules, tuple[str, ...]], forks: list[int],
        other_thread: None) -> None:
    arts, rules, profiles = corpus_run
    one = evaluate(rules.selected, build_subjects(arts), profiles)
    assert shards.evaluate_in_parts(rules.selected, build_subjects(arts), profiles, 2) == one
    assert forks == []


def test_no_fork_for_a_small_set(
        corpus_run: tuple[list[Artifact], Rules, tuple[str, ...]], forks: list[int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    arts, rules, profiles = corpus_run
    subjects = build_subjects(arts)
    monkeypatch.setattr(shards, "MIN_SUBJECTS", len(subjects) + 1)
    one = evaluate(rules.selected, build_subjects(arts), profiles)
    assert shards.evaluate_in_parts(rules.selected, subjects, profiles, 2) == one
    assert forks == []


SECRET_RULE = """severity = "warning"
profiles = ["dom0"]
checklist = ["dom0-kernel"]
applies-to = "package"
expect = 'test.secret == "open sesame"'
message = "{artifact.name} keeps another secret"

[doc]
what = "w"
why = "w"
fix = "f"
"""


class _Loader:
    """A reader's loader for tests: serves /etc/secret and counts the reads it made."""

    def __init__(self, owner: list[int]) -> None:
        self.calls = owner

    def __call__(self, paths: set[str]) -> Mapping[str, bytes]:
        self.calls.append(os.getpid())
        return {p: b"open sesame" for p in paths if p == "/etc/secret"}


def _package(i: int, calls: list[int]) -> Artifact:
    entries = {"/etc/secret": Entry("/etc/secret", EntryType.FILE, size=11)}
    art = Artifact(f"p{i}.deb", Kind.DEB, package=Package(f"p{i}", "1"), entries=entries)
    art.set_loader(_Loader(calls))
    return art


def test_contents_a_part_read_come_back_to_the_parent(tmp_path: Path,
                                                      forks: list[int]) -> None:
    (tmp_path / "secret.toml").write_text(SECRET_RULE)
    rule = load_rule(tmp_path / "secret.toml")
    calls: list[int] = []
    arts = [_package(i, calls) for i in range(6)]
    findings, unknowns = shards.evaluate_in_parts([rule], build_subjects(arts), ["dom0"], 2)
    assert findings == [] and unknowns == []  # every package's secret was read, and right
    assert forks == [1]
    # the parent read its own part's packages; the child's came back as contents
    assert len(calls) == 3 and set(calls) == {os.getpid()}
    assert all(a.captured_since(0) == {"/etc/secret": b"open sesame"} for a in arts)


def test_audit_lints_in_parts_with_the_report_of_one_process(
        tmp_path: Path, forks: list[int]) -> None:
    root = deb_repo(tmp_path / "repo", {"bookworm": FIXTURE_DEBS})
    reports = [audit(str(root), OPTIONS, AuditSettings(jobs=jobs)).report
               for jobs in (1, 2)]
    # OPTIONS list the unknowns: the fixtures' relations name packages the run lacks
    assert reports[0].findings or reports[0].unknowns
    assert reports[1] == reports[0]
    assert forks == [1]  # -j2 linted in two parts; -j1 in its own process



def test_no_more_parts_than_the_cap(
        corpus_run: tuple[list[Artifact], Rules, tuple[str, ...]], forks: list[int]) -> None:
    arts, rules, profiles = corpus_run
    one = evaluate(rules.selected, build_subjects(arts), profiles)
    assert shards.evaluate_in_parts(rules.selected, build_subjects(arts), profiles, 16) == one
    assert forks == [shards.MAX_PARTS - 1]  # children; the parent checks a part itself

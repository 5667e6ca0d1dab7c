"""`xenlint audit`: the same findings as `check`, reports for pipelines, a cache that
spares every package read on a re-run, and robustness against bad inputs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import jsonschema
import pytest
import xmlschema
from audit_repos import FIXTURE_DEBS, REPO, deb_repo, make_deb, need, rpm_repo
from click.testing import CliRunner

from xenlint.audit import worker
from xenlint.audit.run import AuditSettings, audit
from xenlint.cli import main
from xenlint.engine.lint import LintOptions

T = TypeVar("T")
R = TypeVar("R")
SHARED = REPO.parent / "shared"
SCHEMAS = REPO / "tests" / "data" / "schemas"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    res = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return res.exit_code, res.stdout, res.stderr


def as_json(*args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run(*args, "--format", "json")
    assert code in (0, 1, 2), err
    return code, json.loads(out)


def test_audit_of_the_corpus_tree_equals_check(corpus: Path, tmp_path: Path) -> None:
    checked = as_json("check", str(corpus))
    audited = as_json("audit", str(corpus), "-j", "2", "--cache-dir", str(tmp_path / "c"))
    assert audited == checked
    assert checked[1]["findings"], "the corpus has known findings; an empty list proves nothing"
    # and the second, cached run gives the same again
    assert as_json("audit", str(corpus), "--cache-dir", str(tmp_path / "c")) == checked


def _per_package(doc: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {(f["rule"], Path(f["artifact"]).name, f["profile"], f["message"])
            for f in doc["findings"] if f["artifact"].endswith((".deb", ".rpm"))}


def test_debian_repository_of_the_corpus(corpus: Path, tmp_path: Path) -> None:
    root = deb_repo(tmp_path / "repo", {"bookworm": sorted((corpus / "deb").glob("*.deb"))})
    cache = str(tmp_path / "cache")
    code, audited = as_json("audit", str(root), "--cache-dir", cache)
    dom0 = as_json("audit", str(root), "--no-cache", "--profile", "dom0")
    code_check, checked = as_json("check", *map(str, sorted((root / "pool").rglob("*.deb"))))
    assert code == code_check
    assert _per_package(audited) and _per_package(audited) == _per_package(checked)
    # re-audit unchanged: the same report, from the cache
    assert as_json("audit", str(root), "--cache-dir", cache) == (code, audited)
    # other options: the set's report is linted again, from the cached views
    assert as_json("audit", str(root), "--cache-dir", cache, "--profile", "dom0") == dom0
    # every package overwritten by junk: the index still names the old sha256, and what
    # was read does not match it, cache or no cache
    opened = [Path(p).name for p in audited["artifacts"]]
    for deb in (root / "pool").rglob("*.deb"):
        deb.write_bytes(b"junk")
    for cached in ("--cache-dir", cache), ("--no-cache",):
        code_junk, junk = as_json("audit", str(root), *cached)
        assert code_junk == 2 and junk["errors"]
        assert {e["message"] for e in junk["errors"]} == {"does not match its index (sha256)"}
        assert {Path(e["artifact"]).name for e in junk["errors"]} <= set(opened)


def test_rpm_repository_of_the_corpus(corpus: Path, tmp_path: Path) -> None:
    rpms = sorted((corpus / "rpm").glob("*.rpm"))
    root = rpm_repo(tmp_path / "repo", rpms)
    code, audited = as_json("audit", str(root), "--no-cache")
    code_check, checked = as_json("check", *map(str, sorted((root / "Packages").glob("*.rpm"))))
    assert code == code_check
    assert _per_package(audited) and _per_package(audited) == _per_package(checked)


class CountingExecutor:
    """An in-process executor (the protocol a cluster adapter implements) that counts."""

    jobs = 1

    def __init__(self) -> None:
        self.calls = 0

    def run(self, fn: Callable[[T], R], items: Sequence[T], *, deadline: float = 0,
            costs: Sequence[int] | None = None) -> Iterator[tuple[T, R | BaseException]]:
        for item in items:
            self.calls += 1
            yield item, fn(item)

    def close(self) -> None:
        pass


def test_unchanged_tree_is_not_read_again(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for deb in FIXTURE_DEBS:
        shutil.copy(deb, tree / deb.name)
    make_deb(tree, "xen-system-test", depends="xen-hypervisor-test")
    settings = AuditSettings(cache_root=tmp_path / "cache")
    options = LintOptions(search_config=False)
    first = CountingExecutor()
    one = audit(str(tree), options, settings, executor=first)
    assert first.calls == len(FIXTURE_DEBS) + 1 and one.stats.opened == first.calls

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("a package was read again")

    monkeypatch.setattr(worker, "read_source", no_reading)
    monkeypatch.setattr(worker, "_hash", no_reading)
    second = CountingExecutor()
    two = audit(str(tree), options, settings, executor=second)
    assert second.calls == 0 and two.stats.cached == first.calls
    assert two.report == one.report

    # a changed file is read again, and only that one
    monkeypatch.undo()
    make_deb(tree, "xen-system-test", depends="xen-hypervisor-test, xen-utils-test")
    third = CountingExecutor()
    audit(str(tree), options, settings, executor=third)
    assert third.calls == 1


def test_cache_location_and_no_cache(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(FIXTURE_DEBS[0], tree)
    xdg = tmp_path / "xdg"
    run("audit", str(tree), env={"XDG_CACHE_HOME": str(xdg)})
    assert list((xdg / "xenlint" / "views").rglob("*.msgpack"))
    before = sorted(p for p in tmp_path.rglob("*") if "xdg" not in p.parts)
    run("audit", str(tree), "--no-cache", env={"XDG_CACHE_HOME": str(tmp_path / "none")})
    assert not (tmp_path / "none").exists()
    moved = tmp_path / "moved"
    run("audit", str(tree), "--cache-dir", str(moved), env={"XDG_CACHE_HOME": str(xdg)})
    assert list((moved / "views").rglob("*.msgpack"))
    after = sorted(p for p in tmp_path.rglob("*") if "xdg" not in p.parts
                   and "moved" not in p.parts)
    assert after == before  # nothing written beside the inputs


def test_broken_input_is_reported_and_the_audit_goes_on(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    data = FIXTURE_DEBS[0].read_bytes()
    (tree / "truncated.deb").write_bytes(data[: len(data) // 2])
    shutil.copy(FIXTURE_DEBS[0], tree)
    code, doc = as_json("audit", str(tree), "--no-cache")
    assert code == 2
    assert [Path(e["artifact"]).name for e in doc["errors"]] == ["truncated.deb"]
    assert len(doc["artifacts"]) == 2
    code_check, checked = as_json("check", str(tree))
    assert (code, doc) == (code_check, checked)


def test_sarif_and_junit_of_an_audit_validate(corpus: Path, tmp_path: Path) -> None:
    root = deb_repo(tmp_path / "repo", {"bookworm": sorted((corpus / "deb").glob("xen*.deb"))})
    cache = str(tmp_path / "cache")
    _code, out, _ = run("audit", str(root), "--format", "sarif", "--cache-dir", cache)
    sarif = json.loads(out)
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema)
    assert sarif["runs"][0]["results"]
    junit = tmp_path / "junit.xml"
    run("audit", str(root), "--format", "junit", "--output", str(junit), "--cache-dir", cache)
    xmlschema.XMLSchema(str(SCHEMAS / "junit.xsd")).validate(str(junit))


def test_iso_image_is_audited_as_check_reads_it(corpus: Path, tmp_path: Path) -> None:
    need("xorriso")
    stage = tmp_path / "cd"
    (stage / "install").mkdir(parents=True)
    shutil.copy(corpus / "kernel" / "config-6.1.0-56-cloud-amd64", stage / "install")
    shutil.copy(corpus / "initramfs" / "initrd.img-6.1.0-56-cloud-amd64.itools-list",
                stage / "install" / "initrd.gz")
    iso = tmp_path / "mini.iso"
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-R", "-V", "XENTEST", "-o",
                    str(iso), str(stage)], check=True, capture_output=True)
    audited = as_json("audit", str(iso), "--no-cache")
    assert audited == as_json("check", str(iso))
    assert any(f["rule"].startswith("initramfs-") for f in audited[1]["findings"])


def test_quiet_in_pipelines(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(FIXTURE_DEBS[0], tree)
    code, out, err = run("audit", str(tree), "--no-cache")
    assert code in (0, 1) and out
    assert err == ""  # no progress bar and no table when stderr is not a terminal
    _code, _out, err = run("audit", str(tree), "--no-cache", "--summary")
    assert "Audit summary" in err and "artifacts" in err


def test_progress_bar_and_summary_on_a_terminal(tmp_path: Path) -> None:
    need("script")
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(FIXTURE_DEBS[0], tree)
    log = tmp_path / "typescript"
    report = tmp_path / "report.txt"
    command = (f"{sys.executable} -m xenlint audit {tree} --no-cache -j 1 > {report}")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("CI", None)
    subprocess.run(["script", "-qec", command, str(log)], env=env, check=False,
                   capture_output=True, timeout=300)
    screen = log.read_text(errors="replace")
    assert "reading" in screen and "1/1" in screen  # rich's bar, on the terminal only
    assert "Audit summary" in screen
    assert "reading" not in report.read_text()


def test_same_bytes_elsewhere_come_from_the_cache_under_their_new_name(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    for deb in FIXTURE_DEBS:
        shutil.copy(deb, first / deb.name)
    cache = str(tmp_path / "cache")
    as_json("audit", str(first), "--cache-dir", cache)
    shutil.copytree(first, second)
    # the fixtures' relations name packages the run lacks: what they say is unknown
    options = LintOptions(search_config=False, show_unknown=True)
    result = audit(str(second), options, AuditSettings(cache_root=Path(cache)),
                   executor=CountingExecutor())
    assert result.stats.opened == 0 and result.stats.cached == len(FIXTURE_DEBS)
    assert result.report.unknowns
    assert all(u.artifact.startswith(str(second)) for u in result.report.unknowns)
    assert as_json("audit", str(second), "--cache-dir", cache) == as_json("check", str(second))

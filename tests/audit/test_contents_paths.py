"""An audit keeps of a repository's Contents only the paths the selected rules' facts
declare (facts.Paths), plus one path per package; each index and each Contents file is
read by one piece of the parse. The facts must answer exactly as from the whole lists."""

from __future__ import annotations

import gzip
import lzma
from pathlib import Path

import pytest
from audit_repos import FIXTURE_DEBS, deb_repo, make_deb

from xenlint.audit import debrepo, targets
from xenlint.audit.relevance import STRUCTURE_PATHS, contents_paths
from xenlint.audit.run import AuditSettings, audit
from xenlint.audit.targets import index_jobs
from xenlint.engine.evaluate import build_subjects
from xenlint.engine.lint import LintOptions
from xenlint.facts import Paths, registry
from xenlint.limits import Limits


def _write_contents(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode()))
    return path


def test_file_lists_keep_what_is_declared_and_one_path_of_every_package(
        tmp_path: Path) -> None:
    contents = _write_contents(tmp_path / "Contents-amd64.gz", (
        "FILE LOCATION\n"
        "usr/bin/xl admin/xen-utils\n"
        "usr/lib/xen-4.17/bin/xl admin/xen-utils\n"
        "usr/share/doc/meta/copyright doc/meta\n"
        "usr/share/doc/meta/changelog.gz doc/meta\n"
        "usr/share/doc/lib/copyright libs/lib\n"
        "usr/lib/x86_64-linux-gnu/liba.so.1 libs/lib\n"
        "usr/share/man/man1/a.1.gz libs/lib\n"
        "/usr/bin/slashed misc/slash\n"))
    keep = Paths(under=("/usr/bin/",), containing=("xen",))
    assert debrepo.file_lists(contents, Limits(), keep) == {
        # covered: every path of the package (its name holds "xen" too)
        "xen-utils": ["/usr/bin/xl", "/usr/lib/xen-4.17/bin/xl"],
        "slash": ["/usr/bin/slashed"],
        # the rest: one path, documentation only when the package ships nothing else
        "meta": ["/usr/share/doc/meta/copyright"],
        "lib": ["/usr/lib/x86_64-linux-gnu/liba.so.1"]}
    full = debrepo.file_lists(contents, Limits())
    assert len(full["lib"]) == 3 and len(full["meta"]) == 2


def _stanza(name: str, arch: str) -> str:
    return (f"Package: {name}\nVersion: 1\nArchitecture: {arch}\n"
            f"Filename: pool/{name}_1_{arch}.deb\nSize: 1\nSHA256: {'0' * 64}\n"
            "Description: x\n\n")


def test_each_index_and_contents_file_is_read_by_one_piece(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suite = tmp_path / "dists" / "s"
    for arch in ("amd64", "arm64"):
        index = suite / "main" / f"binary-{arch}" / "Packages.xz"
        index.parent.mkdir(parents=True)
        stanzas = [_stanza(f"tool-{i}", arch) for i in range(300)] + [_stanza("common", "all")]
        index.write_bytes(lzma.compress("".join(stanzas).encode()))
        _write_contents(suite / "main" / f"Contents-{arch}.gz",
                        "".join(f"usr/bin/tool-{i} admin/tool-{i}\n" for i in range(300))
                        + f"usr/lib/{arch}-only admin/tool-0\n")
    _write_contents(suite / "main" / "Contents-all.gz", "usr/bin/common admin/common\n")
    opened: list[str] = []
    real_blocks = debrepo.line_blocks

    def recording(path: Path, limits: Limits):  # type: ignore[no-untyped-def]
        opened.append(path.name + ":" + path.parent.name)
        return real_blocks(path, limits)

    real_lines = debrepo.lines

    def recording_lines(path: Path, limits: Limits):  # type: ignore[no-untyped-def]
        opened.append(path.name + ":" + path.parent.name)
        return real_lines(path, limits)

    monkeypatch.setattr(debrepo, "line_blocks", recording)
    monkeypatch.setattr(debrepo, "lines", recording_lines)
    monkeypatch.setattr(targets, "SPLIT_BYTES", 0)  # split as a big archive is
    [job] = index_jobs(str(tmp_path), Limits(), pieces=2)
    assert len(job.pieces) == 2 + 3
    results = []
    for piece in job.pieces:
        before = len(opened)
        results.append(piece())
        assert len(opened) - before == 1  # one file per piece
    assert sorted(opened) == sorted([
        "Packages.xz:binary-amd64", "Packages.xz:binary-arm64", "Contents-amd64.gz:main",
        "Contents-arm64.gz:main", "Contents-all.gz:main"])
    arts, errors = job.result(results)
    assert errors == []
    files = {(a.package.name, a.package.architecture): set(a.files) for a in arts if a.package}
    # an index's packages get the lists of its architecture, arch-all ones Contents-all's
    assert files[("tool-0", "amd64")] == {"/usr/bin/tool-0", "/usr/lib/amd64-only"}
    assert files[("tool-0", "arm64")] == {"/usr/bin/tool-0", "/usr/lib/arm64-only"}
    assert files[("common", "all")] == {"/usr/bin/common"}


def _fact_values(arts: list, names: list[str]) -> dict[tuple[str, str], object]:
    out: dict[tuple[str, str], object] = {}
    for subject in build_subjects(arts):
        for name in names:
            out[(repr(subject), name)] = subject.get(name)
    return out


def test_facts_answer_alike_from_kept_and_whole_contents(
        corpus: Path, tmp_path: Path) -> None:
    """Each fact that declares its paths gives, on header-only packages, the value it
    gives with every path of Contents: what it asks about is what it declared."""
    debs = [*FIXTURE_DEBS, *sorted((corpus / "deb").glob("*.deb"))]
    root = deb_repo(tmp_path / "repo", {"main": debs}, contents=True)
    suite = root / "dists" / "main"
    whole, _errors = debrepo.read_suite(root, suite, Limits())
    declared = sorted(n for n, s in registry().items() if s.paths is not None
                      and set(s.subjects) & {"package", "packages", "kernel"})
    expected = _fact_values(whole, declared)
    shown = [v for v in expected.values()
             if v is True or (isinstance(v, (str, list, set, dict)) and len(v) > 0)]
    assert len(shown) > 50  # the packages give the facts something to say
    total = sum(len(a.entries) for a in whole)
    for name in declared:
        keep = contents_paths([name])
        assert keep is not None
        kept, _errors = debrepo.read_suite(root, suite, Limits(), keep)
        assert sum(len(a.entries) for a in kept) < total, name  # the filter bites
        got = _fact_values(kept, [name])
        assert got == {k: v for k, v in expected.items() if k[1] == name}, name


def test_a_fact_that_may_ask_about_any_path_keeps_every_path() -> None:
    assert contents_paths(["package.files"]) is None
    assert contents_paths(["package.name"]) == STRUCTURE_PATHS


def _link_verdicts(root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """symlink-target-not-shipped on an audit of `root`: package -> message, for the
    findings and for the unknowns (their reason)."""
    options = LintOptions(search_config=False, show_unknown=True,
                          select=("symlink-target-not-shipped",))
    report = audit(str(root), options, AuditSettings(cache_root=None)).report
    name = {path: pkg for path, pkg in report.packages.items()}
    return ({name[f.artifact]: f.message for f in report.findings},
            {name[u.artifact]: u.reason for u in report.unknowns})


@pytest.mark.parametrize("contents", [True, False])
def test_a_link_into_a_package_known_only_from_the_index_is_unknown(
        tmp_path: Path, contents: bool) -> None:
    """The link fact keeps of Contents only Xen's paths: a link from a package read in full
    to a library that a package known only from the index ships (its list trimmed, or no
    Contents at all) is undecided and names that package; with Contents, a dangling link
    into Xen's own paths is still an error, and says nothing of the undecided one."""
    pool = tmp_path / "debs"
    pool.mkdir()
    lib = "/usr/lib/x86_64-linux-gnu/libfoo.so.1"
    debs = [
        # the audit keeps one path of a package whatever it declares: here /usr/bin/foo
        make_deb(pool, "libfoo1", files={"/usr/bin/foo": "elf\n", lib: "elf\n"}),
        make_deb(pool, "xen-demo-tools", depends="libfoo1",
                 links={"/usr/lib/xen-demo/libfoo.so.1": lib}),
        make_deb(pool, "xen-demo-utils", depends="libfoo1",
                 links={"/usr/lib/xen-demo/libfoo.so.1": lib,
                        "/usr/sbin/xl-demo": "../lib/xen-demo-common/bin/wrapper"}),
    ]
    root = deb_repo(tmp_path / "repo", {"main": debs}, contents=contents)
    found, unknown = _link_verdicts(root)
    trimmed = "the file lists of libfoo1 come from a repository index"
    if not contents:  # no file list at all: libfoo1 could ship the wrapper too
        assert found == {}
        assert set(unknown) == {"xen-demo-tools", "xen-demo-utils"}
        assert all(trimmed in reason for reason in unknown.values())
        return
    assert set(found) == {"xen-demo-utils"}
    assert "/usr/sbin/xl-demo -> ../lib/xen-demo-common/bin/wrapper" in found["xen-demo-utils"]
    assert "libfoo" not in found["xen-demo-utils"]
    assert set(unknown) == {"xen-demo-tools"}
    assert trimmed in unknown["xen-demo-tools"]


def test_a_link_into_a_package_read_in_full_is_judged(tmp_path: Path) -> None:
    """The same link, its target's package in the run as a file: shipped, no verdict left
    open."""
    lib = "/usr/lib/x86_64-linux-gnu/libfoo.so.1"
    make_deb(tmp_path, "libfoo1", files={lib: "elf\n"})
    make_deb(tmp_path, "xen-demo-tools", depends="libfoo1",
             links={"/usr/lib/xen-demo/libfoo.so.1": lib})
    found, unknown = _link_verdicts(tmp_path)
    assert found == {} and unknown == {}


@pytest.mark.parametrize("keep", [Paths(containing=("xen",)), None])
def test_a_suite_parsed_in_pieces_marks_trimmed_lists_as_a_whole_parse_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep: Paths | None) -> None:
    root = deb_repo(tmp_path / "repo", {"main": FIXTURE_DEBS}, contents=True)
    monkeypatch.setattr(targets, "SPLIT_BYTES", 0)
    [job] = index_jobs(str(root), Limits(), pieces=2, keep=keep)
    assert job.pieces
    in_pieces, _errors = job.result([piece() for piece in job.pieces])
    whole, _errors = debrepo.read_suite(root, root / "dists" / "main", Limits(), keep)
    marks = {a.path: (a.meta.index, a.meta.trimmed) for a in whole}
    assert {a.path: (a.meta.index, a.meta.trimmed) for a in in_pieces} == marks
    assert {t for _i, t in marks.values()} == {keep is not None}

"""Repository indexes -> package sets: grouping, header-only artifacts, what gets opened."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from audit_repos import FIXTURE_DEBS, FIXTURE_RPMS, deb_repo, make_deb, rpm_repo

from xenlint.audit import debrepo, rpmrepo
from xenlint.audit.targets import discover
from xenlint.limits import Limits
from xenlint.readers import read_path


def _debs(tmp: Path) -> dict[str, Path]:
    out = tmp / "debs"
    out.mkdir()
    return {
        # a meta-package whose dependency has a name no glob knows: reached by the closure
        "meta": make_deb(out, "xen-system-test", depends="hv-bits (>= 1.0)", files={}),
        "bits": make_deb(out, "hv-bits", files={"/usr/lib/hv/payload": "x" * 200_000}),
        "tools": make_deb(out, "xen-utils-test", files={"/usr/sbin/xl": "#!/bin/sh\n"}),
        "other": make_deb(out, "hello", depends="libc6",
                          files={"/usr/bin/hello": "hi\n", "/usr/share/man/man1/hello.1": "."}),
        "kernel": make_deb(out, "vendor-kernel", files={"/boot/vmlinuz-6.1.0-test": "k"}),
    }


def test_debian_suites_are_package_sets_and_only_xen_packages_are_opened(tmp_path: Path) -> None:
    d = _debs(tmp_path)
    root = deb_repo(tmp_path / "repo", {"stable": list(d.values()), "testing": [d["other"]]},
                    contents=True)
    groups = {g.label.rsplit("/", 1)[-1]: g for g in discover(str(root), Limits())}
    assert set(groups) == {"stable", "testing"}
    stable = groups["stable"]
    opened = {Path(i.path).name.split("_")[0] for i in stable.items}
    # names (xen*), the meta closure (hv-bits) and a package shipping /boot/vmlinuz-*
    assert opened == {"xen-system-test", "hv-bits", "xen-utils-test", "vendor-kernel"}
    assert all(i.sha256 and len(i.sha256) == 64 for i in stable.items)
    [hello] = stable.metadata
    assert hello.package is not None and hello.package.name == "hello"
    assert hello.meta.metadata_only is True
    # header-only, yet the file list comes from Contents-amd64 and the relations from Packages
    assert set(hello.files) == {"/usr/bin/hello", "/usr/share/man/man1/hello.1"}
    assert hello.package.depends == ["libc6"]
    assert [a.package.name for a in groups["testing"].metadata if a.package] == ["hello"]
    assert groups["testing"].items == []


def test_installer_udeb_index_belongs_to_its_suite(tmp_path: Path) -> None:
    out = tmp_path / "debs"
    out.mkdir()
    udeb = make_deb(out, "kernel-image-6.1.0-test-di", files={"/boot/vmlinuz": "k"})
    root = deb_repo(tmp_path / "repo", {"stable": [udeb]})
    installer = root / "dists/stable/main/debian-installer"
    installer.mkdir()
    (root / "dists/stable/main/binary-amd64").rename(installer / "binary-amd64")
    [group] = discover(str(root), Limits())
    assert [Path(i.path).name for i in group.items] == [udeb.name]


def test_nothing_is_opened_when_no_rule_needs_contents(tmp_path: Path) -> None:
    d = _debs(tmp_path)
    root = deb_repo(tmp_path / "repo", {"stable": list(d.values())})
    [group] = discover(str(root), Limits(), open_contents=False)
    assert group.items == []
    assert len(group.metadata) == len(d)


def test_debian_index_entries_match_the_packages(tmp_path: Path) -> None:
    debs = [*FIXTURE_DEBS, *_debs(tmp_path).values()]
    root = deb_repo(tmp_path / "repo", {"main": debs}, contents=True)
    arts, errors = debrepo.read_suite(root, root / "dists" / "main", Limits())
    assert errors == []
    assert len(arts) == len({p.name for p in debs})
    for meta in arts:
        [real] = read_path(meta.path)
        assert real.error is None and real.package and meta.package
        for attr in ("name", "version", "architecture", "depends", "provides", "conflicts"):
            assert getattr(meta.package, attr) == getattr(real.package, attr), attr
        assert set(meta.files) == set(real.files), meta.path


def test_rpm_primary_and_filelists_match_the_packages(tmp_path: Path) -> None:
    root = rpm_repo(tmp_path / "rpms", FIXTURE_RPMS)
    arts = rpmrepo.read_repo(root, Limits())
    assert len(arts) == len(FIXTURE_RPMS)
    for meta in arts:
        [real] = read_path(meta.path)
        assert real.package and meta.package and meta.meta.metadata_only
        for attr in ("name", "version", "release", "epoch", "architecture", "provides"):
            assert getattr(meta.package, attr) == getattr(real.package, attr), attr
        # createrepo_c leaves out requirements the package satisfies itself
        assert set(meta.package.depends) <= set(real.package.depends)
        assert set(meta.files) == set(real.files)
        assert meta.sha256 is not None and len(meta.sha256) == 64


def test_corrupt_index_is_an_error_of_the_set_not_a_crash(tmp_path: Path) -> None:
    d = _debs(tmp_path)
    root = deb_repo(tmp_path / "repo", {"stable": [d["other"]]})
    index = root / "dists/stable/main/binary-amd64/Packages.xz"
    index.write_bytes(index.read_bytes()[:40])
    [group] = discover(str(root), Limits())
    errors = [a.error for a in group.metadata if a.error]
    assert len(errors) == 1 and "corrupt or truncated" in errors[0]


def test_tree_holding_a_repository_audits_it_as_its_own_set(tmp_path: Path) -> None:
    d = _debs(tmp_path)
    tree = tmp_path / "tree"
    deb_repo(tree / "mirror", {"stable": [d["tools"]]})
    shutil.copy(d["meta"], tree / d["meta"].name)
    groups = discover(str(tree), Limits())
    assert [len(g.items) for g in groups] == [1, 1]
    assert groups[0].items[0].path == str(tree / d["meta"].name)
    assert groups[1].label == str(tree / "mirror" / "dists" / "stable")


def test_header_rules_alone_open_nothing() -> None:
    from types import SimpleNamespace

    from xenlint.audit.relevance import rules_need_contents

    def rule(applies_to: str, *facts: str) -> Any:
        return SimpleNamespace(applies_to=applies_to, facts=frozenset(facts))

    headers = rule("package", "package.name", "package.fields.Section", "package.depends")
    assert rules_need_contents([headers, rule("packages", "packages.names")]) is False
    assert rules_need_contents([headers, rule("package", "package.files")]) is True
    assert rules_need_contents([rule("kernel", "package.name")]) is True
    assert rules_need_contents([]) is False


def test_audit_judges_other_packages_from_the_index(tmp_path: Path) -> None:
    from xenlint.audit.run import AuditSettings, audit
    from xenlint.engine.lint import LintOptions

    d = _debs(tmp_path)
    root = deb_repo(tmp_path / "repo", {"stable": [d["other"], d["tools"]]}, contents=True)
    result = audit(str(root), LintOptions(search_config=False), AuditSettings(jobs=1))
    assert result.stats.opened == 1 and result.stats.from_index == 1
    assert sorted(Path(a).name for a in result.report.artifacts) == sorted(
        [d["other"].name, d["tools"].name])
    assert result.report.errors == []


def test_index_cannot_point_outside_the_repository(tmp_path: Path) -> None:
    d = _debs(tmp_path)
    root = deb_repo(tmp_path / "repo", {"stable": [d["tools"]]})
    outside = tmp_path / "secret" / "xen-secret_1.0_amd64.deb"
    outside.parent.mkdir()
    shutil.copy(d["meta"], outside)
    index = root / "dists/stable/main/binary-amd64/Packages.xz"
    text = subprocess.run(["xz", "-dc", str(index)], check=True, capture_output=True).stdout
    evil = text.replace(b"Filename: pool/stable/", b"Filename: ../secret/")
    evil = evil.replace(b"xen-utils-test_1.0", b"xen-secret_1.0")
    index.write_bytes(subprocess.run(["xz", "-c"], input=text + b"\n" + evil, check=True,
                                     capture_output=True).stdout)
    [group] = discover(str(root), Limits())
    assert [Path(i.path).name for i in group.items] == [d["tools"].name]
    assert any(a.error and "outside the repository" in a.error for a in group.metadata)


def test_rpm_location_outside_the_repository_is_not_read(tmp_path: Path) -> None:
    root = rpm_repo(tmp_path / "rpms", FIXTURE_RPMS[:1])
    primary = rpmrepo.index_files(root)["primary"]
    xml = subprocess.run(["gzip", "-dc", str(primary)], check=True,
                         capture_output=True).stdout
    xml = xml.replace(b'href="Packages/', b'href="../../etc/')
    primary.write_bytes(subprocess.run(["gzip", "-c"], input=xml, check=True,
                                       capture_output=True).stdout)
    [group] = discover(str(root), Limits())
    assert group.items == []
    [bad] = group.metadata
    assert bad.error is not None and "outside the repository" in bad.error

"""An audit of a two-architecture Debian repository makes one package set per architecture,
and says of each what `check` says of the same files."""

from __future__ import annotations

from pathlib import Path

from audit_repos import REPO, deb_repo, make_deb

from xenlint.audit.run import AuditSettings, audit
from xenlint.engine.lint import LintOptions, lint_paths
from xenlint.finding import Finding, Report

SETS = REPO / "fixtures" / "sets" / "bookworm-xen"
OPTIONS = LintOptions(search_config=False, show_unknown=True)


def _repo(tmp_path: Path) -> Path:
    # an arch-independent package joins both architectures' sets
    extra = make_deb(tmp_path / "extra", "ovmf-data", arch="all",
                     files={"/usr/share/ovmf/OVMF.fd": "firmware\n"})
    debs = [*sorted(SETS.glob("*/*.deb")), extra]
    return deb_repo(tmp_path / "repo", {"bookworm": debs}, contents=True,
                    arches=("amd64", "arm64"))


def _of(report: Report, arch: str) -> list[tuple[str, str, str, str]]:
    """(file name, rule, profile, message) of the findings on arch's packages, and of the
    package-set findings made for arch."""
    out = []
    for f in report.findings:
        name = Path(f.artifact).name
        if name.endswith(f"_{arch}.deb") or _set_finding(f, arch):
            out += [(name if name.endswith(".deb") else "(set)", f.rule, p, f.message)
                    for p in f.all_profiles]
    return sorted(out)


def _set_finding(f: Finding, arch: str) -> bool:
    return not f.artifact.endswith(".deb") and f.location in (None, f"arch={arch}")


def test_each_architecture_of_a_repository_is_audited_as_check_sees_its_files(
        tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    audited = audit(str(repo), OPTIONS, AuditSettings(jobs=1)).report
    assert not audited.errors
    for arch in ("amd64", "arm64"):
        pool = sorted((repo / "pool" / "bookworm").glob(f"*_{arch}.deb"))
        alone = lint_paths([*pool, *(repo / "pool" / "bookworm").glob("*_all.deb")], OPTIONS)
        assert _of(audited, arch) == _of(alone, arch), arch
    errors = [(Path(f.artifact).name, f.rule) for f in audited.findings
              if f.severity.value == "error"]
    assert errors == [("xen-utils-4.17_4.17.7+13-g2445b30a44-0+deb12u1_arm64.deb",
                       "libxl-device-model-not-shipped")]
    # the package-set subject of each set names its architecture
    sets = {f.location for f in audited.findings
            if f.rule == "hypervisor-without-grub-xen-generator"}
    assert sets == {"arch=amd64", "arch=arm64"}


def test_contents_of_one_architecture_do_not_describe_the_other(tmp_path: Path) -> None:
    from xenlint.audit import debrepo
    from xenlint.limits import Limits

    repo = _repo(tmp_path)
    suite = repo / "dists" / "bookworm"
    arts, errors = debrepo.read_suite(repo, suite, Limits())
    assert errors == []
    libs = {a.package.architecture: sorted(a.entries) for a in arts
            if a.package and a.package.name == "libxenmisc4.17"}
    assert libs["amd64"] == ["/usr/lib/x86_64-linux-gnu/libxenlight.so.4.17",
                             "/usr/lib/x86_64-linux-gnu/libxenlight.so.4.17.0"]
    assert libs["arm64"] == ["/usr/lib/aarch64-linux-gnu/libxenlight.so.4.17",
                             "/usr/lib/aarch64-linux-gnu/libxenlight.so.4.17.0"]
    [fw] = [a for a in arts if a.package and a.package.name == "ovmf-data"]
    assert list(fw.entries) == ["/usr/share/ovmf/OVMF.fd"]


def test_an_unreadable_all_package_is_reported_once_across_architecture_sets() -> None:
    from xenlint.audit.run import merge
    from xenlint.finding import ReadError, Report

    missing = ReadError("pool/main/x/xen/xen-utils-common_4.17_all.deb",
                        "listed in the index but missing")
    amd64, arm64 = Report(), Report()
    amd64.errors.append(missing)
    arm64.errors += [missing, ReadError("pool/main/x/xen/other_arm64.deb", "is truncated")]
    merge(amd64, arm64)
    assert amd64.errors == [missing, ReadError("pool/main/x/xen/other_arm64.deb", "is truncated")]

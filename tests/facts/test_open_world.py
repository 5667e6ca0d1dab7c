"""Open-world package sets: a relation target the run lacks is absent, and a verdict that
depends on what it could ship is unknown, naming it; one package set per architecture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import FIXTURES
from xenlint.artifact import Artifact, Kind, Package
from xenlint.cli import main
from xenlint.engine.lint import LintOptions, lint_paths
from xenlint.facts import Run
from xenlint.facts import pkgset as ps
from xenlint.finding import Report, Severity

SETS = FIXTURES / "sets" / "bookworm-xen"
V = "4.17.7+13-g2445b30a44-0+deb12u1"
UTILS = f"xen-utils-4.17_{V}_amd64.deb"
META = f"xen-system-amd64_{V}_amd64.deb"
HYPERVISOR = f"xen-hypervisor-4.17-amd64_{V}_amd64.deb"
TOOLSTACK_ERRORS = {"libxl-device-model-not-shipped", "libxl-save-helper-not-shipped",
                    "xen-hotplug-scripts-missing", "xencommons-not-enabled"}


def lint(*paths: Path, show_unknown: bool = True) -> Report:
    return lint_paths(list(paths), LintOptions(search_config=False, show_unknown=show_unknown))


def errors(report: Report) -> list[tuple[str, str]]:
    return [(Path(f.artifact).name, f.rule) for f in report.findings
            if f.severity is Severity.ERROR]


def unknown(report: Report, rule: str) -> dict[str, object]:
    [found] = [u for u in report.unknowns if u.rule == rule]
    return {"reason": found.reason, "absent": found.absent_packages}


# --- the corpus: packages alone -------------------------------------------------------

@pytest.mark.corpus
def test_the_toolstack_alone_gives_unknowns_naming_its_absent_dependencies(
        corpus: Path) -> None:
    report = lint(corpus / "deb" / UTILS)
    assert errors(report) == []
    assert not [f for f in report.findings if f.rule == "xen-tools-without-man-pages"]
    rules = {u.rule for u in report.unknowns}
    assert rules >= TOOLSTACK_ERRORS
    # the paths libxl runs are compiled into libxenlight, in libxenmisc4.17: not a guessed
    # /usr/lib/xen/bin default
    helper = unknown(report, "libxl-save-helper-not-shipped")
    assert "libxenmisc4.17" in helper["absent"]  # type: ignore[operator]
    assert "libxenlight" in str(helper["reason"])
    # libc6 or python3 ship no Xen file: never named
    for u in report.unknowns:
        assert not {"libc6", "python3", "libyajl2", "bridge-utils"} & set(u.absent_packages)
    hotplug = unknown(report, "xen-hotplug-scripts-missing")
    assert hotplug["absent"] == ("xen-utils-common",)
    assert "/etc/xen/scripts/vif-bridge" in str(hotplug["reason"])


@pytest.mark.corpus
def test_the_meta_package_alone_names_its_absent_dependencies(corpus: Path) -> None:
    report = lint(corpus / "deb" / META)
    assert errors(report) == []
    hyp = unknown(report, "meta-package-missing-hypervisor")
    assert "xen-hypervisor-4.17-amd64" in hyp["absent"]  # type: ignore[operator]
    assert unknown(report, "meta-package-missing-toolstack")["absent"] == ("xen-utils-4.17",)


@pytest.mark.corpus
def test_the_hypervisor_alone_does_not_claim_xen_is_not_the_default_entry(
        corpus: Path) -> None:
    report = lint(corpus / "deb" / HYPERVISOR)
    assert not [f for f in report.findings if f.rule == "xen-not-default-boot-entry"]
    assert "xen-hypervisor-common" in \
        unknown(report, "xen-not-default-boot-entry")["absent"]  # type: ignore[operator]


@pytest.mark.corpus
def test_the_whole_amd64_set_keeps_its_real_findings(corpus: Path) -> None:
    debs = sorted((corpus / "deb").glob("*.deb"))
    report = lint(*debs)
    found = {(Path(f.artifact).name, f.rule) for f in report.findings}
    assert (META, "meta-package-missing-docs") in found
    assert (f"xenstore-utils_{V}_amd64.deb", "xen-commands-without-man-pages") in found
    kernel = "linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.deb"
    assert [e for e in errors(report) if e[0] != kernel] == []
    # every toolstack rule got its answer: nothing the set needs is absent
    assert not [u for u in report.unknowns if Path(u.artifact).name == UTILS]


@pytest.mark.corpus
def test_json_unknowns_carry_reason_and_absent_packages(corpus: Path) -> None:
    res = CliRunner().invoke(main, ["check", "--format", "json", "--show-unknown",
                                    str(corpus / "deb" / UTILS)])
    data = json.loads(res.output)
    [helper] = [u for u in data["unknowns"] if u["rule"] == "libxl-save-helper-not-shipped"]
    assert set(helper) >= {"rule", "profile", "artifact", "location", "missing", "reason",
                           "absent_packages"}
    assert "libxenmisc4.17" in helper["absent_packages"]
    assert helper["reason"].endswith(".")
    assert data["summary"]["unknowns"] == len(data["unknowns"])


@pytest.mark.corpus
def test_the_text_summary_counts_hidden_unknowns_and_says_how_to_see_them(
        corpus: Path) -> None:
    hidden = CliRunner().invoke(main, ["check", str(corpus / "deb" / UTILS)])
    shown = CliRunner().invoke(main, ["check", "--show-unknown", str(corpus / "deb" / UTILS)])
    n = sum(line.startswith("U: ") for line in shown.output.splitlines())
    assert n >= 4
    assert f", {n} unknown (--show-unknown), " in hidden.output.splitlines()[-1]
    assert f", {n} unknown, " in shown.output.splitlines()[-1]
    data = json.loads(CliRunner().invoke(main, ["check", "--format", "json",
                                                str(corpus / "deb" / UTILS)]).output)
    assert data["unknowns"] == [] and data["summary"]["unknowns"] == n


# --- architectures --------------------------------------------------------------------

def test_a_mixed_architecture_run_keeps_the_arm64_device_model_error() -> None:
    """Debian builds qemu-system-xen for amd64 only: arm64's libxl starts a device model
    nothing of arm64 ships, and amd64's qemu must not hide that."""
    report = lint(SETS)
    assert errors(report) == [(f"xen-utils-4.17_{V}_arm64.deb",
                               "libxl-device-model-not-shipped")]
    [dm] = [f for f in report.findings if f.rule == "libxl-device-model-not-shipped"]
    assert "/usr/libexec/xen-qemu-system-i386" in dm.message
    # each architecture is a set of its own, named in the package-set subject's location
    sets = {f.location for f in report.findings
            if f.rule == "hypervisor-without-grub-xen-generator"}
    assert sets == {"arch=amd64", "arch=arm64"}


def test_each_architecture_alone_gives_what_the_mixed_run_gives_it() -> None:
    mixed = lint(SETS)
    for arch in ("amd64", "arm64"):
        alone = lint(SETS / arch)
        assert sorted((Path(f.artifact).name, f.rule, f.message) for f in alone.findings
                      if f.rule != "hypervisor-without-grub-xen-generator") == \
            sorted((Path(f.artifact).name, f.rule, f.message) for f in mixed.findings
                   if f.rule != "hypervisor-without-grub-xen-generator"
                   and f"_{arch}." in f.artifact)


def _pkg(name: str, arch: str, *, depends: str = "", multi_arch: str = "",
         provides: str = "", flavor: str = "deb") -> Artifact:
    fields = {"Multi-Arch": multi_arch} if multi_arch else {}
    pkg = Package(name, "1.0", arch, flavor=flavor,
                  depends=[d.strip() for d in depends.split(",") if d.strip()],
                  provides=[p.strip() for p in provides.split(",") if p.strip()],
                  fields=fields)
    return Artifact(f"/x/{name}_{arch}.{flavor}", Kind.DEB if flavor == "deb" else Kind.RPM,
                    package=pkg)


def _names(arts: list[Artifact]) -> list[tuple[str, str]]:
    return [(a.package.name, a.package.architecture) for a in arts if a.package]


@pytest.mark.parametrize(("relation", "dep_arch", "multi_arch", "ok"), [
    ("lib", "amd64", "", True),
    ("lib", "arm64", "", False),
    ("lib", "all", "", True),
    ("lib", "arm64", "foreign", True),
    ("lib", "arm64", "allowed", False),   # allowed needs :any
    ("lib:any", "arm64", "allowed", True),
    ("lib:any", "arm64", "", False),
    ("lib:any", "arm64", "same", False),
    ("lib:native", "arm64", "foreign", False),
    ("lib:native", "amd64", "", True),
    ("lib:arm64", "arm64", "", True),
    ("lib:arm64", "amd64", "", False),
])
def test_debian_relations_honour_architecture_and_multi_arch(
        relation: str, dep_arch: str, multi_arch: str, ok: bool) -> None:
    asker = _pkg("tool", "amd64", depends=relation)
    dep = _pkg("lib", dep_arch, multi_arch=multi_arch)
    within = ps.PackageSet.of(Run.of([asker, dep]))
    assert (within.satisfiers(relation, "deb", "amd64") == [dep]) is ok
    assert (within.absent(asker) == ()) is ok


def test_a_provides_of_another_architecture_satisfies_nothing() -> None:
    meta = _pkg("xen-system-arm64", "arm64", depends="xen-hypervisor-4.17")
    amd = _pkg("xen-hypervisor-4.17-amd64", "amd64", provides="xen-hypervisor-4.17")
    within = ps.PackageSet.of(Run.of([meta, amd]))
    assert _names(within.closure(meta)) == [("xen-system-arm64", "arm64")]
    assert within.absent(meta) == ("xen-hypervisor-4.17",)


@pytest.mark.parametrize(("relation", "dep_arch", "ok"), [
    ("xen-libs", "x86_64", True),
    ("xen-libs", "i686", False),
    ("xen-libs", "noarch", True),
    ("xen-libs(x86-64)", "x86_64", True),
    ("xen-libs(x86-32)", "i686", True),    # multilib: the qualifier names the machine
    ("xen-libs(x86-32)", "x86_64", False),
])
def test_rpm_requires_honour_isa_qualifiers(relation: str, dep_arch: str, ok: bool) -> None:
    asker = _pkg("xen-runtime", "x86_64", depends=relation, flavor="rpm")
    isa = {"x86_64": "x86-64", "i686": "x86-32"}.get(dep_arch)
    provides = f"xen-libs({isa})" if isa else ""
    dep = _pkg("xen-libs", dep_arch, provides=provides, flavor="rpm")
    within = ps.PackageSet.of(Run.of([asker, dep]))
    assert (within.satisfiers(relation, "rpm", "x86_64") == [dep]) is ok


def test_a_run_of_two_architectures_is_two_package_sets() -> None:
    amd = _pkg("a", "amd64")
    arm = _pkg("b", "arm64")
    both = _pkg("c", "all")
    foreign = _pkg("d", "arm64", multi_arch="foreign")
    sets = Run.of([amd, arm, both, foreign]).by_arch()
    assert {arch: _names(r.packages) for arch, r in sets.items()} == {
        "amd64": [("a", "amd64"), ("c", "all"), ("d", "arm64")],
        "arm64": [("b", "arm64"), ("c", "all"), ("d", "arm64")]}
    assert Run.of([amd, both]).by_arch() == {}
    # a deb and an RPM of one machine are one set
    assert Run.of([amd, _pkg("e", "x86_64", flavor="rpm")]).by_arch() == {}


@pytest.mark.parametrize(("name", "evidence", "ok"), [
    ("libxenmisc4.17", "libxl", True),
    ("libxenlight.so.4.17()(64bit)", "libxl", True),
    ("libxencall1", "libxl", False),
    ("libc6", "libxl", False),
    ("python3", "toolstack", False),
    ("xen-utils-common", "toolstack", True),
    ("xen-hypervisor-4.17-amd64", "toolstack", False),
    ("xen-hypervisor-4.17-amd64", "hypervisor", True),
    ("qemu-system-xen", "device-model", True),
    ("qemu-system-xen", "toolstack", False),
])
def test_which_absent_packages_could_carry_what(name: str, evidence: str, ok: bool) -> None:
    assert ps.could_carry(name, evidence) is ok


# --- remedies -------------------------------------------------------------------------

def _suggestion(meta: Artifact, *others: Artifact) -> object:
    from xenlint.engine.evaluate import build_subjects

    [subject] = [s for s in build_subjects([meta, *others]) if s.artifact is meta]
    return subject.get("package.suggest_hypervisor")


def test_a_fix_names_a_package_of_the_meta_packages_own_architecture() -> None:
    from xenlint.artifact import Entry, EntryType

    meta = _pkg("xen-system-arm64", "arm64", depends="xen-utils-4.17")
    meta.package.version = "4.17.7-1"  # type: ignore[union-attr]
    amd = _pkg("xen-hypervisor-4.17-amd64", "amd64")
    amd.entries["/boot/xen-4.17-amd64.gz"] = Entry("/boot/xen-4.17-amd64.gz", EntryType.FILE)
    assert _suggestion(meta, amd) == "xen-hypervisor-4.17-arm64"
    arm = _pkg("xen-hypervisor-4.17-arm64", "arm64")
    arm.entries["/boot/xen-4.17-arm64"] = Entry("/boot/xen-4.17-arm64", EntryType.FILE)
    assert _suggestion(meta, amd, arm) == "xen-hypervisor-4.17-arm64"


def test_a_fix_never_suggests_a_relation_the_package_already_has() -> None:
    meta = _pkg("xen-system-arm64", "arm64", depends="xen-hypervisor-4.17-arm64")
    meta.package.version = "4.17.7-1"  # type: ignore[union-attr]
    # present, but shipping no hypervisor: the relation exists, there is nothing to add
    empty = _pkg("xen-hypervisor-4.17-arm64", "arm64")
    assert _suggestion(meta, empty) == ""
    from xenlint.engine.remedies import Group, relations
    from xenlint.finding import Finding

    fix = "# Add the package, e.g. Debian control:\nDepends: \n# RPM spec:\nRequires: "
    group = Group("dependency", "t", "package xen-system-arm64", "deb",
                  [Finding("r", Severity.ERROR, "dom0", (), "t", None, "m", fix)],
                  [("r", fix)])
    deb, rpm, prose = relations(group)
    assert (deb, rpm) == ({}, [])
    assert not any(p.strip().startswith(("Depends", "Requires")) for p in prose)

"""Finer verdicts on the real artifacts of ../shared/corpus: the commands of a Xen package
without man pages, the symlink xenstore-utils leaves dangling, and which kernels must ship
their config."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from xenlint.engine.lint import LintOptions, lint_paths
from xenlint.finding import Report

pytestmark = pytest.mark.corpus
XV = "4.17.7+13-g2445b30a44-0+deb12u1"


def lint(paths: list[Path], *rules: str, profiles: tuple[str, ...] = ("dom0",)) -> Report:
    report = lint_paths([str(p) for p in paths],
                        LintOptions(profiles=profiles, select=rules, search_config=False,
                                    show_unknown=True))
    assert not report.errors, report.errors
    return report


def listed(report: Report, package: str, rule: str) -> list[str]:
    [finding] = [f for f in report.findings
                 if Path(f.artifact).name.startswith(package + "_") and f.rule == rule]
    return finding.message.split(": ", 1)[1].split(", ")


def test_every_command_of_xen_utils_common_is_judged(corpus: Path) -> None:
    report = lint(sorted((corpus / "deb").glob("*.deb")), "xen-commands-without-man-pages")
    names = listed(report, "xen-utils-common", "xen-commands-without-man-pages")
    # the 38 commands lintian reports as no-manual-page, whatever their names
    assert len(names) == 38
    assert {"oxenstored", "gdbsx", "pygrub", "vchan-socket-proxy", "flask-get-bool",
            "flask-getenforce", "flask-label-pci", "flask-loadpolicy", "flask-set-bool",
            "flask-setenforce"} <= set(names)
    # xl, xentop, xenstore-ls ... have pages in xen-utils-common and xenstore-utils
    assert not {"xl", "xentop", "xenhypfs", "xenstore-ls", "xentrace"} & set(names)
    # no other package of the set is judged: grub's and qemu's commands are not Xen's
    assert {Path(f.artifact).name.split("_")[0] for f in report.findings} == {
        "xen-utils-common", "xenstore-utils"}


def test_xenstore_control_dangles_without_xen_utils_common(corpus: Path) -> None:
    report = lint(sorted((corpus / "deb").glob("*.deb")), "symlink-target-not-shipped",
                  profiles=("domu",))
    assert [(Path(f.artifact).name, f.message) for f in report.findings] == [
        (f"xenstore-utils_{XV}_amd64.deb",
         "xenstore-utils ships symlinks to files that neither it nor its Depends ship: "
         "/usr/bin/xenstore-control -> ../lib/xen-common/bin/xen-utils-wrapper (shipped by "
         "xen-utils-common)")]
    # xen-utils-common's /usr/bin/pygrub -> ../lib/xen-4.17/bin/pygrub resolves wherever
    # xen-utils-common is installed: xen-utils-4.17, which ships pygrub, depends on it
    assert not report.unknowns


def test_xenstore_utils_alone_still_dangles(corpus: Path) -> None:
    """Alone, its Depends are libc6 and libxenstore4, neither of which ships a Xen command
    (xenlint/data/package-sets.toml): the link dangles on every system without
    xen-utils-common."""
    report = lint([corpus / "deb" / f"xenstore-utils_{XV}_amd64.deb"],
                  "symlink-target-not-shipped")
    assert [f.message for f in report.findings] == [
        "xenstore-utils ships symlinks to files that neither it nor its Depends ship: "
        "/usr/bin/xenstore-control -> ../lib/xen-common/bin/xen-utils-wrapper (shipped by "
        "nothing in the run)"]


def test_a_target_an_absent_depends_could_ship_is_unknown() -> None:
    """xenstore-utils that Depends on xen-utils-common, checked without it: unknown, and
    the unknown names the absent package."""
    deb = FIXTURES / "rules" / "symlink-target-not-shipped" / \
        "pass-wrapper-package-depended-on" / "xenstore-utils_4.17.0-1_amd64.deb"
    report = lint([deb], "symlink-target-not-shipped")
    assert not report.findings
    [unknown] = report.unknowns
    assert unknown.absent_packages == ("xen-utils-common",)
    assert "xen-utils-common" in unknown.reason


def test_only_kernels_installed_in_boot_need_a_config(corpus: Path) -> None:
    report = lint([corpus / "kernel" / "vmlinux-6.1.0-56-cloud-amd64.xz",
                   corpus / "deb" / "linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.deb"],
                  "kernel-package-without-config")
    # the package ships /boot/config-*: a pass; the bare image is not a package at all
    assert not report.findings
    assert not report.unknowns


def test_initramfs_tools_image_without_disk_drivers_keeps_its_error(corpus: Path) -> None:
    """Only a debian-installer ramdisk fetches its disk drivers; initramfs-tools' image with
    MODULES=list and no block driver at all cannot reach xvda."""
    image = corpus / "initramfs" / "initrd.img-6.1.0-56-cloud-amd64.itools-list"
    report = lint([image], "initramfs-missing-xen-blkfront",
                  "installer-ramdisk-fetches-xen-blkfront", profiles=("installer",))
    assert [(f.rule, f.severity) for f in report.findings] == [
        ("initramfs-missing-xen-blkfront", "error")]

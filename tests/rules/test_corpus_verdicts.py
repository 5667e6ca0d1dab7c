"""Verdicts on the real artifacts of ../shared/corpus, as its MANIFEST.md implies them.

The whole corpus is linted as one run, and the Debian set, the RPM set and the kernel files
on their own, for every profile. Besides the verdicts MANIFEST.md states, the complete list
of findings on the whole corpus is pinned: every one was reviewed against the rule's
documentation, so a new finding (a false positive, or a new rule) has to be reviewed too.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from tests.conftest import corpus_dir
from xenlint.engine.lint import LintOptions, lint_paths
from xenlint.finding import Report

pytestmark = pytest.mark.corpus
PROFILES = ("dom0", "domu", "installer")
DEB_META = "xen-system-amd64_4.17.7+13-g2445b30a44-0+deb12u1_amd64.deb"
DEB_KERNEL = "linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.deb"
DEB_UTILS = "xen-utils-4.17_4.17.7+13-g2445b30a44-0+deb12u1_amd64.deb"
DEB_XENSTORE = "xenstore-utils_4.17.7+13-g2445b30a44-0+deb12u1_amd64.deb"
DEB_COMMON = "xen-utils-common_4.17.7+13-g2445b30a44-0+deb12u1_amd64.deb"
RPM_META = "xen-system-amd64-4.17.7+13_g2445b30a44-1.x86_64.rpm"
RPM_XENSTORE = "xenstore-utils-4.17.7+13_g2445b30a44-1.x86_64.rpm"
RPM_COMMON = "xen-utils-common-4.17.7+13_g2445b30a44-1.x86_64.rpm"
BADQEMU = "xen-tools-badqemu-4.17.0-1.x86_64.rpm"
CONFIG = "config-6.1.0-56-cloud-amd64"
VMLINUX = "vmlinux-6.1.0-56-cloud-amd64.xz"
INITRD = "initrd.img-6.1.0-56-cloud-amd64."

Verdict = tuple[str, str, str]  # (artifact file name, rule, profile)


@cache
def run(*subdirs: str) -> Report:
    paths = [corpus_dir() / d for d in subdirs]
    return lint_paths(paths, LintOptions(profiles=PROFILES, search_config=False,
                                         show_unknown=True))


def verdicts(report: Report) -> set[Verdict]:
    return {(Path(f.artifact).name, f.rule, p) for f in report.findings for p in f.all_profiles}


def messages(report: Report, name: str, rule: str) -> list[str]:
    return [f.message for f in report.findings
            if Path(f.artifact).name == name and f.rule == rule]


@pytest.fixture(scope="module")
def whole(corpus: Path) -> Report:
    report = run("deb", "rpm", "kernel", "initramfs")
    assert not report.errors, report.errors
    return report


# Every finding on the whole corpus, reviewed (see the module docstring).
EXPECTED_WHOLE: set[Verdict] = {
    (DEB_KERNEL, "kernel-without-xen-dom0", "dom0"),
    (CONFIG, "kernel-without-xen-dom0", "dom0"),
    # the bare vmlinux is judged by the config of its release given beside it
    (VMLINUX, "kernel-without-xen-dom0", "dom0"),
    (DEB_META, "meta-package-missing-docs", "dom0"),
    (RPM_META, "meta-package-missing-docs", "dom0"),
    (RPM_META, "meta-package-missing-hypervisor", "dom0"),
    (RPM_META, "meta-package-missing-toolstack", "dom0"),
    (RPM_META, "meta-package-without-bootloader-refresh", "dom0"),
    (INITRD + "itools-list", "initramfs-missing-xen-blkfront", "domu"),
    (INITRD + "itools-list", "initramfs-missing-xen-blkfront", "installer"),
    (INITRD + "itools-list", "initramfs-missing-xen-netfront", "domu"),
    (INITRD + "itools-list", "initramfs-missing-xen-netfront", "installer"),
    (INITRD + "itools-list-lz4", "initramfs-missing-xen-blkfront", "domu"),
    (INITRD + "itools-list-lz4", "initramfs-missing-xen-blkfront", "installer"),
    (BADQEMU, "libxl-device-model-not-shipped", "dom0"),
    (BADQEMU, "libxl-save-helper-not-shipped", "dom0"),
    (BADQEMU, "xen-tools-without-man-pages", "dom0"),
    (BADQEMU, "xen-commands-without-man-pages", "dom0"),
    (BADQEMU, "xen-tools-without-xenpm", "dom0"),
    (BADQEMU, "xencommons-not-enabled", "dom0"),
    (BADQEMU, "xenstore-utils-not-split", "dom0"),
    (BADQEMU, "xenstore-utils-not-split", "domu"),
    # lintian agrees: 38 no-manual-page tags on xen-utils-common
    (DEB_COMMON, "xen-commands-without-man-pages", "dom0"),
    (RPM_COMMON, "xen-commands-without-man-pages", "dom0"),
    (DEB_XENSTORE, "xen-commands-without-man-pages", "dom0"),
    (RPM_XENSTORE, "xen-commands-without-man-pages", "dom0"),
    # /usr/bin/xenstore-control links to xen-utils-common's wrapper, not a Depends
    (DEB_XENSTORE, "symlink-target-not-shipped", "dom0"),
    (DEB_XENSTORE, "symlink-target-not-shipped", "domu"),
    (RPM_XENSTORE, "symlink-target-not-shipped", "dom0"),
    (RPM_XENSTORE, "symlink-target-not-shipped", "domu"),
    # alien's xen-utils-common links /usr/bin/pygrub into xen-4.17's bin dir, and requires
    # only sonames, /bin/sh and python3: no Xen package that could ship pygrub
    (RPM_COMMON, "symlink-target-not-shipped", "dom0"),
    (RPM_COMMON, "symlink-target-not-shipped", "domu"),
}


def test_whole_corpus_findings_are_the_reviewed_ones(whole: Report) -> None:
    found = verdicts(whole)
    assert found - EXPECTED_WHOLE == set(), "new findings: review them"
    assert EXPECTED_WHOLE - found == set(), "expected findings went missing"


def test_cloud_kernel_is_flagged_as_dom0_and_passes_as_guest(whole: Report) -> None:
    for name in (DEB_KERNEL, CONFIG):
        rules = {(r, p) for n, r, p in verdicts(whole) if n == name}
        assert rules == {("kernel-without-xen-dom0", "dom0")}, name
        assert messages(whole, name, "kernel-without-xen-dom0") == [
            "kernel 6.1.0-56-cloud-amd64 cannot run as dom0: CONFIG_XEN_DOM0 is not set"]
    # the domU kernel rules had what they needed: no unknown for the package
    assert not [u for u in whole.unknowns if Path(u.artifact).name == DEB_KERNEL]


def test_initramfs_verdicts(whole: Report) -> None:
    def rules_for(suffix: str) -> set[str]:
        return {r for n, r, _p in verdicts(whole) if n == INITRD + suffix}

    assert rules_for("itools-list") == {"initramfs-missing-xen-blkfront",
                                        "initramfs-missing-xen-netfront"}
    assert rules_for("itools-list-lz4") == {"initramfs-missing-xen-blkfront"}
    assert rules_for("itools-most") == set()
    assert rules_for("dracut") == set()


def test_debian_set_on_its_own(corpus: Path) -> None:
    report = run("deb")
    found = verdicts(report)
    # the meta-package reaches hypervisor and tools, not the docs (xen-doc is only Suggested)
    meta = {r for n, r, _p in found if n == DEB_META}
    assert meta == {"meta-package-missing-docs"}
    # libxenlight says /usr/libexec/xen-qemu-system-i386, which qemu-system-xen ships and
    # xen-utils-4.17 Recommends: the qemu-path rule passes, and did run (not unknown)
    assert not [v for v in found if v[1] == "libxl-device-model-not-shipped"]
    assert not [u for u in report.unknowns if u.rule == "libxl-device-model-not-shipped"]
    assert DEB_UTILS in {Path(a).name for a in report.artifacts}
    # xenstore-utils: split from the toolstack, but five commands have no man page
    assert (DEB_XENSTORE, "xenstore-utils-not-split", "dom0") not in found
    assert messages(report, DEB_XENSTORE, "xen-commands-without-man-pages") == [
        "xenstore-utils ships Xen commands with no man page in the set: xenstore-control, "
        "xenstore-exists, xenstore-list, xenstore-rm, xenstore-watch"]
    # xencommons: Debian's /etc/init.d/xen, registered by update-rc.d, starts the daemons
    assert not [v for v in found if v[1] == "xencommons-not-enabled"]


def test_badqemu_rpm_on_its_own(corpus: Path) -> None:
    report = lint_paths([corpus / "rpm" / BADQEMU],
                        LintOptions(profiles=("dom0",), search_config=False))
    rules = {f.rule for f in report.findings}
    assert {"libxl-device-model-not-shipped", "xen-tools-without-man-pages",
            "xenstore-utils-not-split"} <= rules
    assert messages(report, BADQEMU, "libxl-device-model-not-shipped") == [
        "libxl starts the device model at /usr/lib/xen/bin/qemu-system-i386, but neither "
        "xen-tools-badqemu nor a package it pulls in ships it"]
    # alone, its xl has no man page anywhere either
    assert "xl" in messages(report, BADQEMU, "xen-commands-without-man-pages")[0].split(
        ": ", 1)[1].split(", ")


def test_rpm_meta_package_misses_all_three(corpus: Path) -> None:
    found = verdicts(run("rpm"))
    assert {r for n, r, _p in found if n == RPM_META} == {
        "meta-package-missing-docs", "meta-package-missing-hypervisor",
        "meta-package-missing-toolstack", "meta-package-without-bootloader-refresh"}

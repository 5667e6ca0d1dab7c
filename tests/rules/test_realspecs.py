"""Verdicts on RPM sets laid out as four real distributions' xen.spec build them
(fixtures/realspecs/, recipe fixtures/recipes/realspecs.py). fixtures/realspecs/README.md
says what each spec does and why each verdict below is right."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from xenlint.engine.lint import LintOptions, lint_paths
from xenlint.finding import Report

SPECS = FIXTURES / "realspecs"
Verdict = tuple[str, str, str]  # (package name, rule, profile)


def lint(*sets: str) -> Report:
    paths = sorted(str(p) for s in sets for p in (SPECS / s).glob("*.rpm"))
    assert paths
    report = lint_paths(paths, LintOptions(profiles=("dom0", "domu"), search_config=False,
                                           show_unknown=True))
    assert not report.errors, report.errors
    return report


def name(artifact: str) -> str:
    base = Path(artifact).name
    return base.rsplit("-", 2)[0] if base.endswith(".rpm") else base


def verdicts(report: Report) -> set[Verdict]:
    return {(name(f.artifact), f.rule, p) for f in report.findings for p in f.all_profiles}


def message(report: Report, rule: str) -> str:
    [msg] = {f.message for f in report.findings if f.rule == rule}
    return msg


# Every set: the rules that hold whatever the distribution (see the README).
COMMON = {
    # no grub package in these sets ships /etc/grub.d/20_linux_xen (info)
    ("realspecs", "hypervisor-without-grub-xen-generator", "dom0"),
    # no %post of the hypervisor sets Xen as grub's default entry
    ("xen-hypervisor", "xen-not-default-boot-entry", "dom0"),
}
FEDORA_LIKE = {
    # xenstore-read/-write/-ls ship in xen-runtime, beside xl
    ("xen-runtime", "xenstore-utils-not-split", "dom0"),
    ("xen-runtime", "xenstore-utils-not-split", "domu"),
    ("xen-runtime", "xen-commands-without-man-pages", "dom0"),
}


def fix_set_name(found: set[Verdict], folder: str) -> set[Verdict]:
    return {("realspecs", r, p) if n == folder else (n, r, p) for n, r, p in found}


def test_fedora() -> None:
    report = lint("fedora")
    found = fix_set_name(verdicts(report), "fedora")
    assert found == (COMMON - {("xen-hypervisor", "xen-not-default-boot-entry", "dom0")}) | \
        FEDORA_LIKE | {("xen-ocaml", "xen-commands-without-man-pages", "dom0")}
    unknown = {(name(u.artifact), u.rule): u for u in report.unknowns if u.profile == "dom0"}
    # QEMU_XEN_PATH is /usr/bin/qemu-system-i386, from qemu-system-x86-core, which
    # xen-runtime Recommends and which is not in this set
    dm = unknown[("xen-runtime", "libxl-device-model-not-shipped")]
    assert dm.absent_packages == ("qemu-system-x86-core",)
    assert "/usr/bin/qemu-system-i386" in dm.reason
    # the grub2 modules xen-hypervisor Recommends could make Xen the default entry
    assert set(unknown[("xen-hypervisor", "xen-not-default-boot-entry")].absent_packages) == {
        "grub2-pc-modules", "grub2-efi-x64-modules"}
    # %systemd_post (systemd-update-helper install-system-units) applies the presets
    assert "xencommons-not-enabled" not in {r for _n, r, _p in found}


def test_fedora_with_its_qemu() -> None:
    found = fix_set_name(verdicts(lint("fedora", "fedora-qemu")), "fedora-qemu")
    assert not {v for v in found if v[1] == "libxl-device-model-not-shipped"}
    # libxl-save-helper is in /usr/libexec/xen/bin, where libxl runs it
    assert not {v for v in found if v[1] == "libxl-save-helper-not-shipped"}


def test_qubes() -> None:
    report = lint("qubes")
    found = fix_set_name(verdicts(report), "qubes")
    assert found == COMMON | FEDORA_LIKE | {
        # the base package "xen" ships only its README and Requires xen-runtime
        ("xen", "meta-package-missing-docs", "dom0"),
        # the configure that runs gets --with-system-qemu=/usr/bin/qemu-system-i386 and no
        # relation of xen-runtime names a qemu
        ("xen-runtime", "libxl-device-model-not-shipped", "dom0")}
    assert message(report, "libxl-device-model-not-shipped") == (
        "libxl starts the device model at /usr/bin/qemu-system-i386, but neither xen-runtime "
        "nor a package it pulls in ships it")


def test_xen4centos() -> None:
    report = lint("xen4centos")
    found = fix_set_name(verdicts(report), "xen4centos")
    assert found == COMMON | FEDORA_LIKE | {
        ("xen-runtime", "libxl-device-model-not-shipped", "dom0")}
    assert message(report, "libxl-device-model-not-shipped") == (
        "libxl starts the device model at /usr/bin/qemu-system-i386, but neither xen-runtime "
        "nor a package it pulls in ships it")
    # Xen 4.8 builds qemu-xen-traditional; qemu-dm is in LIBEXEC_BIN=/usr/lib/xen/bin;
    # xen-licenses ships only licence texts: not a meta-package
    for rule in ("qemu-traditional-not-shipped", "libxl-save-helper-not-shipped",
                 "meta-package-missing-hypervisor", "meta-package-missing-toolstack"):
        assert not {v for v in found if v[1] == rule}, rule
    assert ("xen-runtime", "qemu-traditional-not-shipped") not in {
        (name(u.artifact), u.rule) for u in report.unknowns}


def test_xcp_ng() -> None:
    report = lint("xcp-ng")
    found = fix_set_name(verdicts(report), "xcp-ng")
    assert found == COMMON | {
        ("xen-dom0-tools", "xen-commands-without-man-pages", "dom0"),
        ("xen-tools", "xen-commands-without-man-pages", "dom0"),
        # QEMU_XEN_PATH=/usr/lib64/xen/bin/qemu-system-i386: XCP-ng's qemu package ships it,
        # but xen-dom0-tools requires only xen-dom0-libs, xen-tools, edk2 and ipxe
        ("xen-dom0-tools", "libxl-device-model-not-shipped", "dom0")}
    assert message(report, "libxl-device-model-not-shipped") == (
        "libxl starts the device model at /usr/lib64/xen/bin/qemu-system-i386, but neither "
        "xen-dom0-tools nor a package it pulls in ships it")
    # %post hypervisor re-points /boot/xen.gz, which the boot menu loads
    assert "hypervisor-package-without-bootloader-refresh" not in {r for _n, r, _p in found}


@pytest.mark.parametrize("folder", ["fedora", "qubes", "xen4centos", "xcp-ng"])
def test_no_message_states_the_upstream_default(folder: str) -> None:
    """Every libxl path reported was read from that build's libxenlight."""
    report = lint(folder)
    for f in report.findings:
        assert "/usr/lib/xen/bin/qemu-system-i386" not in f.message, f.message
        assert "/usr/lib/xen/bin/libxl-save-helper" not in f.message, f.message

"""A real bookworm dom0 root, built with mmdebstrap the first time and cached after.

    mmdebstrap --variant=apt --include=xen-system-amd64,linux-image-amd64,grub-pc bookworm

takes a minute or three; the root is kept under $XENLINT_TEST_CACHE (default
~/.cache/xenlint-tests), keyed by the command, so later runs reuse it. Each test that
changes the root works on a hard-linked copy, never on the cache.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import need_tools
from xenlint.artifact import Kind
from xenlint.engine.lint import LintOptions, lint_paths
from xenlint.finding import Report
from xenlint.readers import read_path

pytestmark = pytest.mark.slow

COMMAND = ("mmdebstrap", "--variant=apt",
           "--include=xen-system-amd64,linux-image-amd64,grub-pc", "bookworm")
XEN_PACKAGES = {"xen-system-amd64", "xen-hypervisor-4.17-amd64", "xen-hypervisor-common",
                "xen-utils-4.17", "xen-utils-common", "xenstore-utils"}
# what is really wrong with this root, and nothing else: the device model (qemu-system-xen,
# a Recommends apt in the chroot skipped), no docs in the meta-package, Debian's missing
# man pages (lintian reports them too)
TRUE_FINDINGS = {"libxl-device-model-not-shipped", "meta-package-missing-docs",
                 "xen-commands-without-man-pages",
                 # xenstore-utils links xenstore-control to xen-utils-common's wrapper
                 # without depending on it: dangling wherever it is installed alone
                 "symlink-target-not-shipped"}


def _cache_dir() -> Path:
    base = os.environ.get("XENLINT_TEST_CACHE") or Path.home() / ".cache" / "xenlint-tests"
    key = hashlib.sha256("\0".join(COMMAND).encode()).hexdigest()[:16]
    return Path(base) / f"root-{key}"


@pytest.fixture(scope="session")
def dom0_root() -> Path:
    root = _cache_dir()
    # beside the root, not in it: a file in the root would be one more unowned file
    done = root.with_name(root.name + ".complete")
    if done.is_file():
        return root
    need_tools("mmdebstrap")
    root.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(root, ignore_errors=True)
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run([*COMMAND, str(partial)], check=True, capture_output=True)
    partial.rename(root)
    done.write_text(" ".join(COMMAND) + "\n")
    return root


def _copy(root: Path, dest: Path) -> Path:
    subprocess.run(["cp", "-al", str(root), str(dest)], check=True)
    return dest


def _release(root: Path) -> str:
    [vmlinuz] = sorted((root / "boot").glob("vmlinuz-*"))
    return vmlinuz.name.removeprefix("vmlinuz-")


def _menu(release: str, *, default: str, xen: bool = True) -> str:
    xen_entry = (
        "menuentry 'Debian GNU/Linux, with Xen hypervisor' --class xen "
        "$menuentry_id_option 'xen-gnulinux-simple' {\n"
        "\tmultiboot2\t/boot/xen-4.17-amd64.gz placeholder\n"
        f"\tmodule2\t/boot/vmlinuz-{release} placeholder root=/dev/sda1 ro quiet\n"
        f"\tmodule2\t--nounzip   /boot/initrd.img-{release}\n}}\n")
    linux_entry = (
        "menuentry 'Debian GNU/Linux' --class debian $menuentry_id_option 'gnulinux-simple' {\n"
        f"\tlinux\t/boot/vmlinuz-{release} root=/dev/sda1 ro quiet\n"
        f"\tinitrd\t/boot/initrd.img-{release}\n}}\n")
    entries = (xen_entry + linux_entry) if xen else linux_entry
    return f"set default=\"{default}\"\n{entries}"


def _check(root: Path, *rules: str) -> Report:
    return lint_paths([str(root)], LintOptions(search_config=False, show_unknown=True,
                                               select=rules, profiles=("dom0",)))


def test_installed_xen_packages_are_subjects(dom0_root: Path) -> None:
    arts = read_path(dom0_root)
    assert not [a.path for a in arts if a.error]
    installed = {a.package.name for a in arts if a.kind is Kind.INSTALLED and a.package}
    assert installed >= XEN_PACKAGES
    assert "qemu-system-xen" not in installed
    utils = next(a for a in arts if a.path == f"{dom0_root}:xen-utils-4.17")
    assert utils.package is not None
    # apt in the chroot installs no Recommends: qemu-system-xen is one of xen-utils-4.17's
    assert any(r.startswith("qemu-system-xen") for r in utils.package.recommends)


def test_check_reports_what_is_wrong_and_nothing_false(dom0_root: Path) -> None:
    report = _check(dom0_root)
    assert not report.errors
    by_rule = {f.rule: f for f in report.findings}
    assert set(by_rule) == TRUE_FINDINGS
    qemu = by_rule["libxl-device-model-not-shipped"]
    assert qemu.artifact == f"{dom0_root}:xen-utils-4.17"
    assert "/usr/libexec/xen-qemu-system-i386" in qemu.message
    assert {f.artifact.rsplit(":", 1)[0] for f in report.findings} == {str(dom0_root)}
    # no grub.cfg was generated in the chroot: the boot menu rules cannot tell, and say so
    unknown = {u.rule: u.missing for u in report.unknowns}
    for rule in ("root-without-xen-boot-entry", "root-default-boot-not-xen",
                 "root-xen-entry-kernel-not-dom0"):
        assert "no grub.cfg" in unknown[rule]
    # the services, the kernel and the releases were checked and are fine
    for rule in ("root-xen-services-not-enabled", "kernel-without-xen-dom0",
                 "hypervisor-toolstack-release-mismatch", "xencommons-not-enabled"):
        assert rule not in unknown and rule not in by_rule


def test_default_boot_to_plain_linux_is_flagged(dom0_root: Path, tmp_path: Path) -> None:
    root = _copy(dom0_root, tmp_path / "root")
    release = _release(root)
    (root / "boot/grub/grub.cfg").write_text(_menu(release, default="1"))
    report = _check(root, "root-default-boot-not-xen", "root-without-xen-boot-entry",
                    "root-xen-entry-kernel-not-dom0")
    assert [f.rule for f in report.findings] == ["root-default-boot-not-xen"]
    assert "'Debian GNU/Linux'" in report.findings[0].message
    assert not report.unknowns
    (root / "boot/grub/grub.cfg").write_text(_menu(release, default="0"))
    assert not _check(root, "root-default-boot-not-xen").findings


def test_menu_without_xen_entry_is_flagged(dom0_root: Path, tmp_path: Path) -> None:
    root = _copy(dom0_root, tmp_path / "root")
    (root / "boot/grub/grub.cfg").write_text(_menu(_release(root), default="0", xen=False))
    report = _check(root, "root-without-xen-boot-entry")
    [finding] = report.findings
    assert "/boot/xen-4.17-amd64.gz" in finding.message


def test_removed_rc_links_are_flagged(dom0_root: Path, tmp_path: Path) -> None:
    root = _copy(dom0_root, tmp_path / "root")
    assert not _check(root, "root-xen-services-not-enabled").findings
    for link in root.glob("etc/rc?.d/S??xen"):
        link.unlink()
    [finding] = _check(root, "root-xen-services-not-enabled").findings
    assert "/etc/init.d/xen has no start link" in finding.message


@pytest.mark.parametrize("name", ["xen-4.17-amd64.gz", "xen-4.17-amd64.efi",
                                  "xen-4.17-amd64.config"])
def test_inspect_reads_the_hypervisor_from_boot(dom0_root: Path, name: str) -> None:
    [art] = read_path(dom0_root / "boot" / name)
    assert art.error is None and art.kind is Kind.HYPERVISOR
    assert art.hypervisor is not None and art.hypervisor.version == "4.17.7"
    assert art.hypervisor.arch == "x86_64"

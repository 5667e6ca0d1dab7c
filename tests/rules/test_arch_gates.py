"""Architecture gates: a complete Xen kernel config passes every rule in every profile on
x86-64 and on arm64, where XEN_PV, XEN_SAVE_RESTORE, PARAVIRT_CLOCK and the x86-only
PCI/ACPI drivers do not exist and must never be demanded."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from xenlint.engine.lint import LintOptions, lint_paths

GOOD = {
    "x86_64": FIXTURES / "rules" / "kernel-without-xen" / "pass-good",
    "arm64": FIXTURES / "rules" / "kernel-without-xen-save-restore" / "pass-arm64-has-no-option",
}


@pytest.mark.parametrize("arch", sorted(GOOD))
def test_complete_config_passes_everything(arch: str) -> None:
    configs = sorted(str(p) for p in Path(GOOD[arch]).glob("config-*"))
    assert len(configs) == 1
    report = lint_paths(configs, LintOptions(profiles=("dom0", "domu", "installer"),
                                             search_config=False, show_unknown=True))
    assert report.findings == []
    # what stays unknown is only what a bare config cannot show: the image and modules
    assert {u.rule for u in report.unknowns} <= {"kernel-image-without-xen-entry",
                                                 "kernel-xen-modules-not-shipped"}


def test_arm64_config_has_no_x86_only_options() -> None:
    text = next(Path(GOOD["arm64"]).glob("config-*")).read_text()
    assert "CONFIG_ARM64=y" in text
    for option in ("CONFIG_XEN_PV=", "CONFIG_XEN_SAVE_RESTORE=", "CONFIG_PARAVIRT_CLOCK=",
                   "CONFIG_XEN_ACPI_PROCESSOR=", "CONFIG_XEN_PCIDEV_BACKEND="):
        assert option not in text

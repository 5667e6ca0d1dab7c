"""fixtures/samples/: the README's first command lints it and finds exactly its one defect."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from xenlint.artifact import Kind
from xenlint.cli import main
from xenlint.readers import read_path

SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "samples"


def test_samples_read_cleanly() -> None:
    arts = read_path(SAMPLES)
    assert [(a.kind, a.error) for a in arts] == [(Kind.DEB, None)] * 3
    by_name = {a.package.name: a for a in arts if a.package}
    meta = by_name["xen-system-sample"]
    assert meta.package is not None
    assert meta.package.depends == ["xen-hypervisor-sample-4.17-amd64 (= 4.17.3-1)",
                                    "xen-tools-sample (= 4.17.3-1)"]
    hyp = by_name["xen-hypervisor-sample-4.17-amd64"]
    assert hyp.package is not None
    assert "/boot/xen-4.17-amd64.gz" in hyp.entries
    assert "update-grub" in hyp.package.scripts["postinst"]
    tools = by_name["xen-tools-sample"]
    assert "/usr/sbin/xl" in tools.entries
    assert "/usr/share/man/man1/xl.1.gz" in tools.entries


def test_readme_first_command_reports_the_missing_docs() -> None:
    res = CliRunner().invoke(main, [str(SAMPLES)])
    findings = [ln for ln in res.stdout.splitlines() if ln[:3] in ("E: ", "W: ", "I: ")]
    docs = [ln for ln in findings if "meta-package-missing-docs" in ln]
    assert len(docs) == 1 and docs[0].startswith("W: ") and "xen-system-sample" in docs[0]
    # the docs are the sample's one defect: any other finding means a rule or the sample
    # drifted (update the sample, or README's promise about it)
    assert findings == docs, res.stdout
    assert res.exit_code == 0  # a warning is below the default --fail-on error

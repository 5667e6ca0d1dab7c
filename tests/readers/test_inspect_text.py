"""`xenlint inspect` (text): what a person sees for a package, and the exit status."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from xenlint.cli import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "readers"


def test_text_shows_package_facts() -> None:
    res = CliRunner().invoke(main, ["inspect", str(FIXTURES / "deb" / "lzma.deb"),
                                    str(FIXTURES / "rpm" / "bzip2.rpm")])
    assert res.exit_code == 0, res.output
    lines = [ln.strip() for ln in res.stdout.splitlines()]
    assert f"{FIXTURES / 'deb' / 'lzma.deb'} [deb]" in lines
    assert "package: xenlint-fixture 1:4.17.0-1 amd64" in lines
    assert "pre-depends: dpkg (>= 1.19.1)" in lines
    assert "depends: libc6 (>= 2.34), xen-hypervisor-4.17-amd64 | xen-hypervisor" in lines
    assert "scripts: postinst (/bin/sh), postrm (/bin/sh), prerm (/bin/sh), triggers" in lines
    assert "payload compression: lzma" in lines
    # RPM: the version as rpm -q prints it, epoch and release included
    assert "package: xenlint-fixture 1:4.17.0-1 noarch" in lines
    assert "triggers: %triggerin -- xen-hypervisor" in lines
    assert "payload compression: bzip2" in lines
    assert lines.count("files: 6") == 1 and lines.count("files: 5") == 1


def test_root_tree_text() -> None:
    res = CliRunner().invoke(main, ["inspect", str(FIXTURES / "rootfs")])
    assert res.exit_code == 0
    assert res.stdout.splitlines()[0] == f"{FIXTURES / 'rootfs'} [directory]"
    assert "files: 7" in res.stdout

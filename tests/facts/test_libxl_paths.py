"""QEMU_XEN_PATH and LIBEXEC_BIN as libxl compiles them in, read back from its strings.

tools/configure.ac sets QEMU_XEN_PATH to the value of --with-system-qemu=PATH (any path),
to the bare name qemu-system-i386 for --with-system-qemu=yes (execvp looks it up in $PATH),
or to LIBEXEC_BIN/qemu-system-i386 when Xen builds its own qemu. libxl_save_callout.c runs
LIBEXEC_BIN "/" "libxl-save-helper", one string after compilation.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import need_tools
from xenlint.facts.xen import libexec_bin, qemu_xen_path, rodata_strings
from xenlint.readers import read_path

# strings every libxl carries that name qemu without being QEMU_XEN_PATH (read from
# Debian's libxenlight.so.4.17.0)
CONFUSERS = ("qemu", "qemu-dm", "qemu-dm-%s", "qemu-xen", "qemu_xen_traditional",
             "/var/lib/xen/qemu-resume.%d", "/var/lib/xen/qemu-save.%d", "%s/qemu-root-%d",
             "qemu-stubdom-linux-kernel", "/usr/share/seabios/bios-256k.bin",
             "/usr/bin/pygrub", "/usr/bin/vchan-socket-proxy",
             "Please install the qemu-system-xen package for this domain to work")


@pytest.mark.parametrize("path", [
    "/usr/libexec/xen-qemu-system-i386",        # Debian
    "/usr/bin/qemu-system-i386",                # Fedora, Qubes, xen4centos
    "/usr/bin/qemu-system-x86_64",              # --with-system-qemu=/usr/bin/qemu-system-x86_64
    "/usr/lib64/xen/bin/qemu-system-i386",      # XCP-ng
    "/usr/lib/xen/bin/qemu-system-i386",        # upstream's own qemu
    "/usr/libexec/qemu-kvm",
    "qemu-system-i386",                         # --with-system-qemu=yes
    "qemu-system-x86_64",
])
def test_qemu_xen_path_is_read_whatever_it_is(path: str) -> None:
    assert qemu_xen_path((*CONFUSERS, path, "/usr/lib/xen/bin/libxl-save-helper")) == path


def test_no_qemu_path_or_two_of_them_is_not_a_guess() -> None:
    assert qemu_xen_path(CONFUSERS) is None
    assert qemu_xen_path(()) is None
    assert qemu_xen_path(("/usr/bin/qemu-system-i386", "/usr/bin/qemu-system-x86_64")) is None


def test_an_absolute_path_wins_over_a_bare_name_in_a_message() -> None:
    assert qemu_xen_path(("qemu-system-i386 exited", "/usr/bin/qemu-system-x86_64")) == \
        "/usr/bin/qemu-system-x86_64"


@pytest.mark.parametrize("bindir", ["/usr/lib/xen/bin", "/usr/libexec/xen/bin",
                                    "/usr/lib/xen-4.17/bin", "/opt/xen/libexec/bin"])
def test_libexec_bin_is_the_save_helpers_dir(bindir: str) -> None:
    strings = (*CONFUSERS, "/usr/lib/xen/boot", f"{bindir}/libxl-save-helper", bindir)
    assert libexec_bin(strings) == bindir


def test_libexec_bin_without_the_save_helper() -> None:
    assert libexec_bin(("/usr/libexec/xen/bin/convert-legacy-stream",)) == "/usr/libexec/xen/bin"
    assert libexec_bin(("/usr/lib64/xen/bin",)) == "/usr/lib64/xen/bin"
    assert libexec_bin(CONFUSERS) is None


def test_strings_of_a_compiled_library(tmp_path: Path) -> None:
    """The strings reach the reader the way a C compiler lays them out in .rodata."""
    need_tools("gcc")
    src = tmp_path / "l.c"
    src.write_text('const char *p(void) { return "/usr/bin/qemu-system-x86_64"; }\n'
                   'const char *h(void) { return "/usr/libexec/xen/bin" "/" '
                   '"libxl-save-helper"; }\n')
    so = tmp_path / "l.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O0", "-nostdlib", "-o", so, src], check=True)
    strings = rodata_strings(so.read_bytes())
    assert qemu_xen_path(strings) == "/usr/bin/qemu-system-x86_64"
    assert libexec_bin(strings) == "/usr/libexec/xen/bin"


@pytest.mark.corpus
def test_debian_libxenlight(corpus: Path) -> None:
    [art] = read_path(next((corpus / "deb").glob("libxenmisc4.17_*.deb")))
    lib = next(p for p in art.entries if p.endswith("/libxenlight.so.4.17.0"))
    data = art.read(lib)
    assert data
    strings = rodata_strings(data)
    assert qemu_xen_path(strings) == "/usr/libexec/xen-qemu-system-i386"
    assert libexec_bin(strings) == "/usr/lib/xen-4.17/bin"

"""render() finds formats by module, and the location helpers every reporter shares."""

from __future__ import annotations

import io

import pytest
from reporter_samples import sample_report

from xenlint.finding import Finding, Severity
from xenlint.reporters import formats, render
from xenlint.reporters.locations import (
    artifact_name,
    display_location,
    inner_location,
    stable_location,
)


def test_formats_are_the_issue_four_plus_any_added_module() -> None:
    found = formats()
    assert found[0] == "text"
    assert {"text", "json", "sarif", "junit"} <= set(found)
    assert "locations" not in found


def test_unknown_format_is_a_one_line_error() -> None:
    with pytest.raises(ValueError, match="unknown output format 'yaml'"):
        render("yaml", sample_report(), io.StringIO())


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit"])
def test_every_format_ends_with_a_newline(fmt: str) -> None:
    out = io.StringIO()
    render(fmt, sample_report(), out, color=True)
    assert out.getvalue().endswith("\n")


@pytest.mark.parametrize(("artifact", "location", "inner"), [
    ("a/x.deb", None, None),
    ("a/x.deb", "a/x.deb", None),
    ("a/x.deb", "/boot/vmlinuz-6.1", "/boot/vmlinuz-6.1"),
    ("a/x.deb", "a/x.deb!/boot/vmlinuz-6.1", "/boot/vmlinuz-6.1"),
    ("a/x.deb", "a/x.deb!/boot/initrd.img!/usr/lib/modules/m.ko",
     "/boot/initrd.img!/usr/lib/modules/m.ko"),
    ("a/x.deb!/boot/initrd.img", "/usr/lib/modules/m.ko", "/boot/initrd.img!/usr/lib/modules/m.ko"),
    ("a/x.deb!/boot/initrd.img", "a/x.deb!/boot/initrd.img!/init", "/boot/initrd.img!/init"),
    ("/srv/root", "/srv/root/boot/config-6.1", "/boot/config-6.1"),
])
def test_inner_location(artifact: str, location: str | None, inner: str | None) -> None:
    assert inner_location(artifact, location) == inner


def test_names_do_not_depend_on_directories() -> None:
    assert artifact_name("/srv/pool/x.deb") == artifact_name("x.deb") == "x.deb"
    assert artifact_name("pool/x.deb!/boot/vmlinuz") == "x.deb"

    def at(artifact: str, location: str) -> Finding:
        return Finding("r", Severity.ERROR, "dom0", (), artifact, location, "m", "f")

    here = at("/srv/a/x.deb", "/srv/a/x.deb!/boot/vmlinuz")
    there = at("/tmp/x.deb", "/tmp/x.deb!/boot/vmlinuz")
    assert stable_location(here) == stable_location(there) == "/boot/vmlinuz"
    assert display_location(here) == "x.deb!/boot/vmlinuz"

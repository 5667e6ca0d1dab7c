"""The text reporter: lintian-style lines, O/U/X lines, the summary, colour only when asked."""

from __future__ import annotations

import io
import re
from dataclasses import replace

from reporter_samples import BROKEN, INITRD, KERNEL_DEB, XEN_DEB, sample_report

from xenlint.finding import Report, Severity, Unknown
from xenlint.reporters import render

LINE = re.compile(r"^(?P<letter>[EWIOUX]): (?P<artifact>[^:]+): (?P<rest>.*)$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
CODES = re.compile(r"(?:\x1b\[[0-9;]*m)+")


def text(report: Report, color: bool = False) -> list[str]:
    out = io.StringIO()
    render("text", report, out, color=color)
    return out.getvalue().splitlines()


def test_one_line_per_finding_then_unknowns_errors_and_summary() -> None:
    report = sample_report()
    lines = text(report)
    expected = len(report.findings) + len(report.unknowns) + len(report.errors) + 1
    assert len(lines) == expected
    parsed = [LINE.match(line) for line in lines[:-1]]
    assert all(parsed), lines
    letters = [m.group("letter") for m in parsed if m]
    assert letters == ["E", "W", "W", "O", "U", "X"]
    for m, f in zip(parsed, report.findings, strict=False):
        assert m is not None
        assert m.group("artifact") == f.artifact
        assert m.group("rest").startswith(f"{f.rule} {f.message}")
        assert m.group("rest").endswith(f"({f.profile})") or f.suppressed


def test_nested_location_is_shown_inside_the_artifact_without_its_path() -> None:
    first = text(sample_report())[0]
    assert first.startswith(f"E: {KERNEL_DEB}: dom0-kernel-without-blkback ")
    assert first.endswith(" [/boot/vmlinuz-6.1.0-13-amd64] (dom0)")
    assert first.count(KERNEL_DEB) == 1


def test_suppressed_finding_is_an_O_line_with_its_reason_and_not_counted() -> None:
    lines = text(sample_report())
    [o_line] = [line for line in lines if line.startswith("O:")]
    assert o_line.startswith(f"O: {XEN_DEB}: libxl-device-model-not-shipped ")
    assert o_line.endswith("overridden: qemu comes from qemu-system-xen")
    # the info finding was suppressed, so no info is counted
    assert lines[-1].startswith("1 error, 2 warnings, 0 info; 1 suppressed,")


def test_unknown_and_read_error_lines() -> None:
    lines = text(sample_report())
    assert f"U: {XEN_DEB}: initramfs-missing-xen-blkfront unknown: needs initramfs.modules " \
           "(domu)" in lines
    assert f"X: {BROKEN}: truncated ar archive: member data.tar.xz ends early" in lines


def test_summary_counts_follow_the_report() -> None:
    report = sample_report()
    report.findings = [f for f in report.findings if f.severity is not Severity.ERROR]
    report.errors.clear()
    report.unknowns.clear()
    assert text(report)[-1] == \
        "0 errors, 2 warnings, 0 info; 1 suppressed, 0 unknown, 0 unreadable inputs; 4 artifacts"


def test_hidden_unknowns_are_counted_and_how_to_list_them_is_said() -> None:
    report = sample_report()
    report.hidden_unknowns, report.unknowns = 12, []
    assert "; 1 suppressed, 12 unknown (--show-unknown), 1 unreadable input;" in text(report)[-1]
    assert not [line for line in text(report) if line.startswith("U:")]


def test_an_unknown_says_why_and_where() -> None:
    report = sample_report()
    report.unknowns = [Unknown("libxl-save-helper-not-shipped", "dom0", XEN_DEB,
                               "xen.save_helper_shipped", "libxenmisc4.17 is not in the run "
                               "and could ship libxenlight.", ("libxenmisc4.17",))]
    assert f"U: {XEN_DEB}: libxl-save-helper-not-shipped unknown: needs xen.save_helper_shipped: " \
           "libxenmisc4.17 is not in the run and could ship libxenlight. (dom0)" in text(report)


def test_empty_report_is_only_the_summary() -> None:
    assert text(Report()) == [
        "0 errors, 0 warnings, 0 info; 0 suppressed, 0 unknown, 0 unreadable inputs; 0 artifacts"
    ]


def test_no_colour_unless_asked() -> None:
    plain = text(sample_report())
    assert not any(ANSI.search(line) for line in plain)
    coloured = text(sample_report(), color=True)
    assert all(ANSI.search(line) for line in coloured)
    # colour adds escape codes and nothing else: brackets in messages stay literal
    assert [ANSI.sub("", line) for line in coloured] == plain
    assert any("[not shipped]" in line for line in coloured)


def test_letters_get_distinct_colours() -> None:
    coloured = text(sample_report(), color=True)
    e_code = CODES.match(coloured[0])
    w_code = CODES.match(coloured[1])
    assert e_code and w_code and e_code.group() != w_code.group()
    assert coloured[1].startswith(w_code.group() + "W:")
    assert INITRD in coloured[1]


def test_controls_from_artifacts_cannot_reach_the_terminal() -> None:
    report = sample_report()
    report.findings[0] = replace(report.findings[0], message="evil\x1b]0;owned\x07\nsecond line",
                                 location="/boot/caf\udce9")
    first = text(report)[0]
    assert "\x1b" not in first and "\x07" not in first
    assert "evil\\x1b]0;owned\\x07\\nsecond line" in first
    # an undecodable byte of a member name is shown as the byte it was
    assert first.endswith("[/boot/caf\\xe9] (dom0)")
    assert len(text(report)) == len(text(sample_report()))

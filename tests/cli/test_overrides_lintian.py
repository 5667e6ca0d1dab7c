"""Overrides as packagers know them: lintian's line format with `#` reasons, a hint about
both formats for a malformed file, --no-overrides, and overrides a package ships for itself
at /usr/share/xenlint/overrides/<package>."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_deb

from xenlint.engine.lint import LintError, LintOptions, lint_paths
from xenlint.engine.overrides import OverrideError, parse_lines

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "tests/data/rules"
RULE = "test-sbin-demo"


def lint(paths: list[Path], **kw: object) -> list[tuple[str, bool, str | None]]:
    report = lint_paths(paths, LintOptions(extra_rule_dirs=(RULES,), select=(RULE,),
                                           profiles=("dom0",), search_config=False,
                                           **kw))  # type: ignore[arg-type]
    return [(f.rule, f.suppressed, f.suppression_reason if f.suppressed else f.message)
            for f in report.findings]


def test_lintian_line_format_parses_package_arch_rule_and_context() -> None:
    text = ("# xl-demo is a demo program\n# kept in sbin by upstream\n"
            "demo-pkg [amd64 i386]: test-sbin-demo usr/sbin/xl-*\n\n"
            "# any package\ntest-sbin-demo\n")
    first, second = parse_lines(text, "ovr")
    assert (first.package, first.arch, first.rule, first.context) == \
        ("demo-pkg", "[amd64 i386]", RULE, "usr/sbin/xl-*")
    assert first.reason == "xl-demo is a demo program kept in sbin by upstream"
    assert first.origin == "ovr:3"
    assert (second.package, second.context, second.reason) == (None, None, "any package")


def test_a_lintian_override_needs_its_comment_reason() -> None:
    with pytest.raises(OverrideError, match=r"ovr:3: an override needs a reason"):
        parse_lines("# reason\n\ntest-sbin-demo\n", "ovr")


def test_lintian_file_suppresses_by_package_arch_and_context(tmp_path: Path) -> None:
    deb = make_deb(tmp_path, "demo-pkg", files={"/usr/sbin/xl-demo": "x"})
    ovr = tmp_path / "ovr"
    ovr.write_text("# upstream keeps it in sbin\ndemo-pkg [amd64]: test-sbin-demo "
                   "/usr/sbin/xl-*\n")
    assert lint([deb], overrides_file=ovr) == [(RULE, True, "upstream keeps it in sbin")]
    ovr.write_text("# wrong arch\ndemo-pkg [arm64]: test-sbin-demo\n")
    found = lint([deb], overrides_file=ovr)
    assert found[0][:2] == (RULE, False) and found[1][0] == "unused-override"
    ovr.write_text("# other package\nother-pkg: test-sbin-demo\n")
    assert lint([deb], overrides_file=ovr)[0][:2] == (RULE, False)
    ovr.write_text("# context from the message\ntest-sbin-demo ships /usr/sbin/xl-demo\n")
    assert lint([deb], overrides_file=ovr) == [(RULE, True, "context from the message")]


def test_a_malformed_file_gets_a_hint_about_both_formats(tmp_path: Path) -> None:
    deb = make_deb(tmp_path, "demo-pkg", files={"/usr/sbin/xl-demo": "x"})
    ovr = tmp_path / "ovr"
    for text in ("[[overrides]\nrule = 1\n", "# r\nDemo Pkg: !!\n", "[[overrides]]\n"
                 'rule = "x"\nreason = "r"\n[extra]\n'):
        ovr.write_text(text)
        with pytest.raises(LintError) as err:
            lint([deb], overrides_file=ovr)
        assert "[[overrides]] table" in str(err.value), text
        assert "`[package[ arch]: ]rule [context]`" in str(err.value), text


def test_no_overrides_ignores_them_all(tmp_path: Path) -> None:
    deb = make_deb(tmp_path, "demo-pkg", files={
        "/usr/sbin/xl-demo": "x",
        "/usr/share/xenlint/overrides/demo-pkg": "# shipped reason\ntest-sbin-demo\n"})
    (tmp_path / "xenlint-overrides").write_text("# beside\nnever-a-rule\n")
    assert lint([deb], no_overrides=True) == [
        (RULE, False, "demo-pkg ships /usr/sbin/xl-demo")]


def test_overrides_shipped_in_a_package_apply_to_it_alone(tmp_path: Path) -> None:
    own = make_deb(tmp_path, "demo-pkg", files={
        "/usr/sbin/xl-demo": "x",
        "/usr/share/xenlint/overrides/demo-pkg":
            "# the demo is meant for root\ntest-sbin-demo usr/sbin/xl-demo\n\n"
            "# stale\ntest-sbin-demo usr/sbin/gone\n"})
    other = make_deb(tmp_path, "other-pkg", files={"/usr/sbin/xl-other": "x"})
    found = lint([own, other])
    assert (RULE, True, "the demo is meant for root") in found
    assert (RULE, False, "other-pkg ships /usr/sbin/xl-other") in found
    [unused] = [f for f in found if f[0] == "unused-override"]
    assert "usr/sbin/gone" in str(unused[2]) and "matched no finding" in str(unused[2])


def test_a_package_may_not_override_another(tmp_path: Path) -> None:
    deb = make_deb(tmp_path, "demo-pkg", files={
        "/usr/sbin/xl-demo": "x",
        "/usr/share/xenlint/overrides/demo-pkg": "# r\nother-pkg: test-sbin-demo\n"})
    with pytest.raises(LintError, match="applies to it alone"):
        lint([deb])

"""The engine: subjects from artifacts, when/expect/unknown outcomes, lazy facts, profiles."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.engine.testfacts import GivenArtifact  # (registers the test.* facts)
from xenlint.artifact import Artifact, Entry, EntryType, Kind, Package
from xenlint.engine.evaluate import build_subjects, check_rule, evaluate
from xenlint.engine.rulebook import load_rule
from xenlint.finding import Finding, Unknown

RULE = """severity = "error"
profiles = ["dom0", "domu"]
checklist = ["dom0-kernel"]
applies-to = "kernel"
when = 'test.config.CONFIG_XEN == "y"'
expect = 'test.config.CONFIG_XEN_DOM0 == "y"'
message = "{artifact.name}: CONFIG_XEN_DOM0={test.config.CONFIG_XEN_DOM0}"

[doc]
what = "w"
why = "w"
fix = "Set CONFIG_XEN_DOM0=y."
"""


def deb(path: str, *files: str, children: list[Artifact] | None = None) -> Artifact:
    entries = {f: Entry(f, EntryType.FILE) for f in files}
    return Artifact(path, Kind.DEB, package=Package(path.rsplit("/", 1)[-1].split("_")[0], "1"),
                    entries=entries, children=children or [])


def test_subjects_follow_the_contract() -> None:
    image = Artifact("k.deb!/boot/vmlinuz-6.1", Kind.KERNEL_IMAGE)
    config = Artifact("k.deb!/boot/config-6.1", Kind.KERNEL_CONFIG)
    initrd = Artifact("iso!/install/initrd.gz", Kind.INITRAMFS)
    iso_kernel = Artifact("iso!/install/vmlinuz", Kind.KERNEL_IMAGE)
    module = Artifact("k.deb!/lib/modules/6.1/xen-blkback.ko", Kind.KERNEL_MODULE)
    arts = [
        deb("k.deb", "/boot/vmlinuz-6.1", children=[image, config, module]),
        deb("xen-utils.deb", "/usr/sbin/xl"),
        Artifact("iso", Kind.ISO, children=[iso_kernel, initrd]),
        Artifact("broken.deb", Kind.FILE, error="is corrupt"),
        Artifact("config-6.1", Kind.KERNEL_CONFIG),
    ]
    got = [(s.kind, s.input, s.location) for s in build_subjects(arts)]
    assert got == [
        ("package", "k.deb", None), ("kernel", "k.deb", None),
        ("module", "k.deb", "/lib/modules/6.1/xen-blkback.ko"),
        ("package", "xen-utils.deb", None),
        ("kernel", "iso", "/install/vmlinuz"), ("initramfs", "iso", "/install/initrd.gz"),
        ("kernel", "config-6.1", None),
        ("packages", ".", None),
    ]


def _kernel(tmp_path: Path, config: dict[str, str] | None) -> tuple[Artifact, Path]:
    art = GivenArtifact("/in/config-6.1", Kind.KERNEL_CONFIG, given={"test.config": config})
    rule_path = tmp_path / "dom0-off.toml"
    rule_path.write_text(RULE)
    return art, rule_path


def test_outcomes(tmp_path: Path) -> None:
    cases = [({"CONFIG_XEN": "n"}, type(None)), ({"CONFIG_XEN": "y", "CONFIG_XEN_DOM0": "y"},
             type(None)), ({"CONFIG_XEN": "y", "CONFIG_XEN_DOM0": "n"}, Finding), (None, Unknown)]
    for config, outcome in cases:
        art, rule_path = _kernel(tmp_path, config)
        rule = load_rule(rule_path)
        subject = build_subjects([art])[0].with_profile("dom0")
        result = check_rule(rule, subject)
        assert isinstance(result, outcome), (config, result)
        if isinstance(result, Finding):
            assert result.message == "config-6.1: CONFIG_XEN_DOM0=n"
            assert result.profile == "dom0"
            assert result.fix == "Set CONFIG_XEN_DOM0=y."
            assert result.artifact == "/in/config-6.1"
        if isinstance(result, Unknown):
            assert result.missing == "test.config"


def test_each_profile_asked_for_gives_its_own_finding(tmp_path: Path) -> None:
    art, rule_path = _kernel(tmp_path, {"CONFIG_XEN": "y", "CONFIG_XEN_DOM0": "n"})
    rule = load_rule(rule_path)
    findings, _ = evaluate([rule], build_subjects([art]), ["dom0", "domu", "installer"])
    assert [f.profile for f in findings] == ["dom0", "domu"]  # the rule is not for installer
    findings, _ = evaluate([rule], build_subjects([art]), ["installer"])
    assert findings == []


def test_facts_are_lazy_and_computed_once(tmp_path: Path) -> None:
    art, rule_path = _kernel(tmp_path, {"CONFIG_XEN": "n"})
    rule = load_rule(rule_path)
    subject = build_subjects([art])[0]
    assert subject.computed() == []
    evaluate([rule], [subject], ["dom0", "domu"])
    # `when` was false: the message's artifact.name was never needed
    assert subject.computed() == ["test.config"]
    calls = []
    from xenlint.facts import Subject, fact

    @fact("test.counted", ("kernel",))
    def counted(s: Subject) -> int:
        calls.append(s.profile)
        return 1

    for profile in ("dom0", "domu"):
        assert subject.with_profile(profile).get("test.counted") == 1
    assert len(calls) == 1  # shared across profiles of one subject


def test_a_failing_fact_is_unknown_with_its_reason(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from xenlint.facts import Subject, fact

    @fact("test.crashes", ("kernel",))
    def crashes(s: Subject) -> object:
        raise ValueError("bad bytes\nsecond line")

    monkeypatch.delenv("XENLINT_DEBUG", raising=False)
    rule_path = tmp_path / "crash.toml"
    rule_path.write_text(RULE.replace("when = 'test.config.CONFIG_XEN == \"y\"'\n", "")
                         .replace("test.config.CONFIG_XEN_DOM0 == \"y\"", "test.crashes == 1"))
    art = Artifact("/in/config-6.1", Kind.KERNEL_CONFIG)
    result = check_rule(load_rule(rule_path), build_subjects([art])[0].with_profile("dom0"))
    assert isinstance(result, Unknown)
    assert result.missing == "test.crashes (ValueError: bad bytes)"


def test_a_profile_blind_rule_is_checked_once_and_answers_for_each_profile(
        tmp_path: Path) -> None:
    from xenlint.engine.evaluate import profile_blind
    from xenlint.facts import Subject, fact

    calls: list[str] = []

    @fact("test.by_profile", ("kernel",), per_profile=True)
    def by_profile(s: Subject) -> str:
        calls.append(s.profile)
        return "n" if s.profile == "dom0" else "y"

    art, rule_path = _kernel(tmp_path, {"CONFIG_XEN": "y", "CONFIG_XEN_DOM0": "n"})
    blind = load_rule(rule_path)
    assert profile_blind(blind)
    subject = build_subjects([art])[0]
    findings, _ = evaluate([blind], [subject], ["dom0", "domu"])
    # one answer, given for each profile the rule is for, the same but for the profile
    assert [f.profile for f in findings] == ["dom0", "domu"]
    assert findings[1] == dataclasses.replace(findings[0], profile="domu")

    per = tmp_path / "per-profile.toml"
    per.write_text(RULE.replace('test.config.CONFIG_XEN_DOM0 == "y"', 'test.by_profile == "y"')
                   .replace("{test.config.CONFIG_XEN_DOM0}", "{test.by_profile}"))
    seeing = load_rule(per)
    assert not profile_blind(seeing)
    findings, _ = evaluate([seeing], build_subjects([art]), ["dom0", "domu"])
    assert [(f.profile, f.message) for f in findings] == [
        ("dom0", "config-6.1: CONFIG_XEN_DOM0=n")]
    assert sorted(calls) == ["dom0", "domu"]  # checked for each profile

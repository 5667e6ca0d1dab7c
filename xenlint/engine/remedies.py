"""`check --remedies`: every finding's fix, merged per kind of change and per target.

A rule's fix (its `[doc] fix`, filled from facts like the message) is read line by line:
`#` lines are prose, the others are what to paste. Fixes of one target are merged:
- kernel-config: one de-duplicated `CONFIG_X=v` fragment per kernel, the stronger value
  kept when two rules disagree (y over m over n) and the disagreement noted in a comment;
- initramfs-modules: per image, one dracut `add_drivers+=" ... "` line, its other dracut
  settings, and one initramfs-tools module list (plus initramfs.conf settings);
- dependency: per package, one `Depends:`-style line per field (deb) or one `Requires:` line
  per package (rpm), chosen by the package's flavour;
- packaging: the fixes as written, once per rule and target.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from xenlint.artifact import ModuleInfo
from xenlint.finding import Finding, Remedy, Report
from xenlint.modnames import canonical

if TYPE_CHECKING:
    from xenlint.facts import Subject

KIND_ORDER = ("kernel-config", "initramfs-modules", "dependency", "packaging")
_TITLES = {"kernel-config": "kernel config fragment",
           "initramfs-modules": "initramfs drivers",
           "dependency": "package relations",
           "packaging": "packaging changes"}

_CONFIG = re.compile(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
_NOT_SET = re.compile(r"^# (CONFIG_[A-Za-z0-9_]+) is not set$")
_ADD_DRIVERS = re.compile(r'^(?:add_drivers|force_drivers)\s*\+?=\s*"([^"]*)"\s*$')
_SETTING = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_MODULE = re.compile(r"^[A-Za-z0-9_-]+$")
_RELATION = re.compile(r"^(Pre-Depends|Depends|Recommends|Suggests|Requires)\s*:\s*(.+)$")
_EMPTY_RELATION = re.compile(r"^(Pre-Depends|Depends|Recommends|Suggests|Requires)\s*:\s*$")
_SYNTAX_HEADING = re.compile(
    r"[,;]?\s*(?:e\.g\.\s*)?(?:in\s+)?(?:the\s+)?(?:Debian control|an?\s+RPM spec|RPM spec)"
    r"(?: file)?\s*:?\s*$", re.IGNORECASE)
_DEB_FIELDS = ("Pre-Depends", "Depends", "Recommends", "Suggests")
_TRISTATE = {"n": 0, "m": 1, "y": 2}


def remedy_for(kind: str, subject: Subject) -> Remedy:
    """Where a finding on `subject` is fixed: the subject's artifact, named for a reader."""
    target = subject.input + (f"!{subject.location}" if subject.location else "")
    art = subject.artifact
    flavor = ""
    if subject.kind == "kernel":
        label = f"kernel {subject.get('kernel.release') or '(release unknown)'}"
    elif subject.kind == "initramfs":
        label = f"initramfs for {subject.get('initramfs.releases') or '(release unknown)'}"
    elif subject.kind == "package" and art is not None and art.package is not None:
        label, flavor = f"package {art.package.name}", art.package.flavor
    elif subject.kind == "module" and art is not None and isinstance(art.module, ModuleInfo):
        label = f"module {art.module.name}"
    else:
        label = "package set" if subject.kind == "packages" else subject.kind
    return Remedy(kind, target, label, flavor)


@dataclass(slots=True)
class Group:
    """The merged fixes of one kind for one target."""

    kind: str
    target: str
    label: str
    flavor: str
    findings: list[Finding] = field(default_factory=list)
    # (rule, fix) once each, in report order: a rule failing on several profiles fixes once
    fixes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def rules(self) -> list[str]:
        return list(dict.fromkeys(f.rule for f in self.findings))

    def header(self) -> list[str]:
        """A title, then each finding once with the profiles it was found for."""
        profiles: dict[tuple[str, str, str], list[str]] = {}
        for f in self.findings:
            profiles.setdefault((f.rule, f.severity.value, f.message), []).extend(
                f.all_profiles)
        return [f"## {_TITLES[self.kind]}: {self.label} ({self.target})"] + [
            f"#   {rule} ({sev}; {', '.join(dict.fromkeys(ps))}): {msg}"
            for (rule, sev, msg), ps in profiles.items()]


def groups(report: Report) -> list[Group]:
    """Unsuppressed findings grouped by (remedy kind, target), kinds in KIND_ORDER."""
    out: dict[tuple[str, str], Group] = {}
    for f in report.findings:
        if f.suppressed:
            continue
        r = f.remedy or Remedy("packaging", f.artifact + (f"!{f.location}" if f.location
                                                          else ""), f.artifact)
        kind = r.kind if r.kind in KIND_ORDER else "packaging"
        g = out.setdefault((kind, r.target), Group(kind, r.target, r.label, r.flavor))
        g.findings.append(f)
        if (f.rule, f.fix) not in g.fixes:
            g.fixes.append((f.rule, f.fix))
    return sorted(out.values(), key=lambda g: (KIND_ORDER.index(g.kind), g.target))


def _prose(lines: list[str], text: str) -> None:
    line = text if text.startswith("#") else f"# {text}"
    if line not in lines:
        lines.append(line)


# --- kernel config ----------------------------------------------------------------------

def _stronger(a: str, b: str) -> str | None:
    """The stronger of two tristate values; None when either is not a tristate."""
    if a in _TRISTATE and b in _TRISTATE:
        return a if _TRISTATE[a] >= _TRISTATE[b] else b
    return None


def kernel_config(group: Group) -> tuple[dict[str, str], list[str], list[str]]:
    """The merged options, the prose, and notes on options asked with different values."""
    options: dict[str, str] = {}
    asked: dict[str, dict[str, list[str]]] = {}
    prose: list[str] = []
    for rule, fix in group.fixes:
        for raw in fix.splitlines():
            line = raw.strip()
            if not line:
                continue
            m = _CONFIG.match(line) or _NOT_SET.match(line)
            if m is None:
                _prose(prose, line)
                continue
            option, value = m.group(1), (m.group(2) if m.re is _CONFIG else "n")
            asked.setdefault(option, {}).setdefault(value, []).append(rule)
            if option not in options:
                options[option] = value
            else:
                # a non-tristate conflict keeps the first value asked
                options[option] = _stronger(options[option], value) or options[option]
    notes = []
    for option, values in asked.items():
        if len(values) > 1:
            by = "; ".join(f"={v} by {', '.join(dict.fromkeys(rs))}" for v, rs in values.items())
            notes.append(f"# note: {option.removeprefix('CONFIG_')} asked {by}: "
                         f"kept ={options[option]}")
    return options, prose, notes


def _config_line(option: str, value: str) -> str:
    return f"# {option} is not set" if value == "n" else f"{option}={value}"


def _render_kernel(group: Group) -> list[str]:
    options, prose, notes = kernel_config(group)
    return prose + notes + [_config_line(o, v) for o, v in options.items()]


# --- initramfs --------------------------------------------------------------------------

@dataclass(slots=True)
class RamdiskFix:
    modules: list[str] = field(default_factory=list)
    dracut: dict[str, str] = field(default_factory=dict)
    itools: dict[str, str] = field(default_factory=dict)
    prose: list[str] = field(default_factory=list)

    def add_module(self, name: str) -> None:
        if canonical(name) not in {canonical(m) for m in self.modules}:
            self.modules.append(name)


def _tool_of(comment: str, current: str) -> str:
    m = re.match(r"#\s*(dracut|initramfs-tools)\s*:", comment)
    if m is None:
        return current
    return "dracut" if m.group(1) == "dracut" else "itools"


def initramfs_fix(group: Group) -> RamdiskFix:
    """Modules and settings of every fix for one image; `# dracut:`/`# initramfs-tools:`
    comments say which tool the following setting lines are for."""
    out = RamdiskFix()
    for _rule, fix in group.fixes:
        tool = ""
        for raw in fix.splitlines():
            line = raw.strip()
            if not line:
                continue
            if line.startswith("#"):
                tool = _tool_of(line, tool)
                # the tool directions are printed again with the merged lines
                if _tool_of(line, "") == "":
                    _prose(out.prose, line)
                continue
            if m := _ADD_DRIVERS.match(line):
                for name in m.group(1).split():
                    out.add_module(name)
            elif m := _SETTING.match(line):
                (out.itools if tool == "itools" else out.dracut)[m.group(1)] = m.group(2)
            elif _MODULE.match(line):
                out.add_module(line)
            else:
                _prose(out.prose, line)
    return out


def _render_initramfs(group: Group) -> list[str]:
    fix = initramfs_fix(group)
    lines: list[str] = []
    if fix.modules or fix.dracut:
        lines.append("# dracut: add to /etc/dracut.conf.d/50-xen.conf")
        lines += [f"{k}={v}" for k, v in fix.dracut.items()]
        if fix.modules:
            lines.append(f'add_drivers+=" {" ".join(fix.modules)} "')
    if fix.itools:
        lines.append("# initramfs-tools: set in /etc/initramfs-tools/initramfs.conf")
        lines += [f"{k}={v}" for k, v in fix.itools.items()]
    if fix.modules:
        lines.append("# initramfs-tools: add to /etc/initramfs-tools/modules")
        lines += fix.modules
    return lines + fix.prose


# --- package relations ------------------------------------------------------------------

def _style_of(comment: str, current: str) -> str:
    low = comment.lower()
    if "rpm" in low or "spec" in low:
        return "rpm"
    if "debian" in low or "control" in low or "deb" in low:
        return "deb"
    return current


def _fix_relations(fix: str, prose: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """One fix's deb fields and rpm lines; a `#` line naming Debian or RPM says whose
    syntax an ambiguous `Recommends:` after it is."""
    deb: dict[str, list[str]] = {}
    rpm: list[str] = []
    style = ""
    for raw in fix.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            style = _style_of(line, style)
            _prose(prose, line)
            continue
        m = _RELATION.match(line)
        if m is None:
            # a field the fix left empty: the relation it would add is there already
            if _EMPTY_RELATION.match(line) is None:
                _prose(prose, line)
            continue
        name, items = m.group(1), [i.strip() for i in m.group(2).split(",") if i.strip()]
        if name == "Requires" or (name == "Recommends" and style == "rpm"):
            rpm += [f"{name}: {i}" for i in items]
        else:
            deb.setdefault(name, []).extend(items)
    # a fix written for one flavour only still applies to the other
    if deb and not rpm:
        rpm = [f"{'Recommends' if k in ('Recommends', 'Suggests') else 'Requires'}: {i}"
               for k, v in deb.items() for i in v]
    if rpm and not deb:
        for line in rpm:
            name, _, item = line.partition(": ")
            deb.setdefault("Depends" if name == "Requires" else name, []).append(item)
    return deb, rpm


def relations(group: Group) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """deb fields -> packages, rpm Requires-style lines, and prose, for one package;
    de-duplicated across the group's fixes."""
    deb: dict[str, list[str]] = {}
    rpm: list[str] = []
    prose: list[str] = []
    for _rule, fix in group.fixes:
        one_deb, one_rpm = _fix_relations(fix, prose)
        for name, items in one_deb.items():
            have = deb.setdefault(name, [])
            have += [i for i in items if i not in have]
        rpm += [line for line in one_rpm if line not in rpm]
    return deb, rpm, prose


def _render_dependency(group: Group) -> list[str]:
    deb, rpm, prose = relations(group)
    # the syntax headings ("e.g. Debian control:", "# RPM spec:") are printed anew below
    lines: list[str] = []
    for p in prose:
        p = _SYNTAX_HEADING.sub("", p).rstrip()
        if p.strip("# ") and p not in lines:
            lines.append(p)
    if group.flavor != "rpm" and deb:
        lines.append("# Debian control, in the package's stanza:")
        lines += [f"{k}: {', '.join(deb[k])}" for k in _DEB_FIELDS if k in deb]
    if group.flavor != "deb" and rpm:
        lines.append("# RPM spec, in the package's section:")
        lines += rpm
    return lines


# --- packaging --------------------------------------------------------------------------

def _render_packaging(group: Group) -> list[str]:
    lines: list[str] = []
    for rule, fix in group.fixes:
        if len(group.fixes) > 1:
            lines.append(f"# {rule}:")
        lines += [line.rstrip() for line in fix.splitlines() if line.strip()]
    return lines


_RENDER = {"kernel-config": _render_kernel, "initramfs-modules": _render_initramfs,
           "dependency": _render_dependency, "packaging": _render_packaging}


def body(group: Group) -> list[str]:
    """The paste-ready lines of one group (its prose as `#` comments)."""
    return _RENDER[group.kind](group)


def render_remedies(report: Report, out: TextIO) -> None:
    found = groups(report)
    if not found:
        out.write("# no remedies needed\n")
        return
    for g in found:
        out.write("\n".join(g.header() + body(g)) + "\n\n")


def remedies_json(report: Report) -> list[dict[str, Any]]:
    """The `remedies` key of `check --remedies --format json`."""
    out: list[dict[str, Any]] = []
    for g in groups(report):
        item: dict[str, Any] = {"kind": g.kind, "target": g.target, "label": g.label,
                                "rules": g.rules, "text": "\n".join(body(g)) + "\n"}
        if g.kind == "kernel-config":
            item["config"] = kernel_config(g)[0]
        elif g.kind == "initramfs-modules":
            item["modules"] = initramfs_fix(g).modules
        elif g.kind == "dependency":
            deb, rpm, _ = relations(g)
            item["relations"] = {"deb": deb if g.flavor != "rpm" else {},
                                 "rpm": rpm if g.flavor != "deb" else []}
        out.append(item)
    return out

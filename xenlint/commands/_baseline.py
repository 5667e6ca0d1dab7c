"""--baseline REPORT.json: accept what an earlier run found, fail only on what is new.

A finding of this run is *known* when the baseline holds one with the same rule, package
name, location inside the artifact and message, whatever the package's version or where its
file lies: a rebuilt package keeps its accepted findings. Known findings are shown but do not
count or fail the run; baseline findings this run no longer has are counted as fixed.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath
import re
from collections import Counter
from pathlib import Path
from typing import Any

from xenlint.finding import Finding, Report
from xenlint.reporters.locations import artifact_file, finding_inner

Key = tuple[str, str, str, str]


class BaselineError(Exception):
    """A baseline that cannot be used (a usage error: exit status 2)."""


# name_version_arch.deb, name-version-release.arch.rpm: the name alone
_DEB = re.compile(r"^([a-z0-9][a-z0-9+.-]*)_[^_]+_[^_]+\.u?d?deb$")
_RPM = re.compile(r"^(.+)-[^-]+-[^-]+\.[^.]+\.rpm$")


def subject_name(artifact: str, package: str | None) -> str:
    """What a finding is about, without version or directory: the package name when known
    (or readable from a Debian/RPM file name), else the file name."""
    if package:
        return package
    name = posixpath.basename(artifact_file(artifact).replace("\\", "/").rstrip("/"))
    m = _DEB.match(name) or _RPM.match(name)
    return m.group(1) if m else name


def _key(rule: str, artifact: str, package: str | None, location: str | None,
         message: str) -> Key:
    return (rule, subject_name(artifact, package), location or "", message)


def load(path: Path) -> Counter[Key]:
    """The unsuppressed findings of a JSON report (`--format json`), as keys."""
    try:
        data: Any = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot be read: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"{path}: is not a JSON report (xenlint --format json): "
                            f"{exc}") from None
    findings = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(findings, list) or data.get("tool", {}).get("name") != "xenlint":
        raise BaselineError(f"{path}: is not a xenlint JSON report (--format json)")
    keys: Counter[Key] = Counter()
    for f in findings:
        try:
            if f.get("suppressed"):
                continue
            keys[_key(f["rule"], f["artifact"], f.get("package"), f.get("location"),
                      f["message"])] += 1
        except (AttributeError, KeyError, TypeError):
            raise BaselineError(f"{path}: a finding lacks rule, artifact or message") from None
    return keys


def apply(report: Report, baseline: Counter[Key], origin: str) -> Report:
    """`report` with findings the baseline holds marked known, and the fixed ones counted."""
    left = Counter(baseline)
    out: list[Finding] = []
    for f in report.findings:
        key = _key(f.rule, f.artifact, report.packages.get(artifact_file(f.artifact)),
                   finding_inner(f), f.message)
        if not f.suppressed and left[key] > 0:
            left[key] -= 1
            f = dataclasses.replace(f, known=True)
        out.append(f)
    return dataclasses.replace(report, findings=out, baseline=origin,
                               fixed=sum(left.values()))

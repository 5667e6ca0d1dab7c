"""The HTML report in a real headless Chromium: it loads offline and its matrix shows the
findings of the audit, cell by cell."""

from __future__ import annotations

import html
import io
import json
import re
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

from audit_repos import deb_repo, need
from click.testing import CliRunner

from xenlint.cli import main

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--no-first-run")


class Cells(HTMLParser):
    """(artifact, key) -> count from the matrix cells, and anything that would load."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str], int] = {}
        self.external: list[str] = []
        self.summary_keys: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name in ("src", "href"):
            if a.get(name):
                self.external.append(f"{tag} {name}={a[name]}")
        if tag == "link" or tag == "script":
            self.external.append(tag)
        if tag == "td" and a.get("data-count") is not None:
            self.cells[(str(a["data-artifact"]), str(a["data-key"]))] = int(str(a["data-count"]))
        if tag == "tr" and a.get("data-key"):
            self.summary_keys.append(str(a["data-key"]))


def dump_dom(page: Path, profile: Path) -> str:
    need("chromium")
    res = subprocess.run(["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                          "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120, check=True)
    return res.stdout


def test_matrix_in_headless_chromium(corpus: Path, tmp_path: Path) -> None:
    root = deb_repo(tmp_path / "repo", {"bookworm": sorted((corpus / "deb").glob("*.deb"))})
    cache = str(tmp_path / "cache")
    page = tmp_path / "report.html"
    runner = CliRunner()
    res = runner.invoke(main, ["audit", str(root), "--format", "json", "--cache-dir", cache])
    doc = json.loads(res.stdout)
    runner.invoke(main, ["audit", str(root), "--format", "html", "-o", str(page),
                         "--cache-dir", cache])
    dom = dump_dom(page, tmp_path / "chromium-profile")
    assert "<title>xenlint report</title>" in dom

    parsed = Cells()
    parsed.feed(dom)
    assert parsed.external == []  # self-contained: nothing to fetch
    expected = Counter((f["artifact"], k) for f in doc["findings"] if not f["suppressed"]
                       for k in f["checklist"])
    assert expected, "the corpus repository has findings; an empty matrix proves nothing"
    shown = {cell: n for cell, n in parsed.cells.items() if n}
    assert shown == dict(expected)
    # every artifact of the audit has a row, and the summary lists each key of the matrix
    rows = {a for a, _ in parsed.cells}
    assert set(doc["artifacts"]) <= rows
    assert {k for _, k in parsed.cells} == set(parsed.summary_keys)
    # each finding is listed with its remedy
    text = re.sub(r"\s+", " ", html.unescape(dom))
    fixes = [f["fix"] for f in doc["findings"] if f["fix"]]
    assert fixes
    for fix in fixes:
        assert re.sub(r"\s+", " ", fix.strip()) in text


def test_page_escapes_inputs_and_counts_only_live_findings() -> None:
    from xenlint.finding import Finding, Report, RuleInfo, Severity
    from xenlint.reporters import render

    hostile = "pkg<script>alert(1)</script>.deb"
    live = Finding("r-one", Severity.ERROR, "dom0", ("dom0-kernel",), hostile, "/boot/<x>",
                   "message <b>bold</b>", "CONFIG_XEN_DOM0=y")
    hidden = Finding("r-one", Severity.WARNING, "domu", ("dom0-kernel", "console"), hostile,
                     None, "quiet", "", suppressed=True, suppression_reason="known & fine")
    report = Report(findings=[live, hidden], artifacts=[hostile, "clean.deb"],
                    rules=[RuleInfo("r-one", Severity.ERROR, ("dom0",),
                                    ("dom0-kernel", "console"), "summary")],
                    profiles=["dom0", "domu"])
    out = io.StringIO()
    render("html", report, out)
    page = out.getvalue()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<b>bold</b>" not in page
    parsed = Cells()
    parsed.feed(page)
    assert parsed.external == []
    assert parsed.cells[(hostile, "dom0-kernel")] == 1  # the suppressed one is not counted
    assert parsed.cells[(hostile, "console")] == 0
    assert parsed.cells[("clean.deb", "dom0-kernel")] == 0
    assert "known &amp; fine" in page and "CONFIG_XEN_DOM0=y" in page

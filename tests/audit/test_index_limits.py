"""Repository indexes are read under limits of their own (issue 16): each blow-up the issue
names, built by index_bombs.py from a real repository, ends with a one-line diagnosis
naming the index, exit status 2, and the rest of the audit reported; text that is not
UTF-8 is read as apt reads it, with a warning. Time and memory: bench/bench_index_limits.py."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest
from audit_repos import FIXTURE_RPMS, deb_repo, rpm_repo
from click.testing import CliRunner
from index_bombs import SAMPLES, SOUND, target

from xenlint.audit import debrepo
from xenlint.cli import main
from xenlint.limits import LimitExceeded, Limits

NAMES = sorted(p.name.split("_")[0] for p in SAMPLES)


def audit(path: Path, *args: str) -> tuple[int, dict[str, Any], list[str]]:
    cache = [] if "--cache-dir" in args else ["--no-cache"]
    res = CliRunner().invoke(main, ["audit", str(path), "--format", "json", "--no-summary",
                                    *cache, "-j2", *args], catch_exceptions=False)
    assert "Traceback" not in res.stderr
    return res.exit_code, json.loads(res.stdout), res.stderr.splitlines()


def _packages(doc: dict[str, Any], under: Path) -> list[str]:
    """Names of the packages the report lists from the pool directory `under`."""
    return sorted(Path(a).name.split("_")[0] for a in doc["artifacts"]
                  if Path(a).parent == under)


def _one_error(doc: dict[str, Any], lines: list[str], pattern: str) -> str:
    """The report's only error, matching `pattern`, printed as its only stderr line."""
    [error] = doc["errors"]
    assert re.search(pattern, error["message"]), error["message"]
    assert lines == [f"X: {error['artifact']}: {error['message']}"]
    return str(error["message"])


def _index(root: Path, suite: str = "main") -> Path:
    return root / "dists" / suite / "main" / "binary-amd64" / "Packages.xz"


@pytest.mark.parametrize(("case", "message", "before"), [
    # the real paragraphs before the blow-up are read; the line, paragraph or count is not
    ("long-line", r"a line longer than 1048576 bytes \(max_index_line_bytes\) at line \d+; "
     "not read", NAMES),
    ("one-paragraph", r"a paragraph longer than 16777216 bytes \(twice "
     r"max_index_field_bytes\) at line \d+; not read", NAMES),
    ("many-paragraphs", r"more than 500000 paragraphs \(max_index_paragraphs\) at line "
     r"\d+; not read", NAMES),
])
def test_a_debian_index_blow_up_is_one_line_naming_it(tmp_path: Path, case: str, message: str,
                                                      before: list[str]) -> None:
    root = target(case, tmp_path / case)
    code, doc, lines = audit(root)
    assert code == 2
    text = _one_error(doc, lines, "^" + re.escape(f"{_index(root)}: ") + message + "$")
    assert doc["errors"][0]["artifact"] == str(root / "dists" / "main")
    assert "Packages.xz: " in text
    assert _packages(doc, root / "pool" / "main") == before
    assert _packages(doc, root / "pool" / SOUND) == NAMES  # the other suite, whole


def test_an_index_parse_past_the_timeout_is_that_indexs_error(tmp_path: Path) -> None:
    """The parse runs ahead in the pool under the per-item --timeout: with the paragraph
    limit lifted, 7.35M paragraphs outlast one second, and the parse is abandoned."""
    root = target("many-paragraphs", tmp_path / "t")
    code, doc, lines = audit(root, "--timeout", "1", "--max-index-paragraphs", "100000000")
    assert code == 2
    _one_error(doc, lines, "^has an unreadable index " + re.escape(
        f"({_index(root)}: took longer than 1 s to parse (--timeout))") + "$")
    assert _packages(doc, root / "pool" / SOUND) == NAMES


def test_text_that_is_not_utf8_is_read_with_a_warning(tmp_path: Path) -> None:
    root = target("latin1", tmp_path / "l")
    code, doc, lines = audit(root)
    _sound, sound_doc, _lines = audit(deb_repo(tmp_path / "s", {"main": SAMPLES}))
    assert code in (0, 1) and doc["errors"] == []
    assert lines == [f"xenlint: warning: {_index(root)}: paragraph 2 ('Package: "
                     f"{NAMES[1]}'), its line 4, is not UTF-8; read with replacement "
                     "characters, as apt and dpkg read it"]
    assert _packages(doc, root / "pool" / "main") == NAMES
    assert len(doc["findings"]) == 2 * len(sound_doc["findings"])  # both suites, judged
    records, errors = debrepo.read_indexes(root, [_index(root)], Limits())
    maintainers = [r[2].package.fields["Maintainer"] for r in records
                   if not isinstance(r[2], str) and r[2].package]
    assert maintainers[1].startswith("Jos\ufffd ")  # as apt decodes it
    assert [str(e) for e in errors] == [lines[0].removeprefix("xenlint: warning: ")]
    # the index cache and a replayed run say it again
    cache = str(tmp_path / "cache")
    assert audit(root, "--cache-dir", cache) == (code, doc, lines)
    assert audit(root, "--cache-dir", cache) == (code, doc, lines)


@pytest.mark.parametrize(("case", "message"), [
    ("primary-bomb", r"more than 8388608 bytes without a `>` \(one XML tag or text longer "
     r"than max_index_field_bytes\); not read"),
    ("primary-nested", r"XML nested deeper than 32 elements \(max_index_xml_depth\); "
     "not read"),
    ("primary-laughs", "declares an XML entity; entity expansion is refused"),
])
def test_an_rpm_index_blow_up_is_one_line_naming_it(tmp_path: Path, case: str,
                                                    message: str) -> None:
    root = target(case, tmp_path / case)
    code, doc, lines = audit(root)
    assert code == 2
    [primary] = (root / "hostile" / "repodata").glob("*-primary.xml.gz")
    _one_error(doc, lines, "^has unreadable metadata " + re.escape(f"({primary}: ") +
               message + r"\)$")
    assert _packages(doc, root / SOUND / "pool" / "main") == NAMES


def test_lowered_index_limits_are_the_ones_reported(tmp_path: Path) -> None:
    """Each limit has its flag, and the flag's value is the one enforced and named."""
    root = deb_repo(tmp_path / "d", {"main": SAMPLES}, contents=True)
    contents = root / "dists" / "main" / "main" / "Contents-amd64.gz"
    code, doc, _lines = audit(root, "--max-index-bytes", "1000")
    assert code == 2
    assert sorted(e["message"] for e in doc["errors"]) == sorted([
        f"{p}: decompresses to more than 1000 bytes (max_index_bytes); possible "
        "decompression bomb" for p in (_index(root), contents)])
    code, doc, _lines = audit(root, "--max-index-paragraphs", "1")
    assert code == 2
    assert sorted(e["message"] for e in doc["errors"]) == [
        f"{contents}: names more than 1 packages (max_index_paragraphs); not read",
        f"{_index(root)}: more than 1 paragraphs (max_index_paragraphs) at line "
        f"{_line_of_second(root)}; not read"]
    rpms = rpm_repo(tmp_path / "r", FIXTURE_RPMS)
    code, doc, _lines = audit(rpms, "--max-index-xml-elements", "10")
    assert code == 2
    [repomd] = [e["message"] for e in doc["errors"]]
    assert repomd.endswith("repomd.xml: more than 10 XML elements (max_index_xml_elements); "
                           "not read)")


def _line_of_second(root: Path) -> int:
    import lzma

    text = lzma.decompress(_index(root).read_bytes()).split(b"\n")
    return [k for k, line in enumerate(text, 1) if line.startswith(b"Package:")][1]


def test_a_field_with_its_continuation_lines_is_bounded() -> None:
    lines = [b"Package: a\n", b"Description: x\n", *[b" more text\n"] * 20, b"\n"]
    limits = Limits(max_index_field_bytes=100)
    with pytest.raises(LimitExceeded, match=r"^P: a field longer than 100 bytes "
                                            r"\(max_index_field_bytes\) at line 10; not read$"):
        list(debrepo.paragraphs(lines, limits, "P"))
    many = [b"Package: a\n", *[b"X: 123456789\n"] * 20, b"\n"]
    with pytest.raises(LimitExceeded, match=r"^P: a paragraph longer than 200 bytes "
                                            r"\(twice max_index_field_bytes\) at line 16; "
                                            "not read$"):
        list(debrepo.paragraphs(many, limits, "P"))
    assert len(list(debrepo.paragraphs(lines, Limits(), "P"))) == 1


def test_a_contents_line_that_is_not_utf8_is_read_with_a_warning(tmp_path: Path) -> None:
    root = deb_repo(tmp_path / "c", {"main": SAMPLES}, contents=True)
    contents = root / "dists" / "main" / "main" / "Contents-amd64.gz"
    text = gzip.decompress(contents.read_bytes())
    doc_path = b"usr/share/doc/xen-system-sample/copyright"
    assert doc_path in text
    contents.write_bytes(gzip.compress(text.replace(doc_path, doc_path + b"-\xe9t\xe9")))
    code, doc, lines = audit(root)
    assert code in (0, 1) and doc["errors"] == []
    [line] = lines
    assert line.startswith(f"xenlint: warning: {contents}: the line b'{doc_path.decode()}-"
                           r"\xe9t\xe9")
    assert line.endswith(" is not UTF-8; read with replacement characters, as apt and dpkg "
                         "read it")
    files = debrepo.file_lists(contents, Limits())
    assert f"/{doc_path.decode()}-\ufffdt\ufffd" in files["xen-system-sample"]

"""`xenlint inspect --format json` against its schema, docs/schemas/inspect.schema.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from xenlint.cli import main

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "docs" / "schemas" / "inspect.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
FIXTURES = REPO / "fixtures"


def inspect(*paths: Path) -> tuple[int, dict[str, Any], str]:
    res = CliRunner().invoke(main, ["inspect", "--format", "json", *map(str, paths)])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res.exit_code, json.loads(res.stdout), res.stderr


def valid(doc: dict[str, Any]) -> None:
    errors = sorted(VALIDATOR.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def walk(art: dict[str, Any]) -> list[dict[str, Any]]:
    return [art, *(a for c in art["children"] for a in walk(c))]


def test_schema_is_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_schema_rejects_what_it_should() -> None:
    """The schema is not vacuous: a missing key, a relative path, a multi-line error fail."""
    _, doc, _ = inspect(FIXTURES / "readers" / "deb" / "xz.deb")
    valid(doc)
    art = doc["artifacts"][0]
    for broken in (
        {k: v for k, v in art.items() if k != "files"},
        {**art, "files": ["relative/path"]},
        {**art, "error": "two\nlines"},
        {**art, "kind": "zip"},
        {**art, "package": {**art["package"], "depends": "libc6"}},
        {**art, "entries": [{**art["entries"][0], "mode": 420}]},
    ):
        assert not VALIDATOR.is_valid({"artifacts": [broken]})


@pytest.mark.parametrize("folder", ["readers/deb", "readers/rpm", "readers/rootfs"])
def test_fixtures_match_schema(folder: str) -> None:
    code, doc, err = inspect(FIXTURES / folder)
    assert code == 0, err
    assert doc["artifacts"]
    valid(doc)
    assert all(a["error"] is None for a in doc["artifacts"])


def test_package_keys_issue_2_lists() -> None:
    _, doc, _ = inspect(FIXTURES / "readers" / "rpm" / "zstd.rpm",
                        FIXTURES / "readers" / "deb" / "gzip.deb")
    rpm, deb = doc["artifacts"]
    assert rpm["kind"] == "rpm" and deb["kind"] == "deb"
    assert "xen-hypervisor >= 4.17" in rpm["package"]["depends"]
    assert "libc6 (>= 2.34)" in deb["package"]["depends"]
    assert "/usr/sbin/xl-demo" in deb["files"]
    assert not any(f.endswith("/") or f == "/usr" for f in deb["files"])
    [link] = [e for e in deb["entries"] if e["path"] == "/usr/sbin/xl-demo"]
    assert link == {"path": "/usr/sbin/xl-demo", "type": "symlink", "mode": "0777",
                    "size": 14, "link_target": "../bin/xl-demo"}
    assert deb["meta"]["data_compression"] == "gzip"


def test_unreadable_input_is_an_error_artifact(tmp_path: Path) -> None:
    bad = tmp_path / "truncated.deb"
    bad.write_bytes((FIXTURES / "readers" / "deb" / "xz.deb").read_bytes()[:300])
    good = FIXTURES / "readers" / "deb" / "gzip.deb"
    code, doc, err = inspect(bad, good)
    assert code == 2
    valid(doc)
    first, second = doc["artifacts"]
    assert first["error"] and "\n" not in first["error"]
    assert second["error"] is None  # the run goes on past a bad input
    assert err.count("\n") == 1 and str(bad) in err and "Traceback" not in err


def test_every_corpus_artifact_matches_schema(corpus: Path) -> None:
    inputs = sorted(p for p in corpus.rglob("*")
                    if p.is_file() and p.name != "MANIFEST.md" and p.parent.name != "specs")
    _, doc, _ = inspect(*inputs)
    valid(doc)
    arts = doc["artifacts"]
    assert [a["path"] for a in arts] == [str(p) for p in inputs]
    for art in arts:
        if art["kind"] in ("deb", "rpm"):
            assert art["error"] is None, (art["path"], art["error"])
            assert art["package"]["name"]
        for a in walk(art):
            assert set(a["files"]) <= {e["path"] for e in a["entries"]}


def test_every_fixture_matches_schema() -> None:
    """All of fixtures/, hostile inputs included: errors are still well-formed artifacts."""
    folders = sorted(d for d in FIXTURES.iterdir() if d.is_dir() and d.name != "recipes")
    code, doc, err = inspect(*folders)
    assert code in (0, 2)
    valid(doc)
    assert len(doc["artifacts"]) >= 40
    assert "Traceback" not in err
    assert all("\n" not in (a["error"] or "") for art in doc["artifacts"] for a in walk(art))

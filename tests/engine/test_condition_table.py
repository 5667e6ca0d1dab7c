"""The committed parser table (xenlint/lang/condition-parser.pickle) is the parser lark
builds from condition.lark today, and the parser in use is loaded from it."""

from __future__ import annotations

import pickle
import tomllib
from pathlib import Path

import lark
import pytest
from lark import Lark
from lark.exceptions import UnexpectedInput

from xenlint.engine.rulebook import load_rulebook
from xenlint.lang import condition

STALE = "stale parser table: run `python3 -m xenlint.lang.condition` and commit the table"


def test_table_is_made_by_the_pinned_lark() -> None:
    """pyproject.toml pins lark exactly to the version the table was made by: an install
    from it always loads the table, never builds the parser at start."""
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml")
                              .read_text("utf-8"))
    [pin] = [d for d in pyproject["project"]["dependencies"] if d.startswith("lark")]
    table = pickle.loads(condition.TABLE.read_bytes())
    assert pin == f"lark=={table['lark']}", STALE


def test_table_is_made_from_the_current_grammar() -> None:
    table = pickle.loads(condition.TABLE.read_bytes())
    assert table["grammar"] == condition.GRAMMAR.read_text("utf-8"), STALE


def test_table_is_what_lark_builds_now() -> None:
    committed = pickle.loads(condition.TABLE.read_bytes())
    if committed["lark"] != lark.__version__:
        pytest.skip(f"table made by lark {committed['lark']}, installed {lark.__version__}: "
                    "the parser is built from the grammar")
    assert condition.parser_table(condition.build_parser()) == committed, STALE


def test_table_bytes_are_reproducible(tmp_path: Path) -> None:
    condition.write_table(tmp_path / "table.pickle")
    if pickle.loads(condition.TABLE.read_bytes())["lark"] == lark.__version__:
        assert (tmp_path / "table.pickle").read_bytes() == condition.TABLE.read_bytes(), STALE
    condition.write_table(tmp_path / "again.pickle")
    assert (tmp_path / "again.pickle").read_bytes() == (tmp_path / "table.pickle").read_bytes()


def test_the_parser_in_use_comes_from_the_table() -> None:
    if condition.load_table() is None:
        pytest.skip("the table is stale or made by another lark version")
    assert condition.parser().source_path == "<deserialized>"


def _outcome(parser: Lark, text: str) -> object:
    try:
        return parser.parse(text)
    except UnexpectedInput as exc:
        return (type(exc).__name__, exc.line, exc.column, sorted(getattr(exc, "expected", ())))


def test_loaded_parser_parses_like_a_built_one() -> None:
    texts = [t for r in load_rulebook() for t in (r.when_text, r.expect_text) if t]
    texts += ["test.config ==", "test.config = 1", "test.config == $ 1", '"unterminated',
              "a.b[", "not", "any x in y: ", "f(1,", "[1, 2", "x matches", "(a or b) and"]
    built, loaded = condition.build_parser(), condition.parser()
    for text in texts:
        assert _outcome(loaded, text) == _outcome(built, text), text


def test_a_table_for_another_grammar_or_lark_is_ignored(tmp_path: Path) -> None:
    table = pickle.loads(condition.TABLE.read_bytes())
    for key, value in (("grammar", "start: NAME\n"), ("lark", "0.0")):
        path = tmp_path / f"{key}.pickle"
        path.write_bytes(pickle.dumps({**table, key: value}))
        assert condition.load_table(path) is None


def test_a_table_naming_a_class_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pickle"
    path.write_bytes(pickle.dumps({"grammar": Path("x")}))
    assert condition.load_table(path) is None
    assert condition.load_table(tmp_path / "missing.pickle") is None

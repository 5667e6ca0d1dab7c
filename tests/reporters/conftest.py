"""The shared schemas the reporters' output must satisfy."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def schemas_dir() -> Path:
    """Like tests/conftest.py's corpus_dir: an env override, else ../shared next to the repo."""
    if env := os.environ.get("XENLINT_SCHEMAS"):
        return Path(env)
    if corpus := os.environ.get("XENLINT_CORPUS"):
        return Path(corpus).parent / "schemas"
    return REPO.parent / "shared" / "schemas"


@pytest.fixture(scope="session")
def schemas() -> Path:
    """The shared SARIF and JUnit schemas. In CI their absence is a failure, never a skip."""
    path = schemas_dir()
    if not (path / "sarif-schema-2.1.0.json").is_file() or not (path / "junit.xsd").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"shared schemas missing at {path} (CI must provide them)")
        pytest.skip(f"shared schemas not found at {path}")
    return path

"""Shared test fixtures: where the shared corpus is, and how to run xenlint."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"


def corpus_dir() -> Path:
    env = os.environ.get("XENLINT_CORPUS")
    return Path(env) if env else REPO.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus. In CI its absence is a failure, never a skip."""
    path = corpus_dir()
    if not (path / "MANIFEST.md").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"shared corpus missing at {path} (CI must provide it)")
        pytest.skip(f"shared corpus not found at {path}")
    return path


def need_tools(*tools: str) -> None:
    """Skip a test whose build tools are missing, except in CI, where the README's test
    command installs them and their absence is a failure."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"missing build tools: {', '.join(missing)}")
        pytest.skip(f"missing build tools: {', '.join(missing)}")


@pytest.fixture(scope="session")
def schemas() -> Path:
    """The SARIF 2.1.0 and JUnit schemas the reporters' output must satisfy, kept in the
    repository's test data (tests/data/schemas; see its README) so the checks always run."""
    return REPO / "tests" / "data" / "schemas"

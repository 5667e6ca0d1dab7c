"""The schemas the reporters' output must satisfy, kept in the repository's test data
(tests/data/schemas, copied from the OASIS SARIF 2.1.0 schema and the Ant JUnit XSD; see its
README), so that the schema checks always run."""

from __future__ import annotations

from pathlib import Path

import pytest

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "schemas"


@pytest.fixture(scope="session")
def schemas() -> Path:
    return SCHEMAS

"""Shared test fixtures: where the shared corpus is, and how to run xenlint."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
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


def make_deb(out_dir: Path, name: str, version: str = "1.0", *, arch: str = "amd64",
             depends: str = "", files: Mapping[str, str] | None = None,
             extra: str = "", links: Mapping[str, str] | None = None) -> Path:
    """A small real .deb built by dpkg-deb; `links` are symlinks (path -> target)."""
    need_tools("dpkg-deb")
    stage = out_dir / f".stage-{name}"
    (stage / "DEBIAN").mkdir(parents=True)
    control = (f"Package: {name}\nVersion: {version}\nArchitecture: {arch}\n"
               f"Maintainer: Test <test@example.org>\nDescription: {name} test package\n")
    if depends:
        control += f"Depends: {depends}\n"
    (stage / "DEBIAN" / "control").write_text(control + extra)
    for path, text in (files or {f"/usr/share/doc/{name}/copyright": "test\n"}).items():
        target = stage / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    for path, link_to in (links or {}).items():
        target = stage / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(link_to)
    deb = out_dir / f"{name}_{version}_{arch}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(stage),
                    str(deb)], check=True, capture_output=True,
                   env={**os.environ, "SOURCE_DATE_EPOCH": "0"})
    shutil.rmtree(stage)
    return deb

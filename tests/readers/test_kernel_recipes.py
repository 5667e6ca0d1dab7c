"""The kernel, initramfs and ISO recipes still build, and what they build reads the same as
the committed fixtures (byte equality is `fixtures/build.py --check`'s job on one machine;
gcc, rpm and the compressors may differ elsewhere)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from xenlint.readers import read_path
from xenlint.view import artifact_to_dict

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
TOOLS = ("gcc", "cpio", "gzip", "bzip2", "xz", "lz4", "lzop", "zstd", "xorriso", "dpkg-deb",
         "rpmbuild")


def view(path: Path, root: Path) -> dict[str, Any]:
    [art] = read_path(path)
    out = artifact_to_dict(art)

    def rel(d: dict[str, Any]) -> None:
        d["path"] = d["path"].replace(str(root), "")
        d.pop("meta", None)
        for child in d["children"]:
            rel(child)

    rel(out)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("recipe", ["kernel_images", "initramfs_images", "iso_images"])
def test_recipe_rebuilds_the_same_artifacts(recipe: str, tmp_path: Path) -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    assert not missing, f"build tools missing: {missing}"
    out = tmp_path / "fixtures"
    subprocess.run([sys.executable, str(FIXTURES / "build.py"), "--out", str(out), recipe],
                   check=True, capture_output=True)
    built = sorted(p for p in out.rglob("*") if p.is_file())
    assert built
    for path in built:
        committed = FIXTURES / path.relative_to(out)
        assert committed.is_file(), f"{committed} is not committed (run fixtures/build.py)"
        assert view(path, out) == view(committed, FIXTURES), path.name

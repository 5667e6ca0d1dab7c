"""The kernel, initramfs and ISO recipes still build, and what they build reads the same as
the committed fixtures (byte equality is `fixtures/build.py --check`'s job on one machine;
gcc, rpm and the compressors may differ elsewhere)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fixture_rebuild import FIXTURES, rebuilt

from xenlint.commands.inspect.view import artifact_to_dict
from xenlint.readers import read_path

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
    out = tmp_path / "fixtures"
    for path, committed in rebuilt(recipe, out, TOOLS, lambda p: True):
        assert view(path, out) == view(committed, FIXTURES), path.name

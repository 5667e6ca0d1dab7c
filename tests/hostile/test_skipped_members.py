"""Members nobody reads still cost their decompression: they count against
max_artifact_bytes, so many unread bomb members cannot make a package expensive."""

from __future__ import annotations

import subprocess
from pathlib import Path

from xenlint.limits import Limits
from xenlint.readers import read_path

MiB = 1 << 20


def _deb_of_zeros(tmp_path: Path, members: int, size: int) -> Path:
    root = tmp_path / "stage"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        "Package: blobs\nVersion: 1\nArchitecture: all\nMaintainer: T <t@example.org>\n"
        "Description: zeros nobody reads\n")
    blobs = root / "usr" / "share" / "blobs"
    blobs.mkdir(parents=True)
    for i in range(members):
        (blobs / f"zeros-{i}").write_bytes(bytes(size))
    out = tmp_path / "blobs_1_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(out)],
                   check=True, capture_output=True)
    return out


def test_unread_members_count_against_the_artifact_budget(tmp_path: Path) -> None:
    deb = _deb_of_zeros(tmp_path, members=3, size=4 * MiB)
    assert deb.stat().st_size < 64 * 1024  # 12 MiB of zeros, a few KiB on disk
    [art] = read_path(deb, Limits(max_artifact_bytes=10 * MiB))
    assert art.error is not None and "max_artifact_bytes" in art.error
    # the same package under a budget that covers its 12 MiB is read, members listed
    [ok] = read_path(deb, Limits(max_artifact_bytes=16 * MiB))
    assert ok.error is None
    assert [p for p in ok.entries if "/zeros-" in p] == [
        f"/usr/share/blobs/zeros-{i}" for i in range(3)]

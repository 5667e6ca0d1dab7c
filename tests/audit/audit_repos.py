"""Builders for the repositories the audit tests read: real dpkg-deb, dpkg-scanpackages,
apt-ftparchive and createrepo_c, always into pytest's tmp directories."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

# the audit tests import their builders from here, make_deb included
from conftest import make_deb as make_deb
from conftest import need_tools as need


def deb_repo(root: Path, suites: Mapping[str, Iterable[Path]], *,
             contents: bool = False, arches: tuple[str, ...] = ()) -> Path:
    """dists/<suite>/main/binary-amd64/Packages.xz over pool/<suite>/, by dpkg-scanpackages;
    with `contents`, a Contents-amd64.gz made by apt-ftparchive. With `arches`, one index
    (and Contents) per architecture, each listing that architecture's and the `all`
    packages, as Debian's archive does."""
    need("dpkg-scanpackages", "xz")
    for suite, debs in suites.items():
        pool = root / "pool" / suite
        pool.mkdir(parents=True, exist_ok=True)
        for deb in debs:
            shutil.copy(deb, pool / deb.name)
        for arch in arches or ("amd64",):
            only = ["-a", arch] if arches else []
            index_dir = root / "dists" / suite / "main" / f"binary-{arch}"
            index_dir.mkdir(parents=True, exist_ok=True)
            packages = subprocess.run(["dpkg-scanpackages", "--multiversion", *only,
                                       f"pool/{suite}"],
                                      cwd=root, check=True, capture_output=True).stdout
            (index_dir / "Packages").write_bytes(packages)
            subprocess.run(["xz", "-f", str(index_dir / "Packages")], check=True)
            if contents:
                need("apt-ftparchive")
                text = subprocess.run(["apt-ftparchive", *only, "contents", f"pool/{suite}"],
                                      cwd=root, check=True, capture_output=True).stdout
                (root / "dists" / suite / "main" / f"Contents-{arch}.gz").write_bytes(
                    gzip.compress(text, mtime=0))
    return root


def rpm_repo(root: Path, rpms: Iterable[Path]) -> Path:
    need("createrepo_c")
    (root / "Packages").mkdir(parents=True, exist_ok=True)
    for rpm in rpms:
        shutil.copy(rpm, root / "Packages" / rpm.name)
    subprocess.run(["createrepo_c", "--quiet", str(root)], check=True, capture_output=True)
    return root


REPO = Path(__file__).resolve().parents[2]
FIXTURE_RPMS = sorted((REPO / "fixtures" / "readers" / "rpm").glob("*.rpm"))
FIXTURE_DEBS = sorted((REPO / "fixtures" / "readers" / "deb").glob("*.deb"))

"""Replay a whole audit whose inputs have not changed: the cheapest possible re-run.

The key covers everything the report depends on: the stat of every file under the target
(and of the configuration and overrides files that apply), the command's options, the
working directory (SARIF paths are relative to it), xenlint's version and the rule-set hash.
This module imports only light modules, so a hit costs no engine start-up. A report that
holds a read error that need not recur (a timeout, a crash: model.TRANSIENT) is never
stored; one that follows from the files (a pool file absent) is.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import Any

from xenlint.audit import codec
from xenlint.audit.cache import (
    PRIVATE,
    SUFFIX,
    UNWRITTEN,
    Modes,
    atomic_write,
    read_entry,
    salt_for,
)
from xenlint.audit.model import recurs
from xenlint.engine.config import ConfigError, load_config
from xenlint.engine.overrides import FILE_NAME
from xenlint.finding import Report
from xenlint.limits import Limits

FORMAT = 4  # 4: msgpack (codec.py); 3: findings list all their profiles


def _stat(h: Any, path: Path) -> None:
    """What a path leads to: a symlink is followed (the audit reads its target) and the
    target is recorded, so that a link moved to other bytes is a new run; ctime moves on
    every write, even one that sets the mtime back."""
    target = os.path.realpath(path) if os.path.islink(path) else ""
    try:
        st = os.stat(path)
    except OSError:
        h.update(f"{path}\0{target}\0missing\n".encode())
        return
    h.update(f"{path}\0{target}\0{st.st_mode}\0{st.st_size}\0{st.st_mtime_ns}\0"
             f"{st.st_ctime_ns}\0{st.st_ino}\0{st.st_dev}\n".encode())


def _stat_tree(h: Any, root: Path) -> None:
    _stat(h, root)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            _stat(h, Path(dirpath) / name)


def memo_key(target: str, options: dict[str, Any], limits: Limits) -> str | None:
    """The key of this run, or None when the configuration cannot be read (the full path
    then reports the problem)."""
    try:
        config = load_config(options.get("config_path"))
    except ConfigError:
        return None
    rule_dirs = (*(Path(p) for p in options.get("rule_dirs") or ()), *config.rule_dirs)
    h = hashlib.sha256()
    h.update(f"{FORMAT}\0{salt_for(limits, tuple(rule_dirs))}\0{os.getcwd()}\0".encode())
    h.update(f"{os.path.abspath(target)}\0{sorted(options.items())!r}\n".encode())
    root = Path(target)
    for extra in (config.path, options.get("overrides_file"), root.parent / FILE_NAME):
        if extra is not None:
            _stat(h, Path(extra))
    _stat_tree(h, root)
    if root.is_file():
        # a .changes stands for the files beside it that it lists
        with contextlib.suppress(OSError):
            for sibling in sorted(root.parent.iterdir()):
                _stat(h, sibling)
    for repo in options.get("with_repo") or ():
        _stat_repo(h, Path(repo))
    return h.hexdigest()


def _stat_repo(h: Any, repo: Path) -> None:
    """A --with-repo PATH: its tree, or for a Packages file its suite (Contents lie in
    the directories above `<component>/binary-<arch>/`) or its directory."""
    if repo.is_dir():
        _stat_tree(h, repo)
    elif repo.parent.name.startswith("binary-"):
        _stat_tree(h, repo.parent.parent.parent)
    else:
        _stat_tree(h, repo.parent)


class RunMemo:
    def __init__(self, cache_root: Path, key: str, modes: Modes = PRIVATE) -> None:
        self.path = cache_root / "runs" / key[:2] / f"{key}{SUFFIX}"
        self.modes = modes

    def get(self) -> tuple[Report, dict[str, Any], int] | None:
        """(report, stats, exit status) of the same run before, if it was stored; None
        too when what is stored does not decode to that (codec.py)."""
        data = read_entry(self.path)
        try:
            return codec.decode_run(data) if data is not None else None
        except codec.Malformed:
            return None

    def put(self, report: Report, stats: dict[str, Any], status: int) -> None:
        if not all(recurs(e.message) for e in report.errors):
            return
        with contextlib.suppress(*UNWRITTEN):
            atomic_write(self.path, codec.encode_run(report, stats, status), self.modes)

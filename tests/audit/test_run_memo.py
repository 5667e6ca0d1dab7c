"""A re-audit of an unchanged target is replayed from the run memo without the engine;
any change to a file, the options or the working directory misses it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO

SAMPLES = REPO / "fixtures" / "samples"
# run in a fresh interpreter: the engine modules must not be imported on a replay
PROBE = (
    "import sys; sys.argv = ['xenlint'] + sys.argv[1:]\n"
    # the click group, not cli.run, which ends the process before the probe looks
    "from xenlint.cli import main\n"
    "try:\n    main()\n"
    "except SystemExit as e:\n    code = e.code\n"
    "sys.stderr.write('ENGINE=%d\\n' % ('xenlint.engine.evaluate' in sys.modules))\n"
    "sys.exit(code)\n"
)


def audit(target: Path, cache: Path, *extra: str, cwd: Path = REPO) -> tuple[int, str, bool]:
    res = subprocess.run([sys.executable, "-c", PROBE, "audit", str(target), "--format",
                          "json", "--cache-dir", str(cache), "--no-summary", *extra],
                         capture_output=True, text=True, cwd=cwd,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, check=False)
    return res.returncode, res.stdout, "ENGINE=1" in res.stderr


def test_unchanged_target_is_replayed(tmp_path: Path) -> None:
    target = tmp_path / "set"
    shutil.copytree(SAMPLES, target)
    cache = tmp_path / "cache"
    first = audit(target, cache)
    assert first[2], "the first audit must run the engine"
    again = audit(target, cache)
    assert again[:2] == first[:2]
    assert not again[2], "a replay must not import the engine"
    assert json.loads(again[1])["findings"]


def test_changes_miss_the_memo(tmp_path: Path) -> None:
    target = tmp_path / "set"
    shutil.copytree(SAMPLES, target)
    cache = tmp_path / "cache"
    audit(target, cache)
    assert audit(target, cache, "--profile", "domu")[2]  # other options
    meta = next(target.glob("xen-system-sample_*.deb"))
    meta.unlink()  # the meta-package and its finding go away
    _code, out, engine = audit(target, cache)
    assert engine
    assert not any(f["rule"] == "meta-package-missing-docs"
                   for f in json.loads(out)["findings"])
    assert audit(target, cache, "--no-cache")[2]


def test_an_edited_rule_file_changes_the_rule_set_hash(tmp_path: Path) -> None:
    from xenlint.audit.cache import _ruleset_hash, salt_for
    from xenlint.limits import Limits

    rules = tmp_path / "rules"
    rules.mkdir()
    rule = rules / "extra.toml"
    rule.write_text('severity = "info"\n')
    salts = [salt_for(Limits(), (rules,))]
    # a longer file; then one of the same size (a changed letter), a second later
    for text, shift in (('severity = "warning"\n', 0), ('severity = "warninG"\n', 1)):
        rule.write_text(text)
        st = rule.stat()
        os.utime(rule, ns=(st.st_atime_ns, st.st_mtime_ns + shift * 10**9))
        _ruleset_hash.cache_clear()  # computed once per process, since code does not change
        salts.append(salt_for(Limits(), (rules,)))
    (rules / "notes.txt").write_text("not a rule file")
    _ruleset_hash.cache_clear()
    salts.append(salt_for(Limits(), (rules,)))
    assert salts[0] != salts[1] != salts[2]  # new size; same size, new time
    assert salts[3] == salts[2]  # files that are no rule do not count


def test_errors_that_recur_are_replayed_and_a_timeout_is_not(tmp_path: Path) -> None:
    from audit_repos import deb_repo, make_deb

    debs = tmp_path / "debs"
    debs.mkdir()
    tools = make_deb(debs, "xen-utils-9.9", files={"/usr/lib/xen-9.9/bin/xl": "x"})
    root = deb_repo(tmp_path / "repo", {"stable": [tools]})
    (root / "pool" / "stable" / tools.name).unlink()  # a partial mirror lacks it
    cache = tmp_path / "cache"
    first = audit(root, cache)
    errors = json.loads(first[1])["errors"]
    assert [e["message"] for e in errors] == ["is listed in the index but missing"]
    again = audit(root, cache)
    assert again[:2] == first[:2] and not again[2], "the absent file is met again: replayed"
    # a read that timed out may succeed next time: never replayed
    tree = tmp_path / "tree"
    shutil.copytree(SAMPLES, tree)
    slow = audit(tree, tmp_path / "c2", "--timeout", "0.000001")
    assert any("(--timeout)" in e["message"] for e in json.loads(slow[1])["errors"])
    assert audit(tree, tmp_path / "c2", "--timeout", "0.000001")[2]


def test_which_read_errors_recur() -> None:
    from xenlint.audit.model import recurs

    assert recurs("is listed in the index but missing")
    assert recurs("does not match its index (sha256)")
    assert not recurs("took longer than 300 s to read (--timeout)")
    assert not recurs("was abandoned: still running after 610 s (--timeout)")
    assert not recurs("crashed the reader process (a bug in a parsing library?)")

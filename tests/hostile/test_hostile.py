"""xenlint over fixtures/hostile/: one line, exit 2, no traceback, no writes, bounded cost.

Each file runs in its own sealed subprocess (tests/hostile/_run.py): cwd, TMPDIR and HOME
in a fresh temporary directory, an audit hook recording every write and every process
start, and peak RSS measured with getrusage(RUSAGE_CHILDREN) by the wrapper.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from xenlint.limits import ArtifactError, Limits, MiB
from xenlint.readers import read_path

REPO = Path(__file__).resolve().parents[2]
HOSTILE = REPO / "fixtures" / "hostile"
EXPECTED: dict[str, dict[str, Any]] = tomllib.loads((HOSTILE / "expected.toml").read_text())
RUNNER = Path(__file__).with_name("_run.py")

# Peak RSS allowed for one run: what xenlint may hold by design (max_held_bytes for a
# member, once more for a nested child made from it) plus the interpreter and libraries.
MEMORY_BOUND_KIB = (2 * Limits().max_held_bytes + 128 * MiB) // 1024
SECONDS_BOUND = 60  # the biggest hostile file is refused on a header; generous for slow CI
# No process start and no write is allowed (xenlint names libarchive itself, so
# libarchive-c does not ask ldconfig).
ALLOWED_EVENTS: set[str] = set()


def _outside_state() -> tuple[list[str], str]:
    """What a stray write would change: / top level, and git's view of the hostile corpus
    (only our paths: other work in a shared checkout must not make this flaky)."""
    status = subprocess.run(["git", "status", "--porcelain", "--ignored", "--",
                             "fixtures/hostile", "tests/hostile"], cwd=REPO,
                            capture_output=True, text=True, check=False).stdout
    return sorted(os.listdir("/")), status


@pytest.fixture(scope="module", autouse=True)
def nothing_written_outside() -> Any:
    before = _outside_state()
    yield
    assert _outside_state() == before


def run(args: list[str], scratch: Path) -> dict[str, Any]:
    """xenlint ARGS in a sealed subprocess; the wrapper's JSON report."""
    dirs = {name: scratch / name for name in ("cwd", "tmp", "home")}
    for d in dirs.values():
        d.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("XENLINT_")}
    env.update(TMPDIR=str(dirs["tmp"]), HOME=str(dirs["home"]), PYTHONPATH=str(REPO),
               PYTHONDONTWRITEBYTECODE="1", NO_COLOR="1")
    proc = subprocess.run([sys.executable, str(RUNNER), "--", *args], cwd=dirs["cwd"],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"wrapper failed: {proc.stderr[-2000:]}"
    report: dict[str, Any] = json.loads(proc.stdout)
    left = sorted(str(p.relative_to(scratch)) for p in scratch.rglob("*") if p not in
                  dirs.values())
    assert left == [], f"xenlint left files in its cwd/TMPDIR/HOME: {left}"
    return report


def assert_sealed(report: dict[str, Any]) -> None:
    assert "Traceback" not in report["stderr"], report["stderr"][-3000:]
    assert "Traceback" not in report["stdout"], report["stdout"][-3000:]
    unexpected = [e for e in report["writes"] if e not in ALLOWED_EVENTS]
    assert unexpected == [], f"xenlint wrote or spawned: {unexpected}"
    assert report["peak_kib"] < MEMORY_BOUND_KIB, \
        f"peak RSS {report['peak_kib']} KiB over the {MEMORY_BOUND_KIB} KiB bound"
    assert report["seconds"] < SECONDS_BOUND


def test_expected_covers_every_file() -> None:
    """Every built file has an expectation (lazy/ and fuzz-found/ are checked below)."""
    built = {str(p.relative_to(HOSTILE)) for p in HOSTILE.rglob("*") if p.is_file()
             and p.name != "expected.toml"}
    plain = {p for p in built if not p.startswith(("lazy/", "fuzz-found/"))}
    assert plain == set(EXPECTED), (sorted(plain - set(EXPECTED)),
                                    sorted(set(EXPECTED) - plain))


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_inspect_hostile_file(rel: str, tmp_path: Path) -> None:
    want = EXPECTED[rel]
    path = HOSTILE / rel
    report = run(["inspect", str(path)], tmp_path)
    assert_sealed(report)
    assert report["exit"] == want["exit"], report["stderr"]
    lines = report["stderr"].splitlines()
    if want["exit"] == 0:
        assert lines == []
        return
    # one line, naming the artifact (or a child inside it: PATH!/member) and what is wrong
    assert len(lines) == 1, lines
    prefix = f"xenlint: {path}"
    assert lines[0].startswith(prefix), lines[0]
    message = lines[0][len(prefix):].split(": ", 1)[1]
    assert re.search(want["message"], message), f"{message!r} !~ {want['message']!r}"


@pytest.mark.parametrize("rel", sorted(p.name for p in (HOSTILE / "fuzz-found").glob("*"))
                         if (HOSTILE / "fuzz-found").is_dir() else [])
def test_fuzz_found_inputs_get_one_line(rel: str, tmp_path: Path) -> None:
    """Inputs a fuzz harness once crashed on: now a one-line diagnosis, exit 2."""
    path = HOSTILE / "fuzz-found" / rel
    report = run(["inspect", str(path)], tmp_path)
    assert_sealed(report)
    lines = report["stderr"].splitlines()
    assert report["exit"] in (0, 2)
    assert len(lines) == (0 if report["exit"] == 0 else 1)
    assert all(ln.startswith(f"xenlint: {path}") for ln in lines)


def test_mixed_run_reports_the_good_ones(tmp_path: Path) -> None:
    """Hostile inputs next to good ones: exit 2, and the good ones are still read."""
    hostile = [HOSTILE / r for r in ("bomb/deb-data-zst.deb", "paths/deb-traversal.deb",
                                     "rpm-header/huge-index-count.rpm", "empty/empty.img",
                                     "cpio/huge-namesize.cpio")]
    good = [HOSTILE / "good" / "good.deb", HOSTILE / "good" / "good.rpm"]
    order = [hostile[0], good[0], *hostile[1:3], good[1], *hostile[3:]]
    report = run(["inspect", "--format", "json", *map(str, order)], tmp_path)
    assert_sealed(report)
    assert report["exit"] == 2
    arts = {a["path"]: a for a in json.loads(report["stdout"])["artifacts"]}
    for g in good:
        assert arts[str(g)]["error"] is None
        assert arts[str(g)]["package"]["name"] == "xenlint-good"
        assert arts[str(g)]["files"] == ["/usr/share/doc/xenlint-good/README"]
    errs = report["stderr"].splitlines()
    assert len(errs) == len(hostile)
    for h in hostile:
        rel = str(h.relative_to(HOSTILE))
        line = next(ln for ln in errs if ln.startswith(f"xenlint: {h}: "))
        assert re.search(EXPECTED[rel]["message"], line.split(f"{h}: ", 1)[1])


def test_check_run_over_the_whole_corpus(tmp_path: Path) -> None:
    """`xenlint check` over every hostile file and the good ones in one run: exit 2, each
    unreadable file on its own `X: PATH: message` line (on stderr), the good packages still
    linted."""
    paths = [HOSTILE / r for r in sorted(EXPECTED)]
    report = run(["check", "--format", "text", *map(str, paths)], tmp_path)
    assert_sealed(report)
    assert report["exit"] == 2
    lines = report["stdout"].splitlines()
    errors = report["stderr"].splitlines()
    for rel, want in sorted(EXPECTED.items()):
        line_re = re.compile(rf"^X: {re.escape(str(HOSTILE / rel))}(?:!\S*)?: (.*)$")
        mine = [m.group(1) for ln in errors if (m := line_re.match(ln))]
        if want["exit"] == 2:
            assert len(mine) == 1, (rel, mine)
            assert re.search(want["message"], mine[0]), (rel, mine[0])
        else:
            assert mine == [], (rel, mine)
    for good in ("good.deb", "good.rpm"):
        assert any(f"{HOSTILE / 'good' / good}: " in ln and not ln.startswith("X:")
                   for ln in lines), f"no finding reported for the good {good}"


def test_debug_flag_shows_a_traceback(tmp_path: Path) -> None:
    """`--debug` is the one way to get the traceback behind a diagnosis."""
    path = HOSTILE / "bomb" / "deb-data-xz.deb"
    report = run(["--debug", "inspect", str(path)], tmp_path)
    assert report["exit"] != 0
    assert "Traceback" in report["stderr"]
    assert "LimitExceeded" in report["stderr"]


LOWERED = [
    ("good/good.deb", ["--max-member-bytes", "4"], r"claims \d+ bytes \(max_member_bytes 4\)"),
    ("good/good.deb", ["--max-members", "3"], r"has more than 3 members \(max_members\)$"),
    ("good/good.rpm", ["--max-header-entries", "10"],
     r"header claiming \d+ index entries \(max_header_entries 10\)$"),
    ("good/good.rpm", ["--max-header-bytes", "100"],
     r"header claiming \d+ data bytes \(max_header_bytes 100\)$"),
    ("bomb/bzimage-xz-payload", ["--max-artifact-bytes", "1000000"],
     r"decompresses to more than 1000000 bytes \(max_artifact_bytes\)"),
    ("nested/deb-with-matryoshka-initrd.deb", ["--max-depth", "0"],
     r"nests deeper than 0 levels \(max_depth\)$"),
    ("bomb/deb-with-initrd-bomb.deb", ["--max-held-bytes", "1000"],
     r"initrd\.img-6\.1\.0-hostile: is \d+ bytes, more than max_held_bytes \(1000\); not opened$"),
]


@pytest.mark.parametrize(("rel", "flags", "message"), LOWERED,
                         ids=[f"{r}{f[0]}" for r, f, _ in LOWERED])
def test_lowered_limit_is_the_one_reported(rel: str, flags: list[str], message: str,
                                           tmp_path: Path) -> None:
    """Each limit given on the command line is the one enforced and named."""
    report = run(["inspect", *flags, str(HOSTILE / rel)], tmp_path)
    assert_sealed(report)
    assert report["exit"] == 2
    [line] = report["stderr"].splitlines()
    assert re.search(message, line), line


# --- payload lies behind a consistent RPM header: found when the contents are read ------

LAZY = {
    "lazy/rpm-payload-xz.rpm": r"^payload|zeros claims 314572800 bytes \(max_member_bytes",
    "lazy/huge-filesize.rpm": r"claims 2147483647 bytes \(max_member_bytes",
    "lazy/huge-namesize.rpm": r"is corrupt or truncated",
}


@pytest.mark.parametrize("rel", sorted(LAZY))
def test_lazy_payload_lie_fails_the_read(rel: str) -> None:
    [art] = read_path(HOSTILE / rel)
    assert art.error is None  # the header is self-consistent, its digest matches
    with pytest.raises(ArtifactError, match=LAZY[rel]):
        art.read_many(art.files)


def test_lazy_payload_traversal_never_becomes_an_entry() -> None:
    """A payload name the header does not list is never served: the header is the truth."""
    [art] = read_path(HOSTILE / "lazy" / "rpm-payload-traversal.rpm")
    assert art.files == ["/usr/share/doc/xenlint-good/README"]
    assert art.read_many(art.files) == {"/usr/share/doc/xenlint-good/README": b"hello\n"}
    assert not any("cron" in p for p in art.entries)

"""codec.py, the cache's file format: every view of the fixtures comes back equal, and
any bytes at all decode to a value or to `Malformed`, never to another exception."""

from __future__ import annotations

import contextlib
import dataclasses
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from audit_repos import REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xenlint.artifact import Artifact, Entry, EntryType, Kind
from xenlint.audit import codec
from xenlint.audit.cache import Cache
from xenlint.audit.model import WorkItem
from xenlint.audit.worker import WorkerConfig, analyse, relocate
from xenlint.finding import Finding, ReadError, Remedy, Report, RuleInfo, Severity, Unknown
from xenlint.limits import Limits

FIXTURES = sorted(p for kind in ("deb", "rpm", "kernel", "initramfs", "iso", "hypervisor")
                  for p in (REPO / "fixtures" / "readers" / kind).iterdir() if p.is_file())
CONFIG = WorkerConfig(Limits(), 0, None, "")


def _views() -> list[Artifact]:
    views = []
    for path in FIXTURES:
        art = analyse(WorkItem(str(path), str(path), required=False), CONFIG).artifact
        if art is not None:
            views.append(art)
    return views


@pytest.fixture(scope="module")
def views() -> list[Artifact]:
    found = _views()
    assert len(found) >= 20 and any(a.children for a in found)
    return found


def test_every_fixture_view_comes_back_equal(views: list[Artifact]) -> None:
    held = 0
    for art in views:
        back, display = codec.decode_view(codec.encode_view(art.path, art))
        assert back is not None and display == art.path
        relocate(back, display, WorkItem(art.path, art.path), Limits())
        assert back == art  # every field, kept member contents and loaders included
        held += back.captured_count()
    assert held  # kept member contents were part of what came back


def test_columns_that_do_not_fit_their_compact_form() -> None:
    art = Artifact("x.deb", Kind.DEB, entries={
        "/a\0b": Entry("/a\0b", EntryType.FILE, 0o755, 2 ** 63),  # NUL in a name, > int64
        "/l": Entry("/elsewhere", EntryType.SYMLINK, 0o777, 0, "/a"),
    })
    back, _ = codec.decode_view(codec.encode_view("x.deb", art))
    assert back == art


def test_a_value_the_format_cannot_hold_is_not_cached(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache", "salt")
    art = Artifact("x.deb", Kind.DEB,
                   entries={"/a": Entry("/a", EntryType.FILE, 0o644, 2 ** 70)})
    cache.put("0" * 64, "x.deb", art)  # no error: only not stored
    assert cache.get("0" * 64) is None
    assert not list((tmp_path / "cache").rglob("*.msgpack"))


def test_a_report_and_a_run_come_back_equal() -> None:
    finding = Finding("XL001", Severity.ERROR, "dom0", ("a", "b"), "x.deb", "x.deb!/boot",
                      "msg", "fix", remedy=Remedy("dependency", "x.deb", "pkg x", "deb"),
                      profiles=("dom0", "domu"))
    report = Report(findings=[finding], unknowns=[Unknown("XL002", "domu", "x.deb", "k",
                                                          absent_packages=("p",))],
                    hidden_unknowns=3, errors=[ReadError("y.deb", "is truncated")],
                    artifacts=["x.deb"], rules=[RuleInfo("XL001", Severity.ERROR, ("dom0",),
                                                         ("a",), "s", references=("r",))],
                    profiles=["dom0"], kinds={"x.deb": ["package"]},
                    packages={"x.deb": "x"}, baseline="b.json", fixed=2)
    assert codec.decode_report(codec.encode_report(report)) == report
    stats = {"groups": [("main", 3)], "opened": 1, "cached": 2, "from_index": 0,
             "warnings": ["an index in Latin-1"], "seconds": 1.5}
    assert codec.decode_run(codec.encode_run(report, stats, 1)) == (report, stats, 1)


def test_index_parses_come_back_equal(views: list[Artifact]) -> None:
    for kind, value in ((codec.SUITE, (views, ["an index error"])), (codec.RPM_REPO, views)):
        out = io.BytesIO()
        kind.encode(value, out)  # type: ignore[arg-type]
        back = kind.decode(out.getvalue())
        arts = back[0] if isinstance(back, tuple) else back
        for art in arts:
            relocate(art, art.path, WorkItem(art.path, art.path), Limits())
        assert back == value


def test_every_flipped_bit_of_a_view_is_a_miss(views: list[Artifact]) -> None:
    small = min(views, key=lambda a: len(codec.encode_view(a.path, a)))
    data = codec.encode_view(small.path, small)
    for i in range(len(data)):
        damaged = data[:i] + bytes([data[i] ^ 0x10]) + data[i + 1:]
        with pytest.raises(codec.Malformed):
            codec.decode_view(damaged)


DECODERS: dict[str, Callable[[bytes], Any]] = {
    "view": codec.decode_view, "report": codec.decode_report, "run": codec.decode_run,
    "suite": codec.SUITE.decode, "rpm repository": codec.RPM_REPO.decode,
}


def _decodes_or_is_malformed(data: bytes) -> None:
    for decode in DECODERS.values():
        with contextlib.suppress(codec.Malformed):
            decode(data)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_decode_or_are_malformed(data: bytes) -> None:
    _decodes_or_is_malformed(data)


PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 63, 2 ** 64 - 1) | st.floats()
    | st.text(max_size=5) | st.binary(max_size=5) | st.sampled_from(["deb", "file", "dom0"]),
    lambda inner: st.lists(inner, max_size=18) | st.dictionaries(st.text(max_size=3), inner,
                                                                  max_size=4),
    max_leaves=60)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(PLAIN)
def test_any_sealed_plain_value_decodes_or_is_malformed(value: Any) -> None:
    """Valid entries (the digest matches) of any shape: whoever may write the cache can
    write these, and they must not crash a reader either."""
    _decodes_or_is_malformed(codec.pack(value))


def _mutations(value: Any) -> list[Any]:
    """The value with one leaf at a time replaced by a value of another type."""
    out = []
    if isinstance(value, list):
        for i, x in enumerate(value):
            for other in _mutations(x):
                out.append([*value[:i], other, *value[i + 1:]])
    elif isinstance(value, dict):
        for k, x in value.items():
            for other in _mutations(x):
                out.append({**value, k: other})
    out += [None, 7, "s", b"b", [], {}] if not isinstance(value, (list, dict)) else [None]
    return out


def test_a_view_with_any_one_field_of_the_wrong_type_is_malformed_or_sound(
        views: list[Artifact]) -> None:
    """Each leaf of a real view's encoding swapped for a value of another type: the
    decoder rejects it or builds a view whose fields have their declared types."""
    art = next(a for a in views if a.children and a.package is not None)
    encoded = codec.encode_artifact(dataclasses.replace(art, children=art.children[:1]))
    tried = 0
    for mutated in _mutations(encoded):
        tried += 1
        try:
            back, _ = codec.decode_view(codec.pack(["p", mutated]))
        except codec.Malformed:
            continue
        if back is None:  # a file that is no format xenlint reads, as stored
            assert mutated is None
            continue
        assert isinstance(back.path, str) and isinstance(back.kind, Kind)
        assert all(isinstance(e, Entry) and isinstance(e.type, EntryType)
                   and type(e.mode) is int for e in back.entries.values())
    assert tried > 100


def test_the_fixture_list_is_real() -> None:
    assert all(isinstance(p, Path) and p.stat().st_size for p in FIXTURES)

"""Views cross process boundaries (audit workers) and sit in the cache as pickles: a
round trip must give back the same view, entry for entry."""

from __future__ import annotations

import pickle
from pathlib import Path

from xenlint.artifact import Artifact, Entry, EntryType
from xenlint.readers import read_path

SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "samples"


def _shape(art: Artifact) -> list[object]:
    return [(a.path, a.kind, a.package, a.entries, a.error, a.meta) for a in art.walk()]


def test_a_read_view_survives_pickling() -> None:
    for deb in sorted(SAMPLES.glob("*.deb")):
        [art] = read_path(deb)
        assert art.entries
        for a in art.walk():
            a._loader = None  # a live reader's loader is not picklable; audits freeze it
        back = pickle.loads(pickle.dumps(art, protocol=pickle.HIGHEST_PROTOCOL))
        assert _shape(back) == _shape(art)


def test_every_field_of_an_entry_survives() -> None:
    entry = Entry("/usr/sbin/xl", EntryType.SYMLINK, 0o777, 12, "../lib/xen/bin/xl")
    back = pickle.loads(pickle.dumps(entry))
    assert back == entry and back.type is EntryType.SYMLINK and hash(back) == hash(entry)

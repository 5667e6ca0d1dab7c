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
            a.set_loader(None)  # a live reader's loader is not picklable; audits freeze it
        back = pickle.loads(pickle.dumps(art, protocol=pickle.HIGHEST_PROTOCOL))
        assert _shape(back) == _shape(art)


def test_every_field_of_an_entry_survives() -> None:
    entry = Entry("/usr/sbin/xl", EntryType.SYMLINK, 0o777, 12, "../lib/xen/bin/xl")
    back = pickle.loads(pickle.dumps(entry))
    assert back == entry and back.type is EntryType.SYMLINK and hash(back) == hash(entry)


def test_every_field_of_a_view_survives(tmp_path: Path) -> None:
    """Artifact pickles its entries as columns (artifact.__reduce__): every other field,
    nested children, captured contents and keys that are not the entry's path included."""
    import dataclasses

    from xenlint.artifact import (
        InitramfsInfo,
        IsoInfo,
        KernelInfo,
        KernelRelease,
        Kind,
        ModuleInfo,
        Package,
        ReaderNotes,
        Segment,
    )

    ramdisk = InitramfsInfo([Segment(0, "xz", "newc", 1, 9, decompressed_bytes=512)], ["m"],
                            [], ["6.1"], "dracut", {"hostonly": "no"}, False)
    inner = Artifact("x.deb!/boot/initrd.img", Kind.INITRAMFS, initramfs=ramdisk,
                     entries={"/init": Entry("/init", EntryType.FILE, 0o755, 9)})
    art = Artifact("x.deb", Kind.DEB, Package("x", "1", depends=["y (>= 2)"]),
                   entries={"/boot/initrd.img": Entry("/boot/initrd.img", EntryType.FILE, 0o600, 7),
                            "/usr/bin/xl": Entry("/usr/bin/xl", EntryType.SYMLINK, 0o777, 0,
                                                 "../lib/xen/bin/xl"),
                            "odd key": Entry("/odd/path", EntryType.DIRECTORY, 0o755)},
                   children=[inner, Artifact("x.deb!/boot/vmlinuz", Kind.KERNEL_IMAGE,
                                             kernel=KernelInfo("bzImage", None, "6.1"),
                                             error="truncated")],
                   error=None, kernel=KernelRelease("6.1"), config={"A": "y"},
                   module=ModuleInfo("m", None, [], [], True, None, None, False, None),
                   iso=IsoInfo("v", False, [], []), unsafe_paths=["../x"],
                   meta=ReaderNotes(compression="xz"), sha256="ab" * 32)
    art.capture("/boot/initrd.img", b"initrd!")
    back = pickle.loads(pickle.dumps(art, protocol=pickle.HIGHEST_PROTOCOL))
    for field in dataclasses.fields(Artifact):
        assert getattr(back, field.name) == getattr(art, field.name), field.name
    assert list(back.entries) == list(art.entries)  # order too
    assert back.entries["/usr/bin/xl"].type is EntryType.SYMLINK
    assert back.children[0].entries["/init"].mode == 0o755
    # built back as Entry named tuples, not plain tuples of their fields
    assert {type(e) for a in back.walk() for e in a.entries.values()} == {Entry}
    assert back.children[0].entries["/init"].executable
    assert back.children[1] == art.children[1]  # no entries: pickled the usual way
    assert back.read("/boot/initrd.img") == b"initrd!"

"""ISO 9660 installer media, streamed through libarchive; kernels and ramdisks inside
become nested children (their paths match the kernel and initramfs readers' globs)."""

from __future__ import annotations

from collections.abc import Mapping

from xenlint.artifact import Artifact, EntryType, IsoInfo, Kind
from xenlint.limits import ArtifactError
from xenlint.readers import ReadContext, Source, reader
from xenlint.readers.lowlevel.archive import MemberStream, keep_member

SECTOR = 2048
PVD = 16 * SECTOR  # the primary volume descriptor
BOOT_RECORD = 17 * SECTOR  # El Torito puts its boot record volume descriptor here


def _at(source: Source, offset: int, n: int) -> bytes:
    if source.data is not None:
        return source.data[offset:offset + n]
    with source.open() as f:
        f.seek(offset)
        return f.read(n)


def _sniff(head: bytes, source: Source) -> bool:
    try:
        return _at(source, PVD + 1, 5) == b"CD001"
    except OSError:
        return False


@reader("iso", sniff=_sniff, priority=60)
def read_iso(source: Source, ctx: ReadContext) -> Artifact:
    art = Artifact(source.display, Kind.ISO)
    pvd = _at(source, PVD, 130)
    if pvd[0:1] == b"\1" and len(pvd) == 130:
        # volume space size (blocks) x logical block size: what mastering wrote; a shorter
        # file lost its tail, and libarchive would only notice if we read that far
        block = int.from_bytes(pvd[128:130], "little")
        if block not in (512, 1024, 2048):
            raise ArtifactError(f"has a corrupt volume descriptor (logical block size {block})")
        declared = int.from_bytes(pvd[80:84], "little") * block
        if declared > source.size:
            raise ArtifactError(f"is truncated: its volume descriptor says {declared} bytes, "
                                f"the file has {source.size}")
    boot = _at(source, BOOT_RECORD, 71)
    with source.open() as f:
        for m in MemberStream(f, ctx, format_name="iso9660"):
            e = m.entry
            if m.unsafe:
                art.unsafe_paths.append(m.raw_name)
            if e.path == "/":
                continue
            art.entries[e.path] = e
            if e.type is not EntryType.FILE:
                continue
            keep_member(art, m, ctx)
    art.iso = IsoInfo(
        volume_id=pvd[40:72].decode("ascii", "replace").strip() if pvd[0:1] == b"\1" else None,
        el_torito=boot[1:6] == b"CD001" and boot[7:30] == b"EL TORITO SPECIFICATION",
        kernels=[c.path.rsplit("!", 1)[1] for c in art.children if c.kind is Kind.KERNEL_IMAGE],
        ramdisks=[c.path.rsplit("!", 1)[1] for c in art.children if c.kind is Kind.INITRAMFS],
    )

    def load(paths: set[str]) -> Mapping[str, bytes]:
        got: dict[str, bytes] = {}
        with source.open() as f2:
            for m in MemberStream(f2, ctx, format_name="iso9660"):
                if m.entry.path in paths and m.entry.type is EntryType.FILE:
                    got[m.entry.path] = m.read()
                    if len(got) == len(paths):
                        break
        return got

    art.set_loader(load)
    return art

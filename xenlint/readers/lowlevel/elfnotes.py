"""ELF notes of a kernel read while its bytes stream past, through pyelftools.

The vmlinux inside a bzImage is tens of MB, but its program headers sit in the first
bytes and its PT_NOTE segment is a few hundred bytes. `NoteCollector` keeps only those
ranges; pyelftools then parses them from a sparse file, so no whole image is held.

pyelftools (~18 ms to import) is imported when the first ELF is parsed: most runs, and an
audit's main process, never parse one.
"""

from __future__ import annotations

import functools
import io
import itertools
import struct
from typing import IO, Any, BinaryIO, Literal, cast

from xenlint.limits import ArtifactError

ELF_MAGIC = b"\x7fELF"
HEAD_BYTES = 1 << 16
MAX_NOTE_BYTES = 1 << 16  # one PT_NOTE segment; Linux's are a few hundred bytes
MAX_NOTE_SEGMENTS = 16
MAX_SECTIONS = 4096  # vmlinux has ~40; more is not a kernel
# zero-filled reads outside the kept ranges are capped, so a hostile size cannot allocate
MAX_HOLE_READ = 1 << 16

XEN_NOTES = {
    0: "INFO", 1: "ENTRY", 2: "HYPERCALL_PAGE", 3: "VIRT_BASE", 4: "PADDR_OFFSET",
    5: "XEN_VERSION", 6: "GUEST_OS", 7: "GUEST_VERSION", 8: "LOADER", 9: "PAE_MODE",
    10: "FEATURES", 11: "BSD_SYMTAB", 12: "HV_START_LOW", 13: "L1_MFN_VALID",
    14: "SUSPEND_CANCEL", 15: "INIT_P2M", 16: "MOD_START_PFN", 17: "SUPPORTED_FEATURES",
    18: "PHYS32_ENTRY", 19: "PHYS32_RELOC",
}
XEN_STRING_NOTES = {0, 5, 6, 7, 8, 9, 10, 11}
ARCHES = {"EM_X86_64": "x86_64", "EM_386": "x86", "EM_AARCH64": "arm64", "EM_ARM": "arm",
          "EM_RISCV": "riscv", "EM_PPC64": "ppc64", "EM_S390": "s390x"}


@functools.cache
def _type_numbers() -> dict[str, int]:
    from elftools.elf.enums import ENUM_NOTE_N_TYPE

    return {k: v for k, v in ENUM_NOTE_N_TYPE.items() if isinstance(v, int)}


class SparseFile(io.RawIOBase):
    """A read-only file made of kept ranges; the holes read as zeros (capped per read)."""

    def __init__(self, regions: dict[int, bytes], size: int) -> None:
        self._regions = sorted(regions.items())
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, n: int = -1) -> bytes:
        pos = self._pos
        if n is None or n < 0:
            n = MAX_HOLE_READ
        for start, data in self._regions:
            if start <= pos < start + len(data):
                out = data[pos - start: pos - start + n]
                self._pos += len(out)
                return out
        nxt = min((s for s, _ in self._regions if s > pos), default=self._size)
        out = b"\0" * max(0, min(n, nxt - pos, MAX_HOLE_READ, self._size - pos))
        self._pos += len(out)
        return out

    def readinto(self, buf: Any) -> int:
        data = self.read(len(buf))
        buf[: len(data)] = data
        return len(data)


def _elf(regions: dict[int, bytes], size: int) -> Any:
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        return ELFFile(cast("IO[bytes]", SparseFile(regions, size)))
    except (ELFError, struct.error, ValueError, KeyError) as exc:
        raise ArtifactError(f"has a corrupt ELF header ({exc})") from None
    except Exception as exc:  # construct raises its own error types on short data
        raise ArtifactError(f"has a corrupt ELF header ({type(exc).__name__})") from None


class NoteCollector:
    """Fed the bytes of an ELF file in order; keeps its head and its PT_NOTE ranges."""

    def __init__(self) -> None:
        self.pos = 0
        self._head = bytearray()
        self.layout: dict[str, Any] | None = None
        self._head_bytes = b""
        self._ranges: list[tuple[int, int, bytearray]] = []

    @property
    def done(self) -> bool:
        return self.layout is not None and all(len(b) >= n for _, n, b in self._ranges)

    def feed(self, block: bytes) -> None:
        start = self.pos
        self.pos += len(block)
        if self.layout is None:
            if len(self._head) < HEAD_BYTES:
                self._head += block[: HEAD_BYTES - len(self._head)]
            if len(self._head) < HEAD_BYTES:
                return
            self._read_layout()
        for off, n, buf in self._ranges:
            want = off + len(buf)
            if len(buf) < n and start <= want < self.pos:
                buf += block[want - start: want - start + n - len(buf)]

    def finish(self) -> None:
        if self.layout is None:
            self._read_layout()

    def _read_layout(self) -> None:
        head = bytes(self._head)
        elf = _elf({0: head}, max(len(head), self.pos))
        hdr = elf.header
        phend = hdr["e_phoff"] + hdr["e_phnum"] * hdr["e_phentsize"]
        if hdr["e_phnum"] and phend > len(head):
            raise ArtifactError(f"has ELF program headers beyond the first {len(head)} bytes")
        segments = []
        try:
            for i in range(elf.num_segments()):
                seg = elf.get_segment(i)
                segments.append((seg["p_type"], seg["p_offset"], seg["p_filesz"],
                                 seg["p_vaddr"]))
        except Exception as exc:
            raise ArtifactError(f"has corrupt ELF program headers ({type(exc).__name__})"
                                ) from None
        notes = [(off, n) for t, off, n, _ in segments if t == "PT_NOTE" and n > 0]
        if len(notes) > MAX_NOTE_SEGMENTS or any(n > MAX_NOTE_BYTES for _, n in notes):
            raise ArtifactError("has oversized or too many ELF note segments")
        self.layout = {
            "machine": elf.header["e_machine"], "class": elf.elfclass,
            "little_endian": elf.little_endian, "type": hdr["e_type"],
            "loads": [(off, n, va) for t, off, n, va in segments if t == "PT_LOAD"],
        }
        for off, n in notes:
            buf = bytearray(head[off: off + n]) if off < len(head) else bytearray()
            self._ranges.append((off, n, buf))
        self._head_bytes = head

    @property
    def notes_end(self) -> int:
        return max((off + n for off, n, _ in self._ranges), default=0)

    def notes(self) -> list[tuple[str, int, bytes]]:
        """(owner, type number, descriptor) of every note in the kept PT_NOTE segments."""
        if self.layout is None:
            return []
        regions = {0: self._head_bytes}
        for off, _n, buf in self._ranges:
            regions[off] = bytes(buf)
        size = max([self.pos, *[off + len(b) for off, _, b in self._ranges]])
        elf = _elf(regions, size)
        out: list[tuple[str, int, bytes]] = []
        complete = {off for off, n, buf in self._ranges if len(buf) >= n}
        try:
            for seg in elf.iter_segments():
                # a note segment cut short by the end of the file is not parsed from zeros
                if seg["p_type"] != "PT_NOTE" or seg["p_offset"] not in complete:
                    continue
                for note in seg.iter_notes():
                    ntype = note["n_type"]
                    num = ntype if isinstance(ntype, int) else _type_numbers().get(ntype, -1)
                    out.append((note["n_name"] or "", num, bytes(note["n_descdata"])))
        except Exception as exc:
            raise ArtifactError(f"has corrupt ELF notes ({type(exc).__name__})") from None
        return out


def decode_xen_notes(notes: list[tuple[str, int, bytes]], little: bool) -> dict[str, Any]:
    """Xen notes by name (no XEN_ELFNOTE_ prefix): strings as str, numbers as int,
    multi-word values (L1_MFN_VALID, PHYS32_RELOC) as lists of int."""
    out: dict[str, Any] = {}
    order: Literal["little", "big"] = "little" if little else "big"
    for owner, num, desc in notes:
        if owner != "Xen":
            continue
        name = XEN_NOTES.get(num, f"TYPE_{num}")
        value: Any
        if num in XEN_STRING_NOTES:
            value = desc.split(b"\0", 1)[0].decode("utf-8", "replace")
        elif len(desc) in (1, 2, 4, 8):
            value = int.from_bytes(desc, order)
        elif desc and len(desc) % 8 == 0 and num == 13:
            value = [int.from_bytes(desc[i:i + 8], order) for i in range(0, len(desc), 8)]
        elif desc and len(desc) % 4 == 0:
            value = [int.from_bytes(desc[i:i + 4], order) for i in range(0, len(desc), 4)]
        else:
            value = desc.hex()
        out[name] = value
    return out


def build_id(notes: list[tuple[str, int, bytes]]) -> str | None:
    return next((d.hex() for o, t, d in notes if o == "GNU" and t == 3), None)


def arch_of(layout: dict[str, Any]) -> str | None:
    machine = layout.get("machine")
    if machine == "EM_RISCV":
        return "riscv64" if layout.get("class") == 64 else "riscv32"
    return ARCHES.get(str(machine))


def check_segments(layout: dict[str, Any], size: int) -> None:
    """Every PT_LOAD lies inside the `size` bytes the ELF turned out to have."""
    for off, n, _va in layout.get("loads", []):
        if off + n > size:
            raise ArtifactError(f"is truncated: ELF segment at offset {off} ({n} bytes) runs "
                                f"past the end ({size} bytes)")


def check_sections(f: BinaryIO, size: int) -> None:
    """The section header table and every section with file bytes lie inside the file and
    do not overlap (a seekable ELF only: section headers sit at its end)."""
    elf = _elf_real(f)
    hdr = elf.header
    if hdr["e_shnum"]:
        end = hdr["e_shoff"] + hdr["e_shnum"] * hdr["e_shentsize"]
        if end > size:
            raise ArtifactError(f"has ELF section headers past the end of the file "
                                f"(offset {hdr['e_shoff']}; corrupt ELF)")
    spans = []
    try:
        for i in range(min(elf.num_sections(), MAX_SECTIONS)):
            sec = elf.get_section(i)
            if sec["sh_type"] == "SHT_NOBITS" or sec["sh_size"] == 0:
                continue
            if sec["sh_offset"] + sec["sh_size"] > size:
                raise ArtifactError(f"has ELF section {i} past the end of the file "
                                    "(corrupt ELF)")
            spans.append((sec["sh_offset"], sec["sh_offset"] + sec["sh_size"], i))
    except ArtifactError:
        raise
    except Exception as exc:
        raise ArtifactError(f"has corrupt ELF section headers ({type(exc).__name__})") from None
    spans.sort()
    for (_s1, e1, i1), (s2, _e2, i2) in itertools.pairwise(spans):
        if s2 < e1:
            raise ArtifactError(f"has ELF sections {i1} and {i2} that overlap (corrupt ELF)")


def _elf_real(f: BinaryIO) -> Any:
    from elftools.elf.elffile import ELFFile

    try:
        return ELFFile(f)
    except Exception as exc:
        raise ArtifactError(f"has a corrupt ELF header ({type(exc).__name__})") from None

"""One pass over a decompressed kernel: ELF notes, the version banner, the IKCONFIG blob.

Blocks are fed in order and dropped. For an ELF the scan stops as soon as the PT_NOTE
segment and the banner have gone by: `.rodata` (banner, IKCONFIG) sits before `.notes`
in the read-only segment of x86 and arm64 vmlinux, so nothing later is needed.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from xenlint.readers.lowlevel.elfnotes import (
    ELF_MAGIC,
    NoteCollector,
    arch_of,
    build_id,
    check_segments,
    decode_xen_notes,
)

BANNER = b"Linux version "
_BANNER_RE = re.compile(rb"Linux version (\d+\.\d+[^\s\0]*) [^\0\n]*")
IKCFG_ST = b"IKCFG_ST\x1f\x8b\x08"
IKCFG_ED = b"IKCFG_ED"
MAX_IKCONFIG_GZ = 8 << 20
MAX_IKCONFIG_TEXT = 32 << 20
_TAIL = max(len(BANNER), len(IKCFG_ST)) - 1


@dataclass(frozen=True, slots=True)
class PayloadFacts:
    """What a scan of the decompressed payload found; None where it found nothing."""

    release: str | None
    version_string: str | None
    ikconfig: bool
    ikconfig_error: str | None = None
    arch: str | None = None
    xen_notes: dict[str, Any] | None = None  # None: the payload is not an ELF
    build_id: str | None = None


class KernelScan:
    def __init__(self, elf: bool) -> None:
        self.notes = NoteCollector() if elf else None
        self.banner: str | None = None
        self.release: str | None = None
        self.ikconfig: str | None = None
        self.ikconfig_error: str | None = None
        self.bytes_seen = 0
        self.complete = False  # the whole stream was read (no early stop)
        self._tail = b""
        self._banner_buf: bytearray | None = None
        self._ik_buf: bytearray | None = None

    @property
    def done(self) -> bool:
        if self.notes is None or not self.notes.done or self._ik_buf is not None:
            return False
        return self.banner is not None and self.bytes_seen >= self.notes.notes_end

    def feed(self, block: bytes) -> None:
        self.bytes_seen += len(block)
        if self.notes is not None:
            self.notes.feed(block)
        if self._banner_buf is not None:
            self._banner_buf += block[:256]
            self._try_banner()
        if self._ik_buf is not None:
            self._ik_more(block)
        window = self._tail + block
        if self.banner is None and self._banner_buf is None:
            i = window.find(BANNER)
            if i >= 0:
                self._banner_buf = bytearray(window[i:i + 512])
                self._try_banner()
        if self.ikconfig is None and self._ik_buf is None and self.ikconfig_error is None:
            i = window.find(IKCFG_ST)
            if i >= 0:
                self._ik_buf = bytearray()
                self._ik_more(window[i + 8:])
        self._tail = window[-_TAIL:]

    def _try_banner(self) -> None:
        buf = self._banner_buf
        assert buf is not None
        m = _BANNER_RE.match(bytes(buf))
        end = m is not None and (m.end() < len(buf) or len(buf) >= 512)
        if m and end:
            self.banner = m.group(0).decode("utf-8", "replace").strip()
            self.release = m.group(1).decode("utf-8", "replace")
            self._banner_buf = None
        elif len(buf) >= 512 or (not m and len(buf) >= len(BANNER) + 8):
            self._banner_buf = None  # a stray "Linux version " without a release

    def _ik_more(self, data: bytes) -> None:
        buf = self._ik_buf
        assert buf is not None
        before = len(buf)
        buf += data
        j = buf.find(IKCFG_ED, max(0, before - len(IKCFG_ED)))
        if j >= 0:
            self._ik_buf = None
            self._inflate(bytes(buf[:j]))
        elif len(buf) > MAX_IKCONFIG_GZ:
            self._ik_buf = None
            self.ikconfig_error = f"IKCONFIG blob larger than {MAX_IKCONFIG_GZ} bytes"

    def _inflate(self, gz: bytes) -> None:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            text = d.decompress(gz, MAX_IKCONFIG_TEXT)
        except zlib.error as exc:
            self.ikconfig_error = f"IKCONFIG blob is corrupt ({exc})"
            return
        if d.unconsumed_tail:
            self.ikconfig_error = f"IKCONFIG text larger than {MAX_IKCONFIG_TEXT} bytes"
            return
        self.ikconfig = text.decode("utf-8", "replace")

    def run(self, blocks: Iterable[bytes]) -> None:
        """Feed blocks until done or exhausted; closes the source early when done."""
        it = iter(blocks)
        try:
            for block in it:
                self.feed(block)
                if self.done:
                    break
            else:
                self.complete = True
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()
        if self.notes is not None:
            self.notes.finish()
            if self.complete and self.notes.layout is not None:
                check_segments(self.notes.layout, self.bytes_seen)

    def facts(self) -> PayloadFacts:
        """What the payload told about the kernel."""
        error = self.ikconfig_error or None
        if self.notes is None or self.notes.layout is None:
            return PayloadFacts(self.release, self.banner, self.ikconfig is not None, error)
        notes = self.notes.notes()
        return PayloadFacts(self.release, self.banner, self.ikconfig is not None, error,
                            arch_of(self.notes.layout),
                            decode_xen_notes(notes, self.notes.layout["little_endian"]),
                            build_id(notes))


def is_elf(head: bytes) -> bool:
    return head.startswith(ELF_MAGIC)

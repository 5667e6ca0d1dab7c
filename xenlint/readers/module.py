"""Kernel modules (.ko, .ko.xz, .ko.zst, .ko.gz): modinfo from the `.modinfo` section."""

from __future__ import annotations

import io

from xenlint.artifact import Artifact, Kind, ModuleInfo, ReaderNotes
from xenlint.limits import ArtifactError
from xenlint.modnames import module_stem
from xenlint.readers import ReadContext, Source, reader
from xenlint.readers.compressed import decompress_held, inner_format
from xenlint.readers.lowlevel.elfnotes import ELF_MAGIC

SIGNATURE_MARK = b"~Module signature appended~\n"
MAX_MODINFO = 1 << 20
SHF_COMPRESSED = 0x800


def is_elf_relocatable(head: bytes) -> bool:
    if not head.startswith(ELF_MAGIC) or len(head) < 18 or head[5] not in (1, 2):
        return False
    return int.from_bytes(head[16:18], "little" if head[5] == 1 else "big") == 1


def modinfo_fields(data: bytes) -> list[tuple[str, str]]:
    """The key=value strings of a .modinfo section, in order (keys may repeat)."""
    out: list[tuple[str, str]] = []
    for raw in data.split(b"\0"):
        if b"=" in raw:
            key, _, value = raw.decode("utf-8", "replace").partition("=")
            out.append((key, value))
    return out


def module_facts(data: bytes, filename: str) -> ModuleInfo:
    # imported here: pyelftools is slow to import, and most runs read no module
    from elftools.elf.elffile import ELFFile

    try:
        elf = ELFFile(io.BytesIO(data))
        sec = elf.get_section_by_name(".modinfo")
        if sec is None:
            raise ArtifactError("is an ELF object without a .modinfo section (not a module)")
        if sec["sh_flags"] & SHF_COMPRESSED:
            raise ArtifactError("has a compressed .modinfo section (not a kernel module)")
        if sec["sh_size"] > MAX_MODINFO or sec["sh_offset"] + sec["sh_size"] > len(data):
            raise ArtifactError("has a .modinfo section outside the file or too large")
        info = modinfo_fields(sec.data())
    except ArtifactError:
        raise
    except Exception as exc:  # pyelftools raises many kinds on corrupt input
        raise ArtifactError(f"is a corrupt ELF object ({type(exc).__name__})") from None
    first: dict[str, str] = {}
    for key, value in info:
        first.setdefault(key, value)
    depends = first.get("depends", "")
    return ModuleInfo(
        name=first.get("name") or (module_stem(filename) or filename).replace("-", "_"),
        vermagic=(first.get("vermagic") or "").strip() or None,
        alias=[v for k, v in info if k == "alias"],
        depends=[d for d in depends.split(",") if d],
        intree=first.get("intree") == "Y",
        description=first.get("description"),
        license=first.get("license"),
        signed=data.endswith(SIGNATURE_MARK),
        release=(first.get("vermagic") or "").split(" ", 1)[0] or None,
    )


def _artifact(source: Source, data: bytes, compression: str) -> Artifact:
    name = source.display.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
    return Artifact(source.display, Kind.KERNEL_MODULE, module=module_facts(data, name),
                    meta=ReaderNotes(compression=compression))


@reader("kernel-module", sniff=lambda head, source: is_elf_relocatable(head), priority=25)
def read_module(source: Source, ctx: ReadContext) -> Artifact:
    return _artifact(source, source.read_held(ctx.limits.max_held_bytes), "none")


@inner_format(is_elf_relocatable, "kernel-module")
def _read_compressed(source: Source, ctx: ReadContext, compression: str) -> Artifact:
    return _artifact(source, decompress_held(source, ctx, "module"), compression)

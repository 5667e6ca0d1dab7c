"""The Xen hypervisor itself: xen.gz (a gzip'd ELF with a multiboot header), xen.efi (PE/COFF)
and the hypervisor's own Kconfig (`xen-*.config`, "# Xen/x86 4.17.7 Configuration").

Hypervisor images are a few MB, so an image is held whole (within max_held_bytes) and its
headers and read-only strings are looked at in place; nothing is executed or extracted.
"""

from __future__ import annotations

import fnmatch
import io
import re
import struct
from dataclasses import replace

import pefile  # type: ignore[import-untyped]

from xenlint import capture
from xenlint.artifact import Artifact, HypervisorInfo, Kind
from xenlint.limits import ArtifactError
from xenlint.readers import HEAD_BYTES, ReadContext, Source, deriver, read_member, reader
from xenlint.readers.compressed import decompress_held, inner_format
from xenlint.readers.kconfig import parse_config

NESTED = ("/boot/xen*.gz", "/boot/xen*.efi", "/boot/xen", "/boot/efi/EFI/*/xen*.efi",
          "/usr/lib/efi/xen*.efi")
# The hypervisor's Kconfig is opened by pair_with_config, not by its path alone: a text at
# /boot/xen-*.config without Xen's header is not the hypervisor's, nor a Linux kernel's.
CONFIGS = "/boot/xen*.config"
capture.want(CONFIGS)

ELF_MAGIC = b"\x7fELF"
# The Multiboot2 header lies 8-byte aligned in the first 32 KiB of the image, Multiboot1's
# 4-byte aligned in the first 8 KiB (both specifications say so); a header counts only
# when its checksum makes the header's words sum to zero, as a loader checks it.
MB2_MAGIC, MB2_SEARCH = 0xE85250D6, 32768
MB1_MAGIC, MB1_SEARCH = 0x1BADB002, 8192
# Xen's common/version.c strings sit together in .rodata; xen_deny() returns "<denied>",
# which the linker places right after the extra version (".7").
_DENIED = b"<denied>\0"
_EXTRA_RE = re.compile(r"[.\-+~][0-9A-Za-z.+~_-]{0,31}")
_CONFIG_RE = re.compile(rb"^# Xen/(\S+) (\d+\.\d+\S*) Configuration", re.M)
_PE_MACHINES = {0x8664: "x86_64", 0xAA64: "arm64", 0x14C: "x86", 0x1C4: "arm",
                0x5064: "riscv64"}


def multiboot2(image: bytes) -> bool:
    """Whether a valid Multiboot2 header is where a loader looks for one."""
    for off in range(0, min(len(image), MB2_SEARCH) - 15, 8):
        magic, arch, length, checksum = struct.unpack_from("<IIII", image, off)
        if magic == MB2_MAGIC and (magic + arch + length + checksum) & 0xFFFFFFFF == 0:
            return True
    return False


def multiboot1(image: bytes) -> bool:
    for off in range(0, min(len(image), MB1_SEARCH) - 11, 4):
        magic, flags, checksum = struct.unpack_from("<III", image, off)
        if magic == MB1_MAGIC and (magic + flags + checksum) & 0xFFFFFFFF == 0:
            return True
    return False


def version_from_strings(image: bytes) -> tuple[str | None, str | None]:
    """(version, extra version) from the version strings Xen compiles in.

    Xen keeps its major and minor numbers as integer constants (xen_major_version()
    returns XEN_VERSION), so no "4.17" string of its own is in the image, and the boot
    banner is figlet art. What is text is version.c's block: compile date, builder,
    changeset, compiler, then the extra version (".7") just before "<denied>". A
    distribution build names its own version there (Debian: "4.17.7+13-g2445b30a44-0+
    deb12u1"); a version is reported only when such a string starts with major.minor
    followed by exactly that extra version, so the two strings vouch for each other.
    Otherwise only the extra version is returned, and the hypervisor's own config (whose
    header states the full version) may complete it."""
    start = 0
    while (at := image.find(_DENIED, start)) > 0:
        start = at + 1
        before = [s for s in image[max(0, at - 1024):at].split(b"\0") if s]
        if len(before) < 2:
            continue
        try:
            extra = before[-1].decode("ascii")
        except UnicodeDecodeError:
            continue
        if not _EXTRA_RE.fullmatch(extra):
            continue
        pattern = re.compile(r"(\d+)\.(\d+)" + re.escape(extra) + r"(?:$|[+~-])")
        for raw in reversed(before[-6:-1]):
            m = pattern.match(raw.decode("ascii", "replace"))
            if m:
                return f"{m.group(1)}.{m.group(2)}{extra}", extra
        return None, extra
    return None, None


def is_xen_elf(head: bytes) -> bool:
    """An ELF executable that carries a Multiboot header: a hypervisor, not a Linux vmlinux."""
    return head.startswith(ELF_MAGIC) and (multiboot2(head) or multiboot1(head))


def _elf_info(image: bytes) -> HypervisorInfo:
    # imported here: pyelftools costs every `xenlint` start-up ~50 ms, and few runs hold
    # a hypervisor
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        elf = ELFFile(io.BytesIO(image))
        machine = elf.header["e_machine"]
        build_id = None
        for sec in elf.iter_sections():
            if sec.header["sh_type"] != "SHT_NOTE":
                continue
            for note in sec.iter_notes():  # type: ignore[attr-defined]
                if note["n_type"] == "NT_GNU_BUILD_ID":
                    build_id = str(note["n_desc"])
    except (ELFError, struct.error, ValueError, KeyError) as exc:
        raise ArtifactError(f"is a corrupt ELF image ({exc})") from None
    # EM_386 is mkelf32's 32-bit wrapper that multiboot loaders want: x86 Xen has been
    # 64-bit only since 4.3, so the hypervisor inside runs x86_64
    arch = {"EM_386": "x86_64", "EM_X86_64": "x86_64", "EM_AARCH64": "arm64",
            "EM_ARM": "arm", "EM_RISCV": "riscv64", "EM_PPC64": "ppc64"}.get(str(machine))
    version, extra = version_from_strings(image)
    return HypervisorInfo("elf", version=version, arch=arch, multiboot2=multiboot2(image),
                          multiboot=multiboot1(image), build_id=build_id,
                          version_source="version strings" if version else None,
                          extra_version=extra)


def _xen_artifact(source: Source, info: HypervisorInfo) -> Artifact:
    if info.extra_version is None:
        raise ArtifactError(f"is a {info.format.upper()} image without Xen's version strings "
                            "(not a Xen hypervisor)")
    return Artifact(source.display, Kind.HYPERVISOR, hypervisor=info)


@inner_format(is_xen_elf, "xen")
def _read_compressed(source: Source, ctx: ReadContext, compression: str) -> Artifact:
    art = _xen_artifact(source, _elf_info(decompress_held(source, ctx, "hypervisor image")))
    art.meta = replace(art.meta, compression=compression)
    return art


def _sniff_elf(head: bytes, source: Source) -> bool:
    # a loader looks for the header in the first 32 KiB, more than the usual head
    return head.startswith(ELF_MAGIC) and is_xen_elf(source.head(MB2_SEARCH))


@reader("xen-elf", sniff=_sniff_elf, priority=45, nested=NESTED)
def read_elf(source: Source, ctx: ReadContext) -> Artifact:
    return _xen_artifact(source, _elf_info(source.read_held(ctx.limits.max_held_bytes)))


def _is_pe(head: bytes) -> bool:
    """A PE/COFF image that is not a Linux bzImage or EFI zboot (the kernel reader's)."""
    if not head.startswith(b"MZ") or len(head) < 0x40:
        return False
    if head[0x202:0x206] == b"HdrS" or head[4:8] == b"zimg":
        return False
    pe_off = int.from_bytes(head[0x3C:0x40], "little")
    return pe_off + 4 <= len(head) and head[pe_off:pe_off + 4] == b"PE\0\0"


def _pe_problem(image: bytes) -> str | None:
    """Why a PE/COFF image cannot be read whole, or None: pefile is lenient with images cut
    short, so sections running past the end are looked for here."""
    try:
        pe = pefile.PE(data=image, fast_load=True)
    except (pefile.PEFormatError, AttributeError, struct.error) as exc:
        return f"is a corrupt PE/COFF image ({str(exc).strip() or type(exc).__name__})"
    try:
        for sec in pe.sections:
            end = sec.PointerToRawData + sec.SizeOfRawData
            if sec.SizeOfRawData and end > len(image):
                name = sec.Name.rstrip(b"\0").decode("ascii", "replace")
                return (f"is truncated: PE section {name} ends at byte {end}, "
                        f"the file at {len(image)}")
    finally:
        pe.close()
    return None


def _sniff_pe(head: bytes, source: Source) -> bool:
    """PE/COFF holding Xen's version strings, or one too broken to tell: an EFI application
    is known for Xen's only by what it says inside, so the sniff looks through the file
    (capped: xen.efi is ~3 MB)."""
    if not _is_pe(head) or source.size > 64 << 20:
        return False
    if source.data is not None:
        image = source.data
    else:
        with source.open() as f:
            image = f.read()
    return _DENIED in image or _pe_problem(image) is not None


@reader("xen-efi", sniff=_sniff_pe, priority=46, nested=NESTED)
def read_pe(source: Source, ctx: ReadContext) -> Artifact:
    image = source.read_held(ctx.limits.max_held_bytes)
    problem = _pe_problem(image)
    if problem is not None:
        raise ArtifactError(problem)
    pe = pefile.PE(data=image, fast_load=True)
    machine, subsystem = pe.FILE_HEADER.Machine, pe.OPTIONAL_HEADER.Subsystem
    pe.close()
    version, extra = version_from_strings(image)
    info = HypervisorInfo("pe", version=version, arch=_PE_MACHINES.get(machine),
                          multiboot2=multiboot2(image), multiboot=multiboot1(image),
                          version_source="version strings" if version else None,
                          extra_version=extra)
    # 10 is IMAGE_SUBSYSTEM_EFI_APPLICATION: what firmware and `chainloader` start
    return _xen_artifact(source, replace(info, efi_application=subsystem == 10))


def is_xen_config(head: bytes) -> bool:
    return b"\0" not in head and _CONFIG_RE.search(head[:512]) is not None


@reader("xen-config", sniff=lambda head, source: is_xen_config(head), priority=79)
def read_config(source: Source, ctx: ReadContext) -> Artifact:
    data = source.read_held(ctx.limits.max_held_bytes)
    if b"\0" in data:
        raise ArtifactError("is not text: holds NUL bytes")
    text = data.decode("utf-8", "replace")
    m = _CONFIG_RE.search(data[:512])
    assert m is not None  # the sniff saw it
    config = parse_config(text)
    if not config:
        raise ArtifactError("holds no CONFIG_ options")
    arch = m.group(1).decode("ascii", "replace")
    info = HypervisorInfo("kconfig", version=m.group(2).decode("ascii", "replace"),
                          arch={"x86": "x86_64", "arm": None}.get(arch, arch), config=config,
                          version_source="kconfig header")
    return Artifact(source.display, Kind.HYPERVISOR, hypervisor=info)


def _stem(path: str) -> str:
    """/boot/xen-4.17-amd64.gz -> /boot/xen-4.17-amd64: an image and its config share it."""
    return re.sub(r"\.(gz|efi|config)$", "", path.rsplit("!", 1)[-1])


@deriver
def pair_with_config(art: Artifact, ctx: ReadContext) -> None:
    """Give each hypervisor image of a package or root the Kconfig shipped beside it, and
    the version that config states when the image's own strings stop at the extra one."""
    if art.kind not in (Kind.DEB, Kind.RPM, Kind.DIRECTORY, Kind.INSTALLED):
        return
    for path in sorted(p for p in art.entries if fnmatch.fnmatchcase(p, CONFIGS)):
        data = art.read(path)
        if data is not None and is_xen_config(data[:HEAD_BYTES]):
            child = read_member(f"{art.path}!{path}", data, ctx)
            if child is not None:
                art.children.append(child)
    configs = {_stem(c.path): c.hypervisor for c in art.children
               if c.hypervisor is not None and c.hypervisor.format == "kconfig"}
    for child in art.children:
        info = child.hypervisor
        if info is None or info.format == "kconfig":
            continue
        cfg = configs.get(_stem(child.path))
        if cfg is None:
            continue
        version, source = info.version, info.version_source
        if (version is None and cfg.version and info.extra_version
                and cfg.version.endswith(info.extra_version)):
            version, source = cfg.version, "sibling config"
        child.hypervisor = replace(info, config=cfg.config, version=version,
                                   version_source=source)

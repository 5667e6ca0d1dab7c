"""Kernel configs (`/boot/config-*`, `.config`): every option, `# CONFIG_X is not set` as "n"."""

from __future__ import annotations

import re

from xenlint.artifact import Artifact, KernelRelease, Kind, ReaderNotes
from xenlint.limits import ArtifactError
from xenlint.readers import ReadContext, Source, reader
from xenlint.readers.compressed import decompress_held, inner_format

_SET_RE = re.compile(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
_UNSET_RE = re.compile(r"^# (CONFIG_[A-Za-z0-9_]+) is not set\s*$")
_ANY_RE = re.compile(rb"^(?:CONFIG_[A-Za-z0-9_]+=|# CONFIG_[A-Za-z0-9_]+ is not set)", re.M)
_HEADER_RE = re.compile(r"^# (Linux|Xen)/(\S+) (\S+) Kernel Configuration", re.M)
# a Kconfig is plain text: only tab, newline and carriage return among control characters
_BINARY_RE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_XEN_HEADER_RE = re.compile(rb"^# Xen/\S+ \S+ Configuration", re.M)

NESTED = ("/boot/config-*", "/usr/lib/modules/*/config", "/lib/modules/*/config")


def parse_config(text: str) -> dict[str, str]:
    """Options in file order; values as written (strings keep their quotes)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = _SET_RE.match(line)
        if m:
            out[m.group(1)] = m.group(2).strip()
            continue
        m = _UNSET_RE.match(line)
        if m:
            out[m.group(1)] = "n"
    return out


def is_kconfig(head: bytes) -> bool:
    """A Linux kernel config: text with CONFIG_ lines, and not Xen's own hypervisor Kconfig."""
    if b"\0" in head or _XEN_HEADER_RE.search(head[:512]):
        return False
    return _ANY_RE.search(head) is not None


def release_from_name(display: str) -> str | None:
    name = display.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
    if name.startswith("config-") and len(name) > 7:
        return name[7:]
    parts = display.rsplit("!", 1)[-1].split("/")
    if name == "config" and len(parts) >= 3 and parts[-3] == "modules":
        return parts[-2]
    return None


def config_artifact(source: Source, text: str) -> Artifact:
    art = Artifact(source.display, Kind.KERNEL_CONFIG, config=parse_config(text))
    if not art.config:
        raise ArtifactError("holds no CONFIG_ options")
    release = release_from_name(source.display)
    m = _HEADER_RE.search(text[:2048])
    art.kernel = (KernelRelease(release, config_arch=m.group(2), version=m.group(3)) if m
                  else KernelRelease(release))
    return art


def _read_text(data: bytes, ctx: ReadContext) -> str:
    if len(data) > ctx.limits.max_held_bytes:
        raise ArtifactError(f"is larger than {ctx.limits.max_held_bytes} bytes (max_held_bytes)")
    m = _BINARY_RE.search(data)
    if m:
        raise ArtifactError(f"is not text: binary data (control character "
                            f"0x{m.group(0)[0]:02x}) at offset {m.start()}")
    return data.decode("utf-8", "replace")


@reader("kconfig", sniff=lambda head, source: is_kconfig(head), priority=80, nested=NESTED)
def read_kconfig(source: Source, ctx: ReadContext) -> Artifact:
    return config_artifact(source, _read_text(source.read_held(ctx.limits.max_held_bytes), ctx))


@inner_format(is_kconfig, "kconfig")
def _read_compressed(source: Source, ctx: ReadContext, compression: str) -> Artifact:
    art = config_artifact(source, _read_text(decompress_held(source, ctx, "config"), ctx))
    art.meta = ReaderNotes(compression=compression)
    return art

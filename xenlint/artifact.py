"""The one artifact view that every reader produces and every fact reads."""

from __future__ import annotations

import copyreg
import dataclasses
import enum
import functools
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple, cast


class Kind(enum.StrEnum):
    DEB = "deb"
    RPM = "rpm"
    DIRECTORY = "directory"
    KERNEL_IMAGE = "kernel-image"
    KERNEL_CONFIG = "kernel-config"
    KERNEL_MODULE = "kernel-module"
    MODULE_TREE = "module-tree"
    INITRAMFS = "initramfs"
    ISO = "iso"
    HYPERVISOR = "hypervisor"
    INSTALLED = "installed-package"
    FILE = "file"


class EntryType(enum.StrEnum):
    FILE = "file"
    DIRECTORY = "directory"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    CHAR = "char"
    BLOCK = "block"
    FIFO = "fifo"
    SOCKET = "socket"


class Entry(NamedTuple):
    """One member of an artifact. `path` is absolute and normalised (never holds `..`).

    A named tuple, not a dataclass: views travel from audit workers as pickles of
    thousands of entries (and are cached as columns, audit/codec.py), and a tuple is built
    in C without a Python call (Artifact.__reduce__)."""

    path: str
    type: EntryType
    mode: int = 0o644
    size: int = 0
    link_target: str | None = None

    @property
    def executable(self) -> bool:
        return self.type in (EntryType.FILE, EntryType.HARDLINK) and bool(self.mode & 0o111)


@dataclass(slots=True)
class Package:
    """Package identity and relations, as the package writes them (Debian or RPM syntax)."""

    name: str
    version: str
    architecture: str = ""
    epoch: str | None = None
    release: str | None = None
    flavor: str = "deb"  # "deb" or "rpm": which relation syntax and version ordering apply
    depends: list[str] = field(default_factory=list)
    pre_depends: list[str] = field(default_factory=list)
    recommends: list[str] = field(default_factory=list)
    suggests: list[str] = field(default_factory=list)
    provides: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    breaks: list[str] = field(default_factory=list)
    # maintainer scripts / scriptlets by name (postinst, %post, ...), with their text
    scripts: dict[str, str] = field(default_factory=dict)
    # scriptlet interpreters for RPM (e.g. {"post": "/bin/sh"})
    interpreters: dict[str, str] = field(default_factory=dict)
    triggers: list[str] = field(default_factory=list)
    conffiles: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    payload_compression: str | None = None


class ReaderInfo:
    """Base of the facts a reader records in an artifact's typed slots.

    A field in `OPTIONAL` is a key the reader fills only when the input shows it: at its
    default it means "not shown", and `to_json()` leaves the key out, so
    `inspect --format json` prints exactly what was read. Other fields are always
    printed, null included."""

    __slots__ = ()
    OPTIONAL: ClassVar[frozenset[str]] = frozenset()

    def to_json(self) -> dict[str, Any]:
        unset = {f.name: f.default for f in dataclasses.fields(cast(Any, self))
                 if f.name in self.OPTIONAL}
        out = dataclasses.asdict(cast(Any, self))
        return {k: v for k, v in out.items() if k not in unset or v != unset[k]}


@dataclass(frozen=True, slots=True)
class ReaderNotes(ReaderInfo):
    """How a reader found an input (compressions, offsets) and where an audit's
    index-only view came from. Informative in `inspect`; `metadata_only` and `index` tell
    facts that a file list is missing or partial."""

    compression: str | None = None  # of a bare module, config or initramfs
    control_members: list[str] | None = None  # .deb: the files in control.tar
    control_compression: str | None = None
    data_compression: str | None = None
    payload_offset: int | None = None  # .rpm
    payload_compression: str | None = None
    payload_bytes_scanned: int | None = None  # kernel image: decompressed bytes read
    # built from a repository index without opening the package: its entries come from
    # filelists/Contents (or are empty) and its scripts are absent
    metadata_only: bool = False
    index: str | None = None  # which index: "Packages", "Contents", "primary", "filelists"
    # its Contents list holds only the paths the audit's selected facts declare (facts.Paths)
    trimmed: bool = False
    # an installed root: which database listed its packages ("dpkg", "rpm")
    package_db: str | None = None
    # an installed package: listed paths no longer in the root (the first 50)
    missing_files: list[str] | None = None

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({
        "compression", "control_members", "control_compression", "data_compression",
        "payload_offset", "payload_compression", "payload_bytes_scanned", "metadata_only",
        "index", "trimmed", "package_db", "missing_files"})


@dataclass(frozen=True, slots=True)
class KernelInfo(ReaderInfo):
    """A kernel image (bzImage, arm64 Image, EFI zboot, vmlinux ELF): its boot header and
    what one pass over the decompressed payload found (banner, ELF notes, IKCONFIG)."""

    format: str  # "bzImage", "arm64-image" or "elf"
    compression: str | None  # of the payload; None when the header is too old to locate it
    release: str | None = None  # from the banner or the header's version string
    version_string: str | None = None
    arch: str | None = None
    container: str | None = None  # "efi-zboot" for a zboot-wrapped Image
    # x86 boot protocol header
    boot_protocol: str | None = None
    setup_sects: int | None = None
    payload_offset: int | None = None
    payload_length: int | None = None
    decompressed_size: int | None = None
    # arm64 Image header
    text_offset: int | None = None
    image_size: int | None = None
    endian: str | None = None
    # from the payload
    ikconfig: bool | None = None
    ikconfig_error: str | None = None
    xen_notes: dict[str, Any] | None = None  # None: no ELF notes were read
    build_id: str | None = None

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({
        "version_string", "arch", "container", "boot_protocol", "setup_sects",
        "payload_offset", "payload_length", "decompressed_size", "text_offset", "image_size",
        "endian", "ikconfig", "ikconfig_error", "xen_notes", "build_id"})


@dataclass(frozen=True, slots=True)
class KernelRelease(ReaderInfo):
    """The kernel a config or a module tree belongs to; a config's header adds its
    architecture and version (`# Linux/x86 6.1.0 Kernel Configuration`)."""

    release: str | None
    config_arch: str | None = None
    version: str | None = None

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"config_arch", "version"})


@dataclass(frozen=True, slots=True)
class ModuleInfo(ReaderInfo):
    """One kernel module (.ko), from its .modinfo section."""

    name: str
    vermagic: str | None
    alias: list[str]
    depends: list[str]
    intree: bool
    description: str | None
    license: str | None
    signed: bool
    release: str | None  # the first word of vermagic


@dataclass(frozen=True, slots=True)
class ModuleTreeInfo(ReaderInfo):
    """A `[/usr]/lib/modules/<release>/` tree, from its file list and index files."""

    modules: list[str]
    builtin: list[str]
    path: str
    has_modules_dep: bool
    builtin_modinfo: list[str] | None = None  # None: no modules.builtin.modinfo
    dep: dict[str, list[str]] | None = None  # None: no modules.dep

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"builtin_modinfo", "dep"})


@dataclass(frozen=True, slots=True)
class Segment(ReaderInfo):
    """One segment of an initramfs: an uncompressed cpio, or a compressed stream holding
    one or more cpio archives."""

    offset: int
    compression: str
    format: str  # the cpio format ("newc", "crc", ...); "" when none was recognised
    files: int
    length: int
    decompressed_bytes: int | None = None  # compressed segments only
    trailing_data: bool = False  # bytes follow the last archive

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"decompressed_bytes", "trailing_data"})


@dataclass(frozen=True, slots=True)
class InitramfsInfo(ReaderInfo):
    """What an initramfs holds: its segments, modules, kernel releases and generator."""

    segments: list[Segment]
    modules: list[str]
    builtin_modules: list[str]
    kernel_releases: list[str]
    # "initramfs-tools", "dracut", "debian-installer", or None when not recognised
    generator: str | None
    settings: dict[str, str]
    early_microcode: bool
    listed_modules: list[str] | None = None  # initramfs-tools' conf/modules
    dracut_modules: list[str] | None = None  # dracut's modules.txt
    # fixed-disk controller drivers packed or in modules.builtin (block, ATA, NVMe, SCSI hosts)
    disk_drivers: list[str] = field(default_factory=list)

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"listed_modules", "dracut_modules"})

    def to_json(self) -> dict[str, Any]:
        out = ReaderInfo.to_json(self)
        out["segments"] = [s.to_json() for s in self.segments]
        return out


@dataclass(frozen=True, slots=True)
class IsoInfo(ReaderInfo):
    """An ISO 9660 image: its volume id, El Torito boot record and the nested kernels and
    ramdisks (paths inside the image)."""

    volume_id: str | None
    el_torito: bool
    kernels: list[str]
    ramdisks: list[str]


@dataclass(frozen=True, slots=True)
class HypervisorInfo(ReaderInfo):
    """What a Xen hypervisor image or its own Kconfig shows (`inspect`'s "hypervisor").
    None is "not shown by these bytes", never a guess."""

    format: str  # "elf" (xen.gz, xen-syms), "pe" (xen.efi) or "kconfig" (xen-*.config)
    version: str | None = None
    arch: str | None = None
    multiboot2: bool | None = None
    config: dict[str, str] | None = None
    multiboot: bool | None = None
    build_id: str | None = None
    # the extra version (".7") the image's strings show, even when major.minor are not
    extra_version: str | None = None
    # where `version` was read: "version strings", "kconfig header", "sibling config"
    version_source: str | None = None
    efi_application: bool | None = None  # PE subsystem 10: what firmware and chainloader run

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({
        "multiboot", "build_id", "extra_version", "version_source", "efi_application"})


# A loader is given a set of paths and returns the bytes it could read for them.
Loader = Callable[[set[str]], Mapping[str, bytes]]


@dataclass(slots=True)
class Artifact:
    """What a reader makes of one input: identity, entries, lazy contents and children.

    Kind-specific facts live in the optional slots (`kernel`, `config`, `module`,
    `initramfs`, `iso`), filled by the reader of that kind; `xenlint inspect` prints them
    with `ReaderInfo.to_json()`.
    """

    path: str
    kind: Kind
    package: Package | None = None
    entries: dict[str, Entry] = field(default_factory=dict)
    children: list[Artifact] = field(default_factory=list)
    error: str | None = None
    # an image's facts, or (configs, module trees) the release they belong to
    kernel: KernelInfo | KernelRelease | None = None
    config: dict[str, str] | None = None
    # one .ko, or a module tree
    module: ModuleInfo | ModuleTreeInfo | None = None
    initramfs: InitramfsInfo | None = None
    iso: IsoInfo | None = None
    hypervisor: HypervisorInfo | None = None
    # member names that were absolute or climbed out with `..`: kept as data, never followed
    unsafe_paths: list[str] = field(default_factory=list)
    meta: ReaderNotes = field(default_factory=ReaderNotes)
    sha256: str | None = None
    _captured: dict[str, bytes] = field(default_factory=dict, repr=False)
    _loader: Loader | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.path.rsplit("!", 1)[-1].rsplit("/", 1)[-1]

    @property
    def files(self) -> list[str]:
        return [p for p, e in self.entries.items() if e.type is not EntryType.DIRECTORY]

    def capture(self, path: str, data: bytes) -> None:
        """Keep the bytes of one member, read during the reader's pass or later."""
        self._captured[path] = data

    def captured(self, path: str) -> bytes | None:
        """The kept bytes of one member, without reading anything; None if not kept."""
        return self._captured.get(path)

    def captured_count(self) -> int:
        """How many members' bytes are kept. Kept bytes are only ever added, in order, so
        `captured_since(n)` gives what was kept after this count was n."""
        return len(self._captured)

    def captured_since(self, count: int) -> dict[str, bytes]:
        return dict(itertools.islice(self._captured.items(), count, None))

    def keep(self, contents: Mapping[str, bytes]) -> None:
        """Keep member bytes read elsewhere (another process), where not already kept."""
        for path, data in contents.items():
            self._captured.setdefault(path, data)

    @property
    def loader(self) -> Loader | None:
        """What reads members that were not kept; None: nothing more can be read."""
        return self._loader

    def set_loader(self, loader: Loader | None) -> None:
        self._loader = loader

    def read(self, path: str) -> bytes | None:
        """The bytes of one member, read lazily; None if absent or unreadable."""
        return self.read_many([path]).get(path)

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        wanted = {p for p in paths if p in self.entries}
        found = {p: self._captured[p] for p in wanted if p in self._captured}
        missing = wanted - found.keys()
        if missing and self._loader is not None:
            loaded = self._loader(missing)
            self._captured.update(loaded)
            found.update(loaded)
        return found

    def read_errors(self) -> list[tuple[str, str]]:
        """(path, message) for this artifact and every nested child that failed to read."""
        return [(a.path, a.error) for a in self.walk() if a.error]

    def walk(self) -> Iterable[Artifact]:
        """This artifact and every nested child, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def __reduce__(self) -> tuple[Callable[..., Artifact], tuple[object, ...], object]:
        # Views travel from audit workers as pickles of thousands of entries,
        # which the main process loads while the workers need its core. As columns, built
        # back into tuples in C, the entries load in a fraction of the time that one
        # object per entry takes. The other fields go as the usual slots state, which
        # pickle sets in C.
        state = cast(tuple[None, dict[str, Any]], object.__getstate__(self))  # made in C
        slots = state[1]
        if not self.entries:  # a header-only view (an archive index): the usual form
            return (_NEWOBJ, (Artifact,), state)
        del slots["entries"]
        return (_with_entries, (list(self.entries), *zip(*self.entries.values(), strict=True)),
                (None, slots))


# pickle writes a call of copyreg.__newobj__ as its own opcode, which it runs in C
_NEWOBJ: Callable[..., Artifact] = copyreg.__newobj__  # type: ignore[attr-defined]
# an Entry from its fields' tuple, with no Python call in between
_entry = cast(Callable[[tuple[Any, ...]], Entry], functools.partial(tuple.__new__, Entry))


def _with_entries(keys: list[str], *columns: tuple[Any, ...]) -> Artifact:
    """An Artifact holding only its entries, from the columns `__reduce__` writes."""
    art = Artifact.__new__(Artifact)
    art.entries = dict(zip(keys, map(_entry, zip(*columns, strict=True)), strict=True))
    return art

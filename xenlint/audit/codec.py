"""The cache's file format: every cached value as plain msgpack data, and back.

What the cache holds is data only: strings, numbers, booleans, byte strings, lists and
maps with string keys, no extension types. Each cached type has its own encoder here and
a decoder that checks the shape of what it reads against the type's fields before it
builds anything, so that bytes planted in (or damaged on) the cache's disk are at worst a
miss (`Malformed`), never code run and never a crash further on.

Records (the dataclasses of artifact.py and finding.py) are lists of their fields in
declaration order, checked against the fields' annotations. An artifact's entries, which
number in the thousands, are columns (paths, types, modes, sizes, link targets) rather
than one list per entry: they pack and unpack in C. A view's loader is not data: a view
that had one comes back with `REOPEN`, which the caller replaces (worker.relocate). Each
entry ends with the sha256 of its msgpack bytes (see DIGEST).
"""

from __future__ import annotations

import array
import dataclasses
import enum
import functools
import hashlib
import sys
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Any, Generic, TypeVar, cast

import msgpack

from xenlint.artifact import (
    Artifact,
    Entry,
    EntryType,
    HypervisorInfo,
    InitramfsInfo,
    IsoInfo,
    KernelInfo,
    KernelRelease,
    Kind,
    ModuleInfo,
    ModuleTreeInfo,
    Package,
    ReaderNotes,
    Segment,
)
from xenlint.audit.model import AuditStats
from xenlint.finding import Finding, ReadError, Remedy, Report, RuleInfo, Unknown

T = TypeVar("T")
Check = Callable[[Any], Any]


class Malformed(ValueError):
    """Cached bytes that are not what the cache writes: treated as a miss."""


# Each entry is its msgpack value followed by the sha256 of those bytes. A value damaged
# on disk (a flipped bit, a file cut short) could otherwise still decode to a value of the
# right shape with other contents; the digest is no defence against whoever may write
# the cache (they can recompute it), which is why its root must be the user's own.
DIGEST = 32


class _Sealed:
    """A writable file that hashes what goes through it, then appends the digest."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.hash = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.hash.update(data)
        self.out.write(data)

    def close(self) -> None:
        self.out.write(self.hash.digest())


def pack(value: Any) -> bytes:
    data = cast(bytes, msgpack.packb(value, use_bin_type=True))
    return data + hashlib.sha256(data).digest()


def unpack(data: bytes) -> Any:
    """Plain data from a sealed entry: its digest must match, and its msgpack holds string
    map keys only, and no extension type (the hook refuses each, the timestamp
    included)."""
    body = memoryview(data)[:-DIGEST]  # no copy of a large entry
    if len(data) < DIGEST or hashlib.sha256(body).digest() != data[-DIGEST:]:
        raise Malformed("damaged: the digest does not match")
    try:
        return msgpack.unpackb(body, raw=False, strict_map_key=True, ext_hook=_no_ext,
                               timestamp=0)
    except Malformed:
        raise
    # msgpack's errors (ExtraData, FormatError, StackError) are ValueErrors; a map key of
    # the wrong type is a TypeError or a ValueError
    except (ValueError, TypeError, RecursionError) as exc:
        raise Malformed(f"not msgpack data ({type(exc).__name__})") from None


def _no_ext(code: int, data: bytes) -> Any:
    raise Malformed(f"msgpack extension type {code}")


def _fail(what: str, value: Any) -> Any:
    raise Malformed(f"expected {what}, found {type(value).__name__}")


def _only(values: Iterable[Any], allowed: frozenset[type]) -> bool:
    """Whether every value is of exactly one of these types (bool is no int here); the
    types are collected in C, which matters for columns of thousands."""
    return set(map(type, values)) <= allowed


_STR: frozenset[type] = frozenset({str})
_INT: frozenset[type] = frozenset({int})
_OPT_STR: frozenset[type] = frozenset({str, type(None)})
_NUMBER: frozenset[type] = frozenset({int, float})


def _exact(tp: type) -> Check:
    def check(v: Any) -> Any:
        return v if type(v) is tp else _fail(tp.__name__, v)
    return check


def _number(v: Any) -> float:
    return cast(float, v) if type(v) in _NUMBER else cast(float, _fail("a number", v))


def _none(v: Any) -> None:
    return None if v is None else cast(None, _fail("nil", v))


def _plain(v: Any) -> Any:
    """Any plain value (what a reader keeps as `Any`, e.g. a kernel's Xen notes)."""
    tv = type(v)
    if tv in (str, int, float, bool, bytes) or v is None:
        return v
    if tv is list:
        return [_plain(x) for x in v]
    if tv is dict:
        return {_exact(str)(k): _plain(x) for k, x in v.items()}
    return _fail("plain data", v)


def _optional(check: Check) -> Check:
    def opt(v: Any) -> Any:
        return None if v is None else check(v)
    return opt


def _list(check: Check, allowed: frozenset[type] | None, make: type = list) -> Check:
    def seq(v: Any) -> Any:
        if type(v) is not list:
            return _fail("an array", v)
        if allowed is not None:  # elements of primitive types: checked in C
            if not _only(v, allowed):
                return _fail("an array of " + "/".join(t.__name__ for t in allowed), v)
            return v if make is list else make(v)
        return make(map(check, v))
    return seq


def _dict(check: Check, allowed: frozenset[type] | None) -> Check:
    def mapping(v: Any) -> Any:
        if type(v) is not dict:
            return _fail("a map", v)
        if not _only(v, _STR):  # strict_map_key lets byte-string keys through
            return _fail("string keys", v)
        if allowed is not None:
            return v if _only(v.values(), allowed) else _fail("plain map values", v)
        return {k: check(x) for k, x in v.items()}
    return mapping


def _enum(cls: type[enum.Enum]) -> Check:
    by_value = {m.value: m for m in cls}

    def member(v: Any) -> Any:
        if type(v) is str and v in by_value:
            return by_value[v]
        return _fail(cls.__name__, v)
    return member


def _primitive(hint: Any) -> frozenset[type] | None:
    """The exact types a value of this annotation may have, when it is a primitive one."""
    if hint in (str, int, bool):
        return frozenset({hint})
    if hint is float:
        return _NUMBER
    if hint is type(None):
        return frozenset({type(None)})
    if isinstance(hint, types.UnionType):
        parts = [_primitive(a) for a in typing.get_args(hint)]
        if all(p is not None for p in parts):
            return frozenset().union(*cast(list[frozenset[type]], parts))
    return None


def _checker(hint: Any) -> Check:
    """A function that checks a decoded value against the annotation and builds it."""
    prim = _primitive(hint)
    if prim is not None:
        if prim == _NUMBER:
            return _number
        if len(prim) == 1:
            return _exact(next(iter(prim))) if hint is not type(None) else _none
        return lambda v: v if type(v) in prim else _fail(str(hint), v)
    if hint is Any:
        return _plain
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum(hint)
    if isinstance(hint, type) and hint in RECORDS:
        return RECORDS[hint].decode
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if isinstance(hint, types.UnionType):
        others = [a for a in args if a is not type(None)]
        if len(others) == 1 and len(args) == 2:
            return _optional(_checker(others[0]))
        return _union(hint)
    if origin is list:
        return _list(_checker(args[0]), _primitive(args[0]))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return _list(_checker(args[0]), _primitive(args[0]), tuple)
    if origin is tuple:
        checks = [_checker(a) for a in args]

        def fixed(v: Any) -> Any:
            if type(v) is not list or len(v) != len(checks):
                return _fail(f"an array of {len(checks)}", v)
            return tuple(c(x) for c, x in zip(checks, v, strict=True))
        return fixed
    if origin is dict and args[0] is str:
        return _dict(_checker(args[1]), _primitive(args[1]))
    raise TypeError(f"no codec for {hint!r}")  # a programming error, met at import


def _union(hint: Any) -> Check:
    """Several records (KernelInfo | KernelRelease | None): [index in the union, record]."""
    options = [a for a in typing.get_args(hint) if a is not type(None)]
    decoders = [RECORDS[a].decode for a in options]

    def one_of(v: Any) -> Any:
        if v is None and type(None) in typing.get_args(hint):
            return None
        if type(v) is not list or len(v) != 2 or type(v[0]) is not int \
                or not 0 <= v[0] < len(decoders):
            return _fail("a tagged record", v)
        return decoders[v[0]](v[1])
    return one_of


def _encoder(hint: Any) -> Callable[[Any], Any] | None:
    """What turns a field's value into plain data; None where it already is (str, int,
    enum members as str subclasses, lists and tuples and maps of those)."""
    if isinstance(hint, type) and hint in RECORDS:
        return RECORDS[hint].encode
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if isinstance(hint, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            inner = _encoder(options[0])
            return None if inner is None else _maybe(inner)
        if any(o in RECORDS for o in options):
            records = [(o, RECORDS[o].encode) for o in options]

            def tagged(v: Any) -> Any:
                if v is None:
                    return None
                for k, (o, enc) in enumerate(records):
                    if type(v) is o:
                        return [k, enc(v)]
                raise TypeError(f"no codec for {type(v).__name__}")
            return tagged
        return None
    if origin in (list, tuple) and args:
        inner = _encoder(args[0])
        return None if inner is None else _each(inner)
    if origin is dict:
        inner = _encoder(args[1])
        return None if inner is None else _values(inner)
    return None


def _maybe(encode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: None if v is None else encode(v)


def _each(encode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: [encode(x) for x in v]


def _values(encode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: {k: encode(x) for k, x in v.items()}


class _Record(Generic[T]):
    """A dataclass as the list of its fields, checked field by field on decode."""

    def __init__(self, cls: type[T]) -> None:
        self.cls = cls
        self.names: list[str] = []
        self.hints: list[Any] = []
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cast(Any, cls)):
            self.names.append(f.name)
            self.hints.append(hints[f.name])

    @functools.cached_property
    def _checks(self) -> list[Check]:
        return [_checker(h) for h in self.hints]

    @functools.cached_property
    def _encoders(self) -> list[tuple[str, Callable[[Any], Any] | None]]:
        return [(n, _encoder(h)) for n, h in zip(self.names, self.hints, strict=True)]

    def encode(self, obj: T) -> list[Any]:
        return [getattr(obj, n) if enc is None else enc(getattr(obj, n))
                for n, enc in self._encoders]

    def decode(self, data: Any) -> T:
        checks = self._checks
        if type(data) is not list or len(data) != len(checks):
            return cast(T, _fail(f"{self.cls.__name__} ({len(checks)} fields)", data))
        return self.cls(*[c(v) for c, v in zip(checks, data, strict=True)])


RECORDS: dict[type, _Record[Any]] = {}


def _records(*classes: type) -> None:
    for cls in classes:
        RECORDS[cls] = _Record(cls)


# every record a cached value holds; a record's checks are made on its first use, when
# the records it nests are all known
_records(Package, ReaderNotes, KernelInfo, KernelRelease, ModuleInfo, ModuleTreeInfo, Segment,
         InitramfsInfo, IsoInfo, HypervisorInfo, Remedy, Finding, Unknown, ReadError, RuleInfo,
         Report, AuditStats)


@dataclass(frozen=True, slots=True)
class _Reopen:
    """Stands for the loader of a cached view until the caller gives it one that reads
    the file where it now is; it reads nothing."""

    def __call__(self, paths: set[str]) -> Mapping[str, bytes]:
        return {}


REOPEN = _Reopen()

# an artifact's fields, in order: path, kind, package, entries, children, error, kernel,
# config, module, initramfs, iso, hypervisor, unsafe paths, reader notes, sha256, kept
# member contents, whether it had a loader
_ARTIFACT_FIELDS = 17
_TYPES = tuple(EntryType)
_TYPE_INDEX = {t: i for i, t in enumerate(_TYPES)}
_KIND = _enum(Kind)
_entry = cast(Callable[[tuple[Any, ...]], Entry], functools.partial(tuple.__new__, Entry))


@functools.cache
def _field(name: str) -> tuple[Callable[[Any], Any] | None, Check]:
    hint = typing.get_type_hints(Artifact)[name]
    return _encoder(hint), _checker(hint)


def encode_artifact(art: Artifact) -> list[Any]:
    return [art.path, art.kind.value,
            None if art.package is None else RECORDS[Package].encode(art.package),
            _encode_entries(art.entries), [encode_artifact(c) for c in art.children],
            art.error, *(_code(n, getattr(art, n)) for n in _INFOS),
            art.config, art.unsafe_paths, RECORDS[ReaderNotes].encode(art.meta), art.sha256,
            art.captured_since(0), art.loader is not None]


_INFOS = ("kernel", "module", "initramfs", "iso", "hypervisor")


def _code(name: str, value: Any) -> Any:
    enc = _field(name)[0]
    return value if enc is None else enc(value)


def _encode_entries(entries: dict[str, Entry]) -> list[Any] | None:
    """[keys, paths, types, modes, sizes, link positions, link targets]. Keys are one
    NUL-joined string (no member name holds a NUL), paths nil when they are the keys,
    types one byte each, modes and sizes little-endian int64 arrays, and link targets
    only where an entry has one: thousands of entries then cost a few msgpack values,
    split and converted in C. A column that does not fit its compact form (a key with a
    NUL, a size past int64) is written as an array of values instead."""
    if not entries:
        return None
    keys = list(entries)
    paths, kinds, modes, sizes, links = zip(*entries.values(), strict=True)
    index = _TYPE_INDEX
    joined = "\0".join(keys)
    linked = [i for i, t in enumerate(links) if t is not None]
    return [joined if joined.count("\0") == len(keys) - 1 else keys,
            None if list(paths) == keys else list(paths),
            bytes(map(index.__getitem__, kinds)), _int64s(modes), _int64s(sizes),
            linked, [links[i] for i in linked]]


def _int64s(values: tuple[int, ...]) -> int | bytes | list[int]:
    first = values[0]
    if type(first) is int and values.count(first) == len(values):
        return first  # one value for all (file lists from an index: 0o644, size 0)
    try:
        column = array.array("q", values)
    except OverflowError:
        return list(values)
    if _SWAP:
        column.byteswap()
    return column.tobytes()


_SWAP = sys.byteorder != "little"
_ENTRY_COLUMNS = 7


def _ints(data: Any, n: int) -> list[int]:
    """A column of n integers, from its one value, its int64 bytes or its array form."""
    if type(data) is int:
        return [data] * n
    if type(data) is bytes and len(data) == 8 * n:
        column = array.array("q")
        column.frombytes(data)
        if _SWAP:
            column.byteswap()
        return column.tolist()
    if type(data) is list and len(data) == n and _only(data, _INT):
        return data
    return cast(list[int], _fail(f"{n} integers", data))


def _decode_entries(data: Any) -> dict[str, Entry]:
    if data is None:
        return {}
    if type(data) is not list or len(data) != _ENTRY_COLUMNS:
        return cast(dict[str, Entry], _fail("entry columns", data))
    keys, paths, kinds, modes, sizes, linked, targets = data
    if type(keys) is str:
        keys = keys.split("\0")
    elif type(keys) is not list or not _only(keys, _STR):
        return cast(dict[str, Entry], _fail("entry keys", keys))
    n = len(keys)
    if paths is None:
        paths = keys
    elif type(paths) is not list or len(paths) != n or not _only(paths, _STR):
        return cast(dict[str, Entry], _fail("entry paths", paths))
    if type(kinds) is not bytes or len(kinds) != n or (kinds and max(kinds) >= len(_TYPES)):
        return cast(dict[str, Entry], _fail("entry types", kinds))
    links: list[str | None] = [None] * n
    if type(linked) is not list or type(targets) is not list or len(linked) != len(targets) \
            or not _only(linked, _INT) or not _only(targets, _STR) \
            or (linked and not (min(linked) >= 0 and max(linked) < n)):
        return cast(dict[str, Entry], _fail("link targets", data))
    for i, target in zip(linked, targets, strict=True):
        links[i] = target
    return dict(zip(keys, map(_entry, zip(paths, map(_TYPES.__getitem__, kinds),
                                          _ints(modes, n), _ints(sizes, n), links,
                                          strict=True)), strict=True))


def decode_artifact(data: Any) -> Artifact:
    if type(data) is not list or len(data) != _ARTIFACT_FIELDS:
        return cast(Artifact, _fail("an artifact", data))
    (path, kind, package, entries, children, error, kernel, module, initramfs, iso,
     hypervisor, config, unsafe, meta, sha256, captured, reopen) = data
    if type(path) is not str or type(children) is not list or type(reopen) is not bool \
            or type(captured) is not dict or type(unsafe) is not list \
            or not _only((error, sha256), _OPT_STR) or not _only(unsafe, _STR):
        return cast(Artifact, _fail("an artifact", data))
    art = Artifact(
        path, _KIND(kind),
        None if package is None else RECORDS[Package].decode(package),
        _decode_entries(entries), [decode_artifact(c) for c in children], error,
        _field("kernel")[1](kernel), _field("config")[1](config),
        _field("module")[1](module), _field("initramfs")[1](initramfs),
        _field("iso")[1](iso), _field("hypervisor")[1](hypervisor), unsafe,
        RECORDS[ReaderNotes].decode(meta), sha256)
    if captured:
        if not (_only(captured, _STR) and _only(captured.values(), frozenset({bytes}))):
            return cast(Artifact, _fail("member contents", captured))
        art.keep(captured)
    if reopen:
        art.set_loader(REOPEN)
    return art


def _list_of(decode: Callable[[Any], T], data: Any) -> list[T]:
    if type(data) is not list:
        return cast(list[T], _fail("an array", data))
    return [decode(x) for x in data]


def _strings(data: Any) -> list[str]:
    if type(data) is not list or not _only(data, _STR):
        return cast(list[str], _fail("an array of strings", data))
    return data


# -- what each cache layer stores ---------------------------------------------------------

def _decoder(decode: Callable[[bytes], T]) -> Callable[[bytes], T]:
    """Any failure to build a value from the bytes read is a miss: data nested deeper than
    Python recurses, or a check this module lacks, must not crash the audit."""
    @functools.wraps(decode)
    def guarded(data: bytes) -> T:
        try:
            return decode(data)
        except Malformed:
            raise
        except (RecursionError, TypeError, KeyError, IndexError, ValueError) as exc:
            raise Malformed(f"{type(exc).__name__} while decoding") from None
    return guarded


def encode_view(display: str, art: Artifact | None) -> bytes:
    """A view cache entry: the display path it was read under, and the view (None: a file
    in a tree that is no format xenlint reads)."""
    return pack([display, None if art is None else encode_artifact(art)])


@_decoder
def decode_view(data: bytes) -> tuple[Artifact | None, str]:
    value = unpack(data)
    if type(value) is not list or len(value) != 2 or type(value[0]) is not str:
        return cast(tuple[Artifact | None, str], _fail("a view entry", value))
    return (None if value[1] is None else decode_artifact(value[1])), value[0]


def encode_report(report: Report) -> bytes:
    return pack(RECORDS[Report].encode(report))


@_decoder
def decode_report(data: bytes) -> Report:
    return cast(Report, RECORDS[Report].decode(unpack(data)))


def encode_run(report: Report, stats: Mapping[str, Any], status: int) -> bytes:
    """A run memo: the report, the statistics (the fields of AuditStats, by name) and the
    exit status."""
    record = RECORDS[AuditStats]
    return pack([RECORDS[Report].encode(report),
                 record.encode(AuditStats(**stats)), status])


@_decoder
def decode_run(data: bytes) -> tuple[Report, dict[str, Any], int]:
    value = unpack(data)
    if type(value) is not list or len(value) != 3 or type(value[2]) is not int:
        return cast(tuple[Report, dict[str, Any], int], _fail("a run memo", value))
    stats = RECORDS[AuditStats].decode(value[1])
    return (RECORDS[Report].decode(value[0]),
            {f.name: getattr(stats, f.name) for f in dataclasses.fields(stats)}, value[2])


@dataclass(frozen=True, slots=True)
class Codec(Generic[T]):
    """How one kind of index parse is stored (Cache.memo): written to a file piece by
    piece, so that the packed form of an archive's parse need not sit in memory whole."""

    encode: Callable[[T, IO[bytes]], None]
    decode: Callable[[bytes], T]


def _write_artifacts(arts: list[Artifact], out: _Sealed, packer: msgpack.Packer) -> None:
    out.write(packer.pack_array_header(len(arts)))
    for art in arts:
        out.write(packer.pack(encode_artifact(art)))


def _encode_suite(value: tuple[list[Artifact], list[str]], out: IO[bytes]) -> None:
    arts, errors = value
    packer = msgpack.Packer(use_bin_type=True)
    sealed = _Sealed(out)
    sealed.write(packer.pack_array_header(2))
    _write_artifacts(arts, sealed, packer)
    sealed.write(packer.pack(errors))
    sealed.close()


@_decoder
def _decode_suite(data: bytes) -> tuple[list[Artifact], list[str]]:
    value = unpack(data)
    if type(value) is not list or len(value) != 2:
        return cast(tuple[list[Artifact], list[str]], _fail("a suite's parse", value))
    return _list_of(decode_artifact, value[0]), _strings(value[1])


def _encode_repo(arts: list[Artifact], out: IO[bytes]) -> None:
    sealed = _Sealed(out)
    _write_artifacts(arts, sealed, msgpack.Packer(use_bin_type=True))
    sealed.close()


@_decoder
def _decode_repo(data: bytes) -> list[Artifact]:
    return _list_of(decode_artifact, unpack(data))


# a Debian suite's parse (debrepo.read_suite), an RPM repository's (rpmrepo.read_repo)
SUITE: Codec[tuple[list[Artifact], list[str]]] = Codec(_encode_suite, _decode_suite)
RPM_REPO: Codec[list[Artifact]] = Codec(_encode_repo, _decode_repo)

"""Multi-block xz decoded in parallel: the same bytes as a sequential decode, damage named,
and the sequential path kept wherever the parallel one does not apply."""

from __future__ import annotations

import io
import lzma
import random
import subprocess
import tarfile
from pathlib import Path

import pytest

from xenlint.limits import ArtifactError
from xenlint.readers import read_path
from xenlint.readers.lowlevel import xzblocks
from xenlint.readers.lowlevel.xzblocks import parallel_xz, xz_blocks


def _payload(n: int = 600_000) -> bytes:
    rnd = random.Random(7)
    # compressible but not trivially so: a block must hold real LZMA2 work
    words = [bytes(rnd.choices(b"abcdefghijklmnop", k=rnd.randint(3, 12))) for _ in range(500)]
    out = bytearray()
    while len(out) < n:
        out += rnd.choice(words) + b" "
    return bytes(out[:n])


def _xz_blocks_cli(data: bytes, block_size: str = "64KiB") -> bytes:
    """A one-stream, many-block xz, as xz -T writes it (xz from xz-utils)."""
    return subprocess.run(["xz", "-c", "-6", "-T1", f"--block-size={block_size}"],
                          input=data, capture_output=True, check=True).stdout


def _read_all(reader: io.RawIOBase) -> bytes:
    out = bytearray()
    buf = bytearray(10_000)  # not a divisor of the block size: reads straddle blocks
    while n := reader.readinto(buf):
        out += buf[:n]
    return bytes(out)


def test_blocks_of_one_stream_decode_to_the_sequential_bytes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xzblocks, "usable_threads", lambda: 2)
    data = _payload()
    xz = _xz_blocks_cli(data)
    blocks = xz_blocks(io.BytesIO(xz), len(xz))
    assert blocks is not None and len(blocks) == 10  # 600,000 bytes in 64 KiB blocks
    assert sum(b.size for b in blocks) == len(data)
    reader = parallel_xz(io.BytesIO(xz), len(xz), max_block=1 << 20)
    assert reader is not None
    with reader:
        assert _read_all(reader) == data == lzma.decompress(xz)


def test_concatenated_streams_with_padding_are_read_in_order(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xzblocks, "usable_threads", lambda: 3)
    parts = [_payload(50_000 + i * 7_000) for i in range(3)]
    xz = lzma.compress(parts[0]) + b"\0" * 8 + _xz_blocks_cli(parts[1]) + lzma.compress(parts[2])
    blocks = xz_blocks(io.BytesIO(xz), len(xz))
    assert blocks is not None and len(blocks) == 3
    reader = parallel_xz(io.BytesIO(xz), len(xz), max_block=1 << 20)
    assert reader is not None
    with reader:
        assert _read_all(reader) == b"".join(parts)


def test_the_sequential_path_is_kept_where_parallel_does_not_apply(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xzblocks, "usable_threads", lambda: 2)
    data = _payload()
    one_block = lzma.compress(data)
    many = _xz_blocks_cli(data)
    f = io.BytesIO(one_block)
    assert parallel_xz(f, len(one_block), max_block=1 << 20) is None
    assert f.tell() == 0  # left where it was, for the sequential path to read
    # a block larger than the caller lets us hold
    assert parallel_xz(io.BytesIO(many), len(many), max_block=1000) is None
    # a truncated file has no footer: libarchive's path gives its usual diagnosis
    assert xz_blocks(io.BytesIO(many[:-5]), len(many) - 5) is None
    assert xz_blocks(io.BytesIO(b"not xz at all"), 13) is None
    monkeypatch.setattr(xzblocks, "usable_threads", lambda: 1)
    assert parallel_xz(io.BytesIO(many), len(many), max_block=1 << 20) is None


def test_a_damaged_block_is_named_not_decoded_to_garbage(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xzblocks, "usable_threads", lambda: 2)
    xz = bytearray(_xz_blocks_cli(_payload()))
    blocks = xz_blocks(io.BytesIO(bytes(xz)), len(xz))
    assert blocks is not None
    third = blocks[2]
    xz[third.offset + third.unpadded // 2] ^= 0xFF
    reader = parallel_xz(io.BytesIO(bytes(xz)), len(xz), max_block=1 << 20)
    assert reader is not None
    with reader:
        got = _read_all(reader)
    # the stream ends where the damage starts, and says so
    assert len(got) == blocks[0].size + blocks[1].size
    assert isinstance(reader.failure, ArtifactError)
    assert "xz block 3" in str(reader.failure)


def _deb(tmp: Path, data_xz: bytes, name: str) -> Path:
    """A .deb whose data.tar.xz is the given bytes, put together with binutils' ar."""
    work = tmp / name
    work.mkdir()
    (work / "debian-binary").write_bytes(b"2.0\n")
    control = io.BytesIO()
    with tarfile.open(fileobj=control, mode="w:xz") as tar:
        text = b"Package: xzdemo\nVersion: 1.0\nArchitecture: amd64\nDescription: demo\n"
        info = tarfile.TarInfo("./control")
        info.size = len(text)
        tar.addfile(info, io.BytesIO(text))
    (work / "control.tar.xz").write_bytes(control.getvalue())
    (work / "data.tar.xz").write_bytes(data_xz)
    deb = tmp / f"{name}.deb"
    subprocess.run(["ar", "rc", str(deb), "debian-binary", "control.tar.xz", "data.tar.xz"],
                   cwd=work, check=True)
    return deb


def _data_tar() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for i in range(40):
            body = _payload(20_000 + i)
            info = tarfile.TarInfo(f"./usr/share/xzdemo/file{i:02}")
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
        script = b"#!/bin/sh\nexit 0\n"
        info = tarfile.TarInfo("./etc/init.d/xencommons")
        info.size, info.mode = len(script), 0o755
        tar.addfile(info, io.BytesIO(script))
    return out.getvalue()


def test_a_deb_reads_the_same_on_both_paths(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xzblocks, "usable_threads", lambda: 2)
    deb = _deb(tmp_path, _xz_blocks_cli(_data_tar()), "blocks")
    made: list[object] = []
    real = xzblocks.ParallelXzReader.__init__

    def counting(self: xzblocks.ParallelXzReader, *args: object, **kw: object) -> None:
        made.append(self)
        real(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(xzblocks.ParallelXzReader, "__init__", counting)
    [parallel] = read_path(str(deb))
    assert made, "the multi-block data.tar.xz did not take the parallel path"
    monkeypatch.setattr(xzblocks, "usable_threads", lambda: 1)
    [sequential] = read_path(str(deb))
    assert parallel.error is None and sequential.error is None
    assert parallel.entries == sequential.entries and len(parallel.entries) > 40
    assert parallel.meta.data_compression == sequential.meta.data_compression == "xz"
    wanted = "/usr/share/xzdemo/file17"
    assert parallel.read(wanted) == sequential.read(wanted) == _payload(20_017)
    assert parallel.read("/etc/init.d/xencommons") == b"#!/bin/sh\nexit 0\n"


def test_a_deb_with_a_damaged_block_gets_one_line(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xzblocks, "usable_threads", lambda: 2)
    xz = bytearray(_xz_blocks_cli(_data_tar()))
    blocks = xz_blocks(io.BytesIO(bytes(xz)), len(xz))
    assert blocks is not None and len(blocks) > 3
    xz[blocks[3].offset + 40] ^= 0x55
    [art] = read_path(str(_deb(tmp_path, bytes(xz), "damaged")))
    assert art.error is not None and "\n" not in art.error
    assert art.error.startswith("data.tar.xz: is corrupt or truncated (xz block 4")


def test_decoding_runs_ahead_within_the_byte_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xzblocks, "usable_threads", lambda: 2)
    data = _payload()
    xz = _xz_blocks_cli(data)  # ten blocks: nine of 65,536 bytes and one of 10,176
    # a budget of every block: all of them are under way at once, so a slow block never
    # leaves the other core idle
    reader = parallel_xz(io.BytesIO(xz), len(xz), max_block=len(data))
    assert reader is not None
    with reader:
        assert reader.ahead == (10, len(data))
        assert _read_all(reader) == data
        assert reader.ahead == (0, 0)
    # a budget of three blocks: three ahead, and never more while reading
    reader = parallel_xz(io.BytesIO(xz), len(xz), max_block=3 * 65_536)
    assert reader is not None
    seen: list[tuple[int, int]] = []
    with reader:
        buf = bytearray(10_000)
        out = bytearray()
        while n := reader.readinto(buf):
            out += buf[:n]
            seen.append(reader.ahead)
        assert bytes(out) == data
    assert max(blocks for blocks, _ in seen) == 3
    assert max(held for _, held in seen) <= 3 * 65_536
    # tiny blocks: at most AHEAD_PER_THREAD of them per thread, whatever the budget
    tiny = _xz_blocks_cli(data, "1KiB")
    reader = parallel_xz(io.BytesIO(tiny), len(tiny), max_block=len(data))
    assert reader is not None
    with reader:
        assert reader.ahead == (2 * xzblocks.AHEAD_PER_THREAD,
                                2 * xzblocks.AHEAD_PER_THREAD * 1024)
        assert _read_all(reader) == data
    # a budget below one block still keeps one block per thread under way
    reader = parallel_xz(io.BytesIO(xz), len(xz), max_block=65_536)
    assert reader is not None
    with reader:
        assert reader.ahead == (2, 2 * 65_536)
        assert _read_all(reader) == data

"""libarchive must never start an external decompressor (lzop, lrzip, grzip) for xenlint."""

from __future__ import annotations

import io
import subprocess

import pytest
from conftest import need_tools

from xenlint.limits import Limits
from xenlint.readers import ReadContext
from xenlint.readers.lowlevel.archive import decompress

LRZIP = b"LRZI\x00\x06" + b"\x00" * 64
GRZIP = b"GRZipII\x00\x02\x04:)" + b"\x00" * 64


def _ctx() -> ReadContext:
    return ReadContext.top(Limits(), "test")


@pytest.mark.parametrize("magic", [LRZIP, GRZIP], ids=["lrzip", "grzip"])
def test_unbuilt_filters_are_not_run_as_programs(magic: bytes) -> None:
    # With libarchive's "all" filters these magics make it exec `lrzip -d` / `grzip -d`.
    out = b"".join(decompress(io.BytesIO(magic), _ctx(), "blob"))
    assert out == magic  # passed through as uncompressed data, nothing executed


def test_lzo_is_decoded_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    need_tools("lzop")  # to make the input
    from xenlint.readers.lowlevel.lzop import decompress as lzo_decompress

    data = b"xen " * 500
    comp = subprocess.run(["lzop", "-c"], input=data, capture_output=True, check=True).stdout
    monkeypatch.setenv("PATH", "/nonexistent")
    assert b"".join(lzo_decompress(io.BytesIO(comp), _ctx(), "blob")) == data

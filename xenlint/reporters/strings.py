"""Text every output encoding can carry: member names may hold undecodable bytes.

Readers decode member names with `surrogateescape`, so a name with a Latin-1 byte reaches a
reporter as a lone surrogate, which no UTF-8 stream can write. Reporters pass their strings
through `safe_text`, which shows such a byte as `\\xNN` (as `ls -b` would).
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    # U+DC80..U+DCFF is how surrogateescape carries the bytes 0x80..0xFF
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else "\ufffd"


def safe_text(text: str) -> str:
    return _SURROGATE.sub(_escape, text)


# what a terminal or a line-splitting tool would act on: C0/C1 controls (ESC included, so a
# hostile member name cannot drive the terminal), DEL and the Unicode line separators
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r"}


def printable(text: str) -> str:
    """One line of plain text: controls shown as `\\n`, `\\xNN` or `\\uNNNN`."""
    def show(match: re.Match[str]) -> str:
        char = match.group()
        if char in _NAMED:
            return _NAMED[char]
        code = ord(char)
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
    return _CONTROL.sub(show, safe_text(text))


def safe_tree(value: Any) -> Any:
    """`safe_text` on every string of a JSON-able tree (keys too)."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_tree(k): safe_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [safe_tree(v) for v in value]
    return value

"""Version orderings rules compare with: Debian (dpkg), RPM (rpmvercmp) and kernel releases."""

from __future__ import annotations

import functools
import re
from typing import Any

from debian.debian_support import version_compare


def _alnum(c: str) -> bool:
    # rpm uses ASCII classes (risalnum), not Unicode ones
    return c.isascii() and c.isalnum()


def _special(a: str, i: int, b: str, j: int, mark: str) -> int | None:
    """Handle `~` (sorts before everything) or `^` (after the end, before anything else)."""
    ca = a[i] if i < len(a) else ""
    cb = b[j] if j < len(b) else ""
    if mark not in (ca, cb):
        return None
    if mark == "~":
        return 0 if ca == cb == "~" else (1 if ca != "~" else -1)
    if not ca:
        return -1
    if not cb:
        return 1
    return 0 if ca == cb == "^" else (1 if ca != "^" else -1)


def _segment(s: str, i: int, digits: bool) -> tuple[str, int]:
    j = i
    while j < len(s) and (s[j].isdigit() if digits else (s[j].isascii() and s[j].isalpha())):
        j += 1
    return s[i:j], j


def rpmvercmp(a: str, b: str) -> int:
    """Compare two version (or release) strings the way rpm's rpmvercmp() does: -1, 0, 1."""
    if a == b:
        return 0
    i = j = 0
    while i < len(a) or j < len(b):
        while i < len(a) and not _alnum(a[i]) and a[i] not in "~^":
            i += 1
        while j < len(b) and not _alnum(b[j]) and b[j] not in "~^":
            j += 1
        for mark in "~^":
            res = _special(a, i, b, j, mark)
            if res is not None:
                break
        if res is not None:
            if res:
                return res
            i, j = i + 1, j + 1
            continue
        if i >= len(a) or j >= len(b):
            break
        numeric = a[i].isdigit()
        seg1, i = _segment(a, i, numeric)
        seg2, j = _segment(b, j, numeric)
        if not seg2:
            # a numeric segment is newer than an alphabetic one
            return 1 if numeric else -1
        if numeric:
            seg1, seg2 = seg1.lstrip("0"), seg2.lstrip("0")
            if len(seg1) != len(seg2):
                return 1 if len(seg1) > len(seg2) else -1
        if seg1 != seg2:
            return 1 if seg1 > seg2 else -1
    if i >= len(a) and j >= len(b):
        return 0
    # whichever still has characters left is newer
    return -1 if i >= len(a) else 1


def split_evr(evr: str) -> tuple[int, str, str | None]:
    """[epoch:]version[-release] -> (epoch, version, release or None)."""
    epoch = 0
    m = re.match(r"(\d+):", evr)
    if m:
        epoch, evr = int(m.group(1)), evr[m.end():]
    version, _, release = evr.rpartition("-") if "-" in evr else (evr, "", "")
    return epoch, version, release or None


def rpm_compare(a: str, b: str) -> int:
    """Compare RPM EVRs; a release is compared only when both sides give one (as rpm does)."""
    ea, va, ra = split_evr(a)
    eb, vb, rb = split_evr(b)
    if ea != eb:
        return 1 if ea > eb else -1
    res = rpmvercmp(va, vb)
    if res or ra is None or rb is None:
        return res
    return rpmvercmp(ra, rb)


def kernel_numbers(release: str) -> tuple[int, ...] | None:
    """The leading dotted numbers of a kernel release: "6.1.0-28-amd64" -> (6, 1, 0)."""
    m = re.match(r"v?(\d+(?:\.\d+)*)", release.strip())
    return tuple(int(x) for x in m.group(1).split(".")) if m else None


def kernel_compare(a: str, b: str) -> int:
    na, nb = kernel_numbers(a), kernel_numbers(b)
    if na is None or nb is None:
        raise ValueError(f"not a kernel release: {a if na is None else b!r}")
    width = max(len(na), len(nb))
    pa, pb = na + (0,) * (width - len(na)), nb + (0,) * (width - len(nb))
    return (pa > pb) - (pa < pb)


def debian_compare(a: str, b: str) -> int:
    res = version_compare(a, b)  # raises ValueError on a malformed version
    return (res > 0) - (res < 0)


@functools.total_ordering
class Version:
    """A version string tied to one ordering; comparing with a plain string uses the same."""

    ORDERINGS = {"debver": debian_compare, "rpmver": rpm_compare, "kver": kernel_compare}

    __slots__ = ("ordering", "text")

    def __init__(self, text: str, ordering: str) -> None:
        self.text = text
        self.ordering = ordering

    def compare(self, other: Any) -> int:
        text = other.text if isinstance(other, Version) else str(other)
        return self.ORDERINGS[self.ordering](self.text, text)

    def __eq__(self, other: object) -> bool:
        return self.compare(other) == 0

    def __lt__(self, other: object) -> bool:
        return self.compare(other) < 0

    def __hash__(self) -> int:
        return hash(self.text)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"{self.ordering}({self.text!r})"

"""Load libarchive-c without letting it run `ldconfig -p`.

libarchive-c looks its library up with ctypes.util.find_library, which runs `ldconfig -p`.
xenlint starts no processes while it reads untrusted input, so it names the library directly
when it sits where distributions put it; $LIBARCHIVE set by the user still wins. The variable
is set only while libarchive-c loads and then restored: importing xenlint must leave the
caller's environment as it was.
"""

from __future__ import annotations

import glob
import os
import sys

_GLOBS = (
    "/usr/lib/*-linux-gnu*/libarchive.so.13",
    "/usr/lib64/libarchive.so.13",
    "/usr/lib/libarchive.so.13",
    "/usr/local/lib/libarchive.so.13",
)


def locate() -> str | None:
    """The libarchive shared library in a distribution's usual place, or None."""
    for pattern in _GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def load() -> None:
    """Import libarchive-c's ffi with the library named, then restore the environment."""
    if "libarchive.ffi" in sys.modules or os.environ.get("LIBARCHIVE"):
        return
    path = locate()
    if path is None:
        return
    os.environ["LIBARCHIVE"] = path
    try:
        import libarchive.ffi  # noqa: F401
    finally:
        del os.environ["LIBARCHIVE"]

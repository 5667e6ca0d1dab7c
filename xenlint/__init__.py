"""xenlint: a static linter for how distributions package Xen."""

import glob
import os

__version__ = "0.1.0"

# libarchive-c looks its library up with ctypes.util.find_library, which runs `ldconfig -p`.
# xenlint starts no processes while it reads untrusted input, so name the library directly
# when it sits where distributions put it; $LIBARCHIVE set by the user still wins.
_LIBARCHIVE_GLOBS = (
    "/usr/lib/*-linux-gnu*/libarchive.so.13",
    "/usr/lib64/libarchive.so.13",
    "/usr/lib/libarchive.so.13",
    "/usr/local/lib/libarchive.so.13",
)


def _locate_libarchive() -> None:
    if os.environ.get("LIBARCHIVE"):
        return
    for pattern in _LIBARCHIVE_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            os.environ["LIBARCHIVE"] = found[0]
            return


_locate_libarchive()

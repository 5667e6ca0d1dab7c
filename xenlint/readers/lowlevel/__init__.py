"""Low-level helpers the format readers share: libarchive streams (archive), compressed
block scanning (blocks), cpio (cpio), ELF notes (elfnotes), kernel image scans (kscan) and
LZO frames (lzop). Nothing here registers a reader."""

from xenlint.readers.lowlevel.libarchive_path import load as _load_libarchive

# before archive.py and lzop.py import libarchive-c: it must find its library without
# running `ldconfig -p` (see libarchive_path.py)
_load_libarchive()

"""Low-level helpers the format readers share: libarchive streams (archive), compressed
block scanning (blocks), cpio (cpio), ELF notes (elfnotes), kernel image scans (kscan) and
LZO frames (lzop). Nothing here registers a reader."""

"""Fuzz the initramfs reader (run: see fuzz/README.md)."""

import _main

if __name__ == "__main__":
    _main.run("initramfs", ("hostile/**/*.img", "hostile/**/*.cpio", "readers/**/*.cpio",
                            "readers/**/*.img"))

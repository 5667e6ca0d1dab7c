"""Fuzz the vmlinux reader (run: see fuzz/README.md)."""

import _main

if __name__ == "__main__":
    _main.run("vmlinux", ("hostile/kernel/*.elf", "readers/kernel/*"))

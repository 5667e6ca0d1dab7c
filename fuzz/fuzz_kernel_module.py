"""Fuzz the kernel-module reader (run: see fuzz/README.md)."""

import _main

if __name__ == "__main__":
    _main.run("kernel-module", ("hostile/kernel/*.ko", "readers/**/*.ko"))

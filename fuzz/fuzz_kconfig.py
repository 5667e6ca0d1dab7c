"""Fuzz the kconfig reader (run: see fuzz/README.md)."""

import _main

if __name__ == "__main__":
    _main.run("kconfig", ("hostile/kernel/config*", "readers/**/config*"))

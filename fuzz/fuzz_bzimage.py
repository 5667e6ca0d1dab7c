"""Fuzz the bzimage reader (run: see fuzz/README.md)."""

import _main

if __name__ == "__main__":
    _main.run("bzimage", ("hostile/kernel/*", "readers/kernel/*"))

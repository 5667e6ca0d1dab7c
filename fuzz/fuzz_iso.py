"""Fuzz the iso reader (run: see fuzz/README.md)."""

import _main

if __name__ == "__main__":
    _main.run("iso", ("readers/**/*.iso", "hostile/**/*.iso"))

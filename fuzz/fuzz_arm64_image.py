"""Fuzz the arm64-image reader (run: see fuzz/README.md)."""

import _main

if __name__ == "__main__":
    _main.run("arm64-image", ("readers/kernel/*", "hostile/kernel/*"))

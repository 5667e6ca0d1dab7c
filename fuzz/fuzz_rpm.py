"""Fuzz the rpm reader (run: see fuzz/README.md)."""

import _main

if __name__ == "__main__":
    _main.run("rpm", ("readers/rpm/*.rpm", "hostile/**/*.rpm"))

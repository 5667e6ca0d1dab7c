"""Fuzz the deb reader (run: see fuzz/README.md)."""

import _main

if __name__ == "__main__":
    _main.run("deb", ("readers/deb/*.deb", "hostile/**/*.deb"))

"""Fuzz the compressed reader (run: see fuzz/README.md)."""

import _main

if __name__ == "__main__":
    _main.run("compressed", ("readers/**/*.gz", "readers/**/*.xz", "hostile/compression/*"))

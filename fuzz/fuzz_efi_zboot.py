"""Fuzz the efi-zboot reader (run: see fuzz/README.md)."""

import _main

if __name__ == "__main__":
    _main.run("efi-zboot", ("readers/kernel/*", "hostile/kernel/*"))

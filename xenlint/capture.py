"""Which member contents are worth reading while an archive streams past anyway.

Facts declare the paths they will read (`want("/etc/init.d/*")`). Readers consult
`wanted()` during their single pass and keep those bytes, so a fact never forces a
second decompression of a package it could have been served from the first.
"""

from __future__ import annotations

import fnmatch
import functools
import re

_patterns: list[str] = []
_compiled: re.Pattern[str] | None = None

# Text files that facts read are small; anything larger is read lazily on demand.
CAPTURE_MAX_BYTES = 8 * 1024 * 1024


def want(*patterns: str) -> None:
    """Register shell-style globs of absolute member paths whose contents facts need."""
    global _compiled
    for pattern in patterns:
        if pattern not in _patterns:
            _patterns.append(pattern)
    _compiled = None


@functools.cache
def _declare() -> None:
    """Have every module that wants contents declare it: the facts, and the readers that
    derive facts of their own (module trees' index files). Imported here, on first use,
    since they import this module."""
    import xenlint.engine.overrides  # a package's own overrides file
    import xenlint.facts
    import xenlint.readers  # importing the package imports every reader

    xenlint.facts.load()


def wanted(path: str, size: int = 0) -> bool:
    global _compiled
    _declare()
    if size > CAPTURE_MAX_BYTES or not _patterns:
        return False
    if _compiled is None:
        _compiled = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in _patterns))
    return _compiled.match(path) is not None


def patterns() -> tuple[str, ...]:
    _declare()
    return tuple(_patterns)

"""xenlint: a static linter for how distributions package Xen.

The Python API (docs/api.md)::

    from xenlint import LintOptions, lint_paths
    report = lint_paths(["xen-system-amd64_4.17.3-1_amd64.deb"], LintOptions())

Its names are imported when first used, so `import xenlint` (and `xenlint --version`) does
not pay for the rule engine; importing xenlint changes nothing in `os.environ`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Finding", "LintOptions", "Report", "Severity", "__version__", "lint_paths",
           "read_path"]

_LAZY = {
    "lint_paths": "xenlint.engine.lint",
    "LintOptions": "xenlint.engine.lint",
    "Report": "xenlint.finding",
    "Finding": "xenlint.finding",
    "Severity": "xenlint.finding",
    "read_path": "xenlint.readers",
}

if TYPE_CHECKING:
    from xenlint.engine.lint import LintOptions, lint_paths
    from xenlint.finding import Finding, Report, Severity
    from xenlint.readers import read_path


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'xenlint' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

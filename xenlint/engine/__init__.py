"""The rule engine: load rules (rulebook), evaluate them over subjects (evaluate), apply
configuration, overrides and remedies, and the `lint_*` entry points (lint) that run the
whole pipeline from paths to a Report."""

"""xenlint: a static linter for how distributions package Xen."""

__version__ = "0.1.0"

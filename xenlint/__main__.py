"""`python -m xenlint`."""

from xenlint.cli import run

run()

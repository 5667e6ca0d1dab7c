"""The command line: `xenlint inspect|check|rules|explain`; a bare `xenlint PATH` is check."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from collections.abc import Callable
from typing import Any

import click

from xenlint import __version__
from xenlint.limits import Limits

# Exit statuses are a contract with pipelines (issue "Rule engine"): keep them.
EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class DefaultCommandGroup(click.Group):
    """Route `xenlint PATH...` to `xenlint check PATH...`."""

    default_command = "check"

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and self.default_command in self.commands \
                and not args[0].startswith("-"):
            args = [self.default_command, *args]
        return super().resolve_command(ctx, args)


def limit_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The --max-* flags that raise or lower the reading limits (docs/limits.md)."""
    defaults = Limits()
    for name in reversed(Limits.__slots__):
        flag = "--" + name.replace("_", "-")
        fn = click.option(flag, name, type=int, default=None, show_default=False,
                          help=f"Reading limit (default {getattr(defaults, name)}).")(fn)
    return fn


def limits_from(kwargs: dict[str, Any]) -> Limits:
    return Limits().with_overrides(**{k: kwargs.pop(k, None) for k in Limits.__slots__})


@click.group(cls=DefaultCommandGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xenlint")
@click.option("--debug", is_flag=True, default=False,
              help="Show tracebacks instead of one-line diagnoses (same as XENLINT_DEBUG=1).")
def main(debug: bool) -> None:
    """Lint Xen packaging: .deb/.rpm packages, kernels, initramfs images, repositories."""
    if debug:
        # readers consult XENLINT_DEBUG to re-raise instead of turning errors into one line
        os.environ["XENLINT_DEBUG"] = "1"


def _load_commands() -> None:
    import xenlint.commands as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{pkg.__name__}.{mod.name}")


def run() -> None:
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)


_load_commands()

"""The command line: `xenlint inspect|check|rules|explain`; a bare `xenlint PATH` is check."""

from __future__ import annotations

import atexit
import difflib
import importlib
import os
import pkgutil
import re
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import click

from xenlint import __version__
from xenlint.limits import Limits

# Exit statuses are a contract with pipelines (issue "Rule engine"): keep them.


class DefaultCommandGroup(click.Group):
    """Route `xenlint PATH...` to `xenlint check PATH...`.

    Subcommands are imported when first named (one module per command in
    xenlint/commands/), so `xenlint inspect` does not pay for the rule engine's imports.
    """

    default_command = "check"

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _command_modules():
            importlib.import_module(f"xenlint.commands.{cmd_name}")
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        load_commands()
        return super().list_commands(ctx)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Insert `check` before the first argument that is neither one of the group's own
        options nor a subcommand, so the short form takes options before its paths too:
        `xenlint --profile domu FILE` is `xenlint check --profile domu FILE`."""
        own = {o for p in self.get_params(ctx) for o in (*p.opts, *p.secondary_opts)}
        index = next((i for i, a in enumerate(args) if a.split("=", 1)[0] not in own), None)
        if index is not None and not _is_help_request(args[index:]):
            head = args[index]
            if head.startswith("-") or self.get_command(ctx, head) is None:
                _refuse_typo(ctx, head, self.list_commands(ctx))
                args = [*args[:index], self.default_command, *args[index:]]
        return super().parse_args(ctx, args)


def _is_help_request(args: list[str]) -> bool:
    return args[:1] in (["-h"], ["--help"])


def _refuse_typo(ctx: click.Context, word: str, commands: list[str]) -> None:
    """A first word that is no file and looks like a subcommand is a typo, not a path:
    `xenlint chek FILE` exits 2 with a suggestion instead of reading `chek`."""
    if word.startswith("-") or os.path.lexists(word) or "/" in word or "." in word:
        return
    close = difflib.get_close_matches(word, commands, n=1, cutoff=0.6)
    if close:
        ctx.fail(f"no such command {word!r}: did you mean {close[0]!r}?")


_SIZE = re.compile(r"\s*(\d+)\s*([kmgt]?)(i?b)?\s*", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


class ByteSize(click.ParamType):  # type: ignore[type-arg]  # generic only from click 8.2
    """A byte count with an optional binary suffix: 1G, 256M, 64KiB, 4096."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        match = _SIZE.fullmatch(str(value))
        if match is None:
            self.fail(f"{value!r} is not a size (a number, optionally with K, M, G or T: "
                      "1G, 256M, 64KiB)", param, ctx)
        return int(match.group(1)) * _UNITS[match.group(2).lower()]


def limit_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The --max-* flags that raise or lower the reading limits (docs/limits.md)."""
    defaults = Limits()
    for name in reversed(Limits.__slots__):
        flag = "--" + name.replace("_", "-")
        sized = name.endswith("_bytes")
        kind: Any = ByteSize() if sized else click.IntRange(min=0)
        unit = " bytes; suffixes K, M, G, T" if sized else ""
        fn = click.option(flag, name, type=kind, default=None, show_default=False,
                          help=f"Reading limit (default {getattr(defaults, name)}{unit}).")(fn)
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


def _command_modules() -> list[str]:
    import xenlint.commands as pkg

    return [m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_")]


def load_commands() -> None:
    """Import every subcommand (help, the man page and shell completion list them all)."""
    for name in _command_modules():
        importlib.import_module(f"xenlint.commands.{name}")


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived. Not a KeyboardInterrupt: click turns that into "Aborted!"
    and status 1, the status of findings; and a BaseException, so that no reader's
    `except Exception` takes it for bad input."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


# the shell's convention: 128 + the signal's number
SIGNAL_NAMES = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    # a second signal while the first unwinds must not raise again inside cleanup
    for sig in SIGNAL_NAMES:
        signal.signal(sig, signal.SIG_IGN)
    raise Interrupted(signum)


def run() -> None:
    code: int | str | None = 0
    for sig in SIGNAL_NAMES:
        signal.signal(sig, _on_signal)
    try:
        main()
    except Interrupted as exc:
        print(f"xenlint: {SIGNAL_NAMES[signal.Signals(exc.signum)]}", file=sys.stderr)
        code = 128 + exc.signum
    except KeyboardInterrupt:  # raised by code that replaced our handler
        print("xenlint: interrupted", file=sys.stderr)
        code = 128 + signal.SIGINT
    except SystemExit as exc:
        code = exc.code
    _exit(code)


def _exit(code: int | str | None) -> None:
    """End the process once everything is written, without freeing each object and
    module one by one: after an audit that teardown alone takes tens of milliseconds.
    Exit handlers still run (coverage, wrappers that report at exit); only the teardown
    is skipped. With --debug the ordinary exit stays."""
    if os.environ.get("XENLINT_DEBUG"):
        sys.exit(code)
    if isinstance(code, str):  # sys.exit("message") prints the message, status 1
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        code = code or 1  # the reader went away: the report was not delivered
    os._exit(code or 0)

"""A per-item time limit that works inside a worker process: SIGALRM raises in the code
that runs, reader or index parser, on the main thread."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class ArtifactTimeout(BaseException):
    """Raised by the timer; a BaseException so readers' `except Exception` cannot eat it."""


class Timer:
    fired = False


@contextmanager
def time_limit(seconds: float) -> Iterator[Timer]:
    """Interrupt the reader after `seconds`. The timer re-arms every half second because an
    exception raised inside a libarchive (ctypes) callback is printed and dropped; `fired`
    tells the caller even when a reader turned the interruption into a bogus error."""
    timer = Timer()
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield timer  # engines that run tasks in threads rely on their own task timeouts
        return

    def fire(_sig: int, _frame: FrameType | None) -> None:
        timer.fired = True
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        raise ArtifactTimeout

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield timer
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)

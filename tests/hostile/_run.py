"""Run xenlint in a sealed subprocess and report exit, output, peak memory and writes.

    python _run.py -- ARGS...      (prints one JSON object on stdout)

The measuring process is this wrapper, so `getrusage(RUSAGE_CHILDREN)` sees exactly one
child: xenlint. The child runs with an audit hook that records every open for writing,
every file-system change and every attempt to start a process; xenlint must do none.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

# Runs inside the xenlint child before the CLI: record, don't block, so that the
# test can name what was written.
CHILD = r'''
import os, sys, json
WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
events = []
def hook(event, args):
    if event == "open":
        path, mode, flags = (list(args) + [None, None, None])[:3]
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & WRITE)
        if writing and path not in ("/dev/null", 1, 2):
            events.append(f"open-for-write {path!r}")
    elif event in ("os.mkdir", "os.rename", "os.remove", "os.rmdir", "os.symlink", "os.link",
                   "os.truncate", "shutil.rmtree", "shutil.copyfile", "shutil.move",
                   "os.chmod", "os.chown", "os.utime", "subprocess.Popen", "os.system",
                   "os.exec", "os.posix_spawn", "os.fork", "os.forkpty", "tempfile.mkstemp",
                   "tempfile.mkdtemp"):
        events.append(f"{event} {args[0]!r}" if args else event)
fd = int(os.environ.pop("XL_EVENTS_FD"))
import atexit, runpy
atexit.register(lambda: os.write(fd, json.dumps(events).encode()))
sys.addaudithook(hook)
sys.argv = ["xenlint"] + sys.argv[1:]
runpy.run_module("xenlint", run_name="__main__")
'''


def main() -> None:
    args = sys.argv[sys.argv.index("--") + 1:]
    import os

    r, w = os.pipe()
    env = dict(os.environ, XL_EVENTS_FD=str(w))
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True,
                          env=env, pass_fds=(w,), timeout=300)
    elapsed = time.monotonic() - start
    os.close(w)
    with os.fdopen(r, "rb") as f:
        events_raw = f.read()
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    json.dump({"exit": proc.returncode, "stdout": proc.stdout.decode("utf-8", "replace"),
               "stderr": proc.stderr.decode("utf-8", "replace"), "peak_kib": peak_kib,
               "seconds": elapsed,
               "writes": json.loads(events_raw) if events_raw else ["<no audit report>"]},
              sys.stdout)


if __name__ == "__main__":
    main()

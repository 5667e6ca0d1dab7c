"""Start-up cost of `xenlint --version` and of `import xenlint` (the API's names are loaded
lazily, so importing the package must stay cheap).

    python bench/bench_startup.py [--repeat 20]

Prints the minimum and median wall time of each over --repeat runs."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

from _env import xenlint_env, xenlint_python


def timed(cmd: list[str], env: dict[str, str], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    env, python = xenlint_env(), xenlint_python()
    cases = {
        "python -c pass": [python, "-c", "pass"],
        "import xenlint": [python, "-c", "import xenlint"],
        "xenlint --version": [python, "-m", "xenlint", "--version"],
    }
    for name, cmd in cases.items():
        times = timed(cmd, env, args.repeat)
        print(f"{name:20} min {min(times) * 1000:6.1f} ms  "
              f"median {statistics.median(times) * 1000:6.1f} ms")


if __name__ == "__main__":
    main()

"""Time and memory of `--with-repo` on a real repository: what a package set reaches of it.

    python bench/bench_with_repo.py [--repo /var/lib/apt/lists] [--package PATH] [--full]

Each figure comes from a child process of its own (its peak RSS is that step's): the light
scan of every paragraph (Context.load), the full parse and file lists of what the package
reaches (Context.for_set), and, with --full, what reading the whole index in full would
take (every paragraph parsed by debrepo.read_indexes, every Contents file list kept).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from _env import REPO, xenlint_env

DEFAULT_PACKAGE = REPO.parent / "shared" / "corpus" / "deb" / \
    "xen-utils-4.17_4.17.7+13-g2445b30a44-0+deb12u1_amd64.deb"

CHILD = r"""
import json, resource, sys, time
from xenlint.audit import context, debrepo
from xenlint.limits import Limits
from xenlint.readers import read_path
repo, package, full = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
out = {}
t = time.perf_counter()
if full:
    debs, _rpm = context.locate(Path(repo))
    n = files = 0
    for d in debs:
        records, _e = debrepo.read_indexes(d.root, d.packages, Limits())
        n += len(records)
        files += sum(map(len, debrepo.read_contents(d.contents, Limits()).values()))
    out.update(paragraphs=n, listed_paths=files, full_s=time.perf_counter() - t)
else:
    arts = read_path(package)
    ctx = context.Context.load([repo], Limits())
    out.update(nodes=len(ctx.nodes), load_s=time.perf_counter() - t)
    t = time.perf_counter()
    found = ctx.for_set(arts)
    out.update(reached=len(found), listed_paths=sum(len(a.entries) for a in found),
               for_set_s=time.perf_counter() - t, errors=len(ctx.errors))
out["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def child(repo: str, package: str, full: bool) -> dict[str, float]:
    res = subprocess.run([sys.executable, "-c", CHILD, repo, package, "1" if full else "0"],
                         capture_output=True, text=True, check=True, env=xenlint_env())
    return dict(json.loads(res.stdout.splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", default="/var/lib/apt/lists")
    ap.add_argument("--package", default=str(DEFAULT_PACKAGE))
    ap.add_argument("--full", action="store_true",
                    help="also parse the whole index and keep every file list")
    args = ap.parse_args()
    print("context:", json.dumps(child(args.repo, args.package, False)))
    if args.full:
        print("whole index:", json.dumps(child(args.repo, args.package, True)))


if __name__ == "__main__":
    main()

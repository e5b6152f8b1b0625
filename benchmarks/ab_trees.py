"""A/B of two netscope source trees on one `netscope report`: CPU per pair on one core, bytes equal.

    python benchmarks/ab_trees.py BASE_TREE [TARGET] [PAIRS] [-- REPORT OPTIONS...]

BASE_TREE is another checkout of netscope (``git worktree add /tmp/base <commit>``); the other
side is this checkout. Each pair runs both `netscope report TARGET -o ...` at the same time
pinned to one core (harness.cpu_on_one_core: whole-process CPU, the worker included), the launch
order alternating; prints each pair, the median ratio this/base with its spread, and whether the
two JSON reports are byte-identical.

Each side runs ``python -P -m netscope`` with ``PYTHONPATH`` set to its tree: without ``-P``,
``-m`` puts the working directory first on ``sys.path``, ahead of ``PYTHONPATH``, and both sides
would run the tree the command starts in.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

from harness import ROOT, cpu_on_one_core

TINY = str(ROOT / "benchmarks" / "tiny_blocks.py")


def report_command(tree: str, target: str, out: str, options: list[str]) -> list[str]:
    """`netscope report` from ``tree``'s sources alone."""
    return ["env", f"PYTHONPATH={tree}", sys.executable, "-P", "-m", "netscope", "report",
            target, *options, "-o", out]  # fmt: skip


def main(argv: list[str]) -> None:
    options: list[str] = []
    if "--" in argv:
        options = argv[argv.index("--") + 1 :]
        argv = argv[: argv.index("--")]
    if not argv:
        raise SystemExit(__doc__)
    base = str(Path(argv[0]).resolve())
    target = str(Path(argv[1]).resolve()) if len(argv) > 1 else TINY
    pairs = int(argv[2]) if len(argv) > 2 else 4
    with tempfile.TemporaryDirectory() as tmp:
        outs = {"base": f"{tmp}/base.json", "this": f"{tmp}/this.json"}
        sides = {
            "base": report_command(base, target, outs["base"], options),
            "this": report_command(str(ROOT), target, outs["this"], options),
        }
        ratios = []
        for i in range(pairs):
            order = ["base", "this"] if i % 2 == 0 else ["this", "base"]
            measured = cpu_on_one_core([sides[side] for side in order], dict(os.environ))
            runs = dict(zip(order, measured, strict=True))
            ratio = runs["this"].cpu / runs["base"].cpu
            ratios.append(ratio)
            print(
                f"pair {i + 1}: base {runs['base'].cpu:.2f} s "
                f"{runs['base'].peak_rss_bytes >> 20} MiB, this {runs['this'].cpu:.2f} s "
                f"{runs['this'].peak_rss_bytes >> 20} MiB, ratio {ratio:.3f}",
                flush=True,
            )
        same = Path(outs["base"]).read_bytes() == Path(outs["this"]).read_bytes()
    print(
        f"median this/base {statistics.median(ratios):.3f} "
        f"(spread {min(ratios):.3f}-{max(ratios):.3f}, {pairs} pairs); "
        f"reports byte-identical: {same}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])

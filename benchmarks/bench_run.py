"""`netscope run` overhead: a real CPU training loop, plain and under `netscope run -o`.

Each pair runs both at the same time pinned to one core (harness.run_on_one_core: a shared
machine's core speed swings from second to second, which runs one after another cannot tell
from a few percent), launch order alternating; the measure is the loop's CPU time as the script
reads it (first batch to last step), so start-up and torch's import are counted on neither side.
The `netscope run` parent process runs on the other core and the script's process on the
measured one, as on any machine with a core to spare (``--all-on-one-core``: the parent on the
measured core too). Prints a Markdown section for docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
import tempfile
from pathlib import Path

from harness import ROOT, run_on_one_core

SCRIPT = ROOT / "benchmarks" / "scripts" / "train_loop.py"
STEPS = int(os.environ.get("NETSCOPE_BENCH_STEPS", "200"))
REPEATS = int(os.environ.get("NETSCOPE_BENCH_REPEATS", "5"))
TARGET = 0.03


def loop_cpu_seconds(output: str) -> float:
    found = re.search(r"loop_cpu_s=([0-9.]+)", output)
    if found is None:
        raise RuntimeError(f"no loop time in: {output[-2000:]!r}")
    return float(found.group(1))


def main() -> None:
    # One intra-op thread on both sides: on a shared machine OpenMP's spinning threads turn
    # every other process's burst into a stall that dwarfs what is being measured.
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    all_on_one_core = "--all-on-one-core" in sys.argv[1:]
    plain_cmd = [sys.executable, str(SCRIPT), str(STEPS)]
    plain: list[float] = []
    watched: list[float] = []
    every: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        report = os.path.join(folder, "run.json")
        run_cmd = [sys.executable, "-m", "netscope", "run", "-o", report, str(SCRIPT), str(STEPS)]
        for i in range(REPEATS):
            with tempfile.TemporaryDirectory() as barrier:
                env["NETSCOPE_BENCH_BARRIER"] = barrier  # the two loops start together
                order = [plain_cmd, run_cmd] if i % 2 == 0 else [run_cmd, plain_cmd]
                launcher = frozenset() if all_on_one_core else frozenset({int(i % 2 == 0)})
                outputs = run_on_one_core(order, env, launchers=launcher)
            if i % 2:
                outputs.reverse()
            plain.append(loop_cpu_seconds(outputs[0]))
            watched.append(loop_cpu_seconds(outputs[1]))
            run = json.loads(Path(report).read_text())["run"]
            every.append(f"{run['sampled_steps']} (1 in {run['sample_every']})")
    ratios = [w / p - 1.0 for w, p in zip(watched, plain, strict=True)]
    p_med, w_med = statistics.median(plain), statistics.median(watched)
    overhead = w_med / p_med - 1.0
    threads = env["OMP_NUM_THREADS"]
    loop = (
        f"{STEPS}-step CNN training loop (DataLoader, Adam, loss.item() every step, "
        f"{threads} thread), {REPEATS} pairs at the same time on one core"
        + (" (the `netscope run` parent too)" if all_on_one_core else " (its parent on the other)")
    )
    print("## netscope run (CPU training loop)\n")
    print(
        "| measure | result | target | verdict |\n|---|---|---|---|\n"
        f"| {loop}: median loop CPU time under `netscope run -o` vs plain | "
        f"{w_med:.3f} s vs {p_med:.3f} s = {overhead:+.1%}; pairs {min(ratios):+.1%} to "
        f"{max(ratios):+.1%} | <= +{TARGET:.0%} | {'met' if overhead <= TARGET else 'NOT met'} |"
    )
    print(
        f"\nPlain runs: {', '.join(f'{v:.3f}' for v in plain)} s CPU; under netscope: "
        f"{', '.join(f'{v:.3f}' for v in watched)} s; steps sampled {', '.join(every)}. "
        f"Load average {' '.join(f'{v:.1f}' for v in os.getloadavg())} at the end. "
        f"`NETSCOPE_BENCH_STEPS={STEPS} NETSCOPE_BENCH_REPEATS={REPEATS} python "
        f"benchmarks/bench_run.py{' --all-on-one-core' if all_on_one_core else ''}`."
    )


if __name__ == "__main__":
    main()

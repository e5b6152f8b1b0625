"""`netscope run` overhead on framework loops: Lightning, accelerate (gradient accumulation over
2 micro-batches) and the Hugging Face Trainer, each plain and under `netscope run -o`.

Each pair runs the plain loop and the loop under netscope at the same time on one core
(harness.run_on_one_core: a shared machine's core speed swings by tens of percent from second to
second, which runs one after another cannot tell from a few percent of overhead); the measure is
the loop's CPU time, as the script reads it itself (first step's start to the last step's end:
benchmarks/scripts/framework_loop.py), so start-up, imports and the framework's set-up are
counted on neither side, nor is the `netscope run` parent process (a separate process: its CPU
time is not the script's). Prints a Markdown section for docs/benchmarks.md with every pair's
ratio, so the spread is visible next to the median.

The overhead is the median of the pairs' ratios: the two loops of a pair share the core's speed
of the moment, which moves by 15-20 % between pairs; a ratio of the two arms' medians (this
script's figure until 2026-12-07) sets loops of different pairs against each other, and read
+4.9 % where the pairs' own ratios had a median of +3.0 %. Both are printed.

The `netscope run` parent (it reads the script's messages; the script runs in its child) runs on
the other core, as it would on any machine with a core to spare, and the script's process is
moved to the measured core (harness.run_on_one_core ``launchers``). ``--all-on-one-core`` keeps
the parent on the measured core too: a conservative measure, each of its wake-ups preempting one
of the two loops there.

    python benchmarks/bench_frameworks.py                    # plain vs under netscope
    python benchmarks/bench_frameworks.py --all-on-one-core  # ... the parent on the same core
    python benchmarks/bench_frameworks.py --same             # plain vs plain: the method itself
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import ROOT, run_on_one_core

SCRIPT = ROOT / "benchmarks" / "scripts" / "framework_loop.py"
FRAMEWORKS = ("lightning", "accelerate", "trainer")
# issue 22's target is judged on 3000 steps (12-28 s here); NETSCOPE_BENCH_STEPS=600 is the short
# loop, where what netscope spends once weighs about two points (docs/benchmarks.md)
STEPS = int(os.environ.get("NETSCOPE_BENCH_STEPS", "3000"))
REPEATS = int(os.environ.get("NETSCOPE_BENCH_REPEATS", "4"))
TARGET = 0.03


def loop_cpu_seconds(output: str) -> float:
    cpu = re.search(r"loop_cpu_s=([0-9.]+)", output)
    if cpu is None:
        raise RuntimeError(f"no loop time in: {output[-2000:]!r}")
    return float(cpu.group(1))


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def measure(
    framework: str, folder: str, same: bool = False, all_on_one_core: bool = False
) -> tuple[list[float], list[float], list[str]]:
    """Each pair: the plain loop and the loop under `netscope run` at the same time on one core
    (harness.run_on_one_core), launched in alternating order; the loops' CPU times. ``same``:
    the plain loop twice (the method's own agreement)."""
    # one intra-op thread on both sides: OpenMP's spinning threads turn every other process's
    # burst on a shared machine into a stall that dwarfs what is being measured
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    env.setdefault("HF_HUB_OFFLINE", "1")
    report = os.path.join(folder, f"{framework}.json")
    plain_cmd = [sys.executable, str(SCRIPT), framework, str(STEPS)]
    run_cmd = [sys.executable, "-m", "netscope", "run", "-o", report, *plain_cmd[1:]]
    if same:
        run_cmd = plain_cmd
    plain: list[float] = []
    watched: list[float] = []
    sampled: list[str] = []
    for i in range(REPEATS):
        first_plain = i % 2 == 0
        commands = [plain_cmd, run_cmd] if first_plain else [run_cmd, plain_cmd]
        launcher = frozenset() if same or all_on_one_core else frozenset({int(first_plain)})
        outputs = run_on_one_core(commands, env, launchers=launcher)
        if not first_plain:
            outputs.reverse()
        plain.append(loop_cpu_seconds(outputs[0]))
        watched.append(loop_cpu_seconds(outputs[1]))
        if not same:
            run = json.loads(Path(report).read_text())["run"]
            sampled.append(f"{run['sampled_steps']} (1 in {run['sample_every']})")
    return plain, watched, sampled


def row(what: str, plain: list[float], watched: list[float], same: bool = False) -> str:
    ratios = [w / p - 1.0 for w, p in zip(watched, plain, strict=True)]
    p_med, w_med = statistics.median(plain), statistics.median(watched)
    overhead = statistics.median(ratios)
    verdict = "met" if overhead <= TARGET else "NOT met"
    if min(ratios) < -TARGET and max(ratios) > TARGET:
        verdict += " (not resolved: pairs spread past the target both ways)"
    return (
        f"| {what} {'plain again' if same else 'under `netscope run -o`'} vs plain | "
        f"{overhead:+.1%} (median of the pairs; pairs {min(ratios):+.1%} to "
        f"{max(ratios):+.1%}; the arms' medians {w_med:.3f} s vs {p_med:.3f} s = "
        f"{w_med / p_med - 1.0:+.1%}) | <= +{TARGET:.0%} | {verdict} |"
    )


def utc_now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())


def commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def main() -> None:
    same = "--same" in sys.argv[1:]
    all_on_one_core = "--all-on-one-core" in sys.argv[1:]
    rows, details = [], []
    began = utc_now()
    loads = [load()]
    with tempfile.TemporaryDirectory() as folder:
        for framework in FRAMEWORKS:
            plain, watched, sampled = measure(framework, folder, same, all_on_one_core)
            loads.append(load())
            what = f"{framework}, {STEPS} steps, {REPEATS} interleaved pairs: loop"
            rows.append(row(f"{what} CPU time", plain, watched, same))
            details.append(
                f"{framework}: plain {', '.join(f'{c:.3f}' for c in plain)} s CPU; "
                f"{'plain again' if same else 'under netscope'} "
                f"{', '.join(f'{c:.3f}' for c in watched)} s"
                + (f"; steps sampled {', '.join(sampled)}." if sampled else ".")
            )
    print("## netscope run on framework loops (CPU)\n")
    print("| measure | result | target | verdict |\n|---|---|---|---|")
    print("\n".join(rows))
    print(
        "\nThe same MLP (256-512-512-256, batch 64, SGD, the loss read every 10 steps) in each "
        "framework's quickstart style (benchmarks/scripts/framework_loop.py); accelerate runs 2 "
        f"micro-batches per step. Load average (1/5/15 min) before and after each framework: "
        f"{' -> '.join(loads)}.\n\n" + "\n".join(details)
    )
    parent = (
        ""
        if same
        else " with the `netscope run` parent on the same core too"
        if all_on_one_core
        else " with the `netscope run` parent process on the other core"
    )
    print(
        "\nEach pair ran both loops at the same time on one core (benchmarks/harness.py "
        f"run_on_one_core){parent}; wall time is not compared: the two share the core."
    )
    print(
        f"\nRun {began} to {utc_now()} on commit {commit()} ({os.cpu_count()} CPUs, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '1')}) with "
        f"NETSCOPE_BENCH_STEPS={STEPS} NETSCOPE_BENCH_REPEATS={REPEATS} "
        f"python benchmarks/bench_frameworks.py{' --same' if same else ''}"
        f"{' --all-on-one-core' if all_on_one_core else ''}."
    )


if __name__ == "__main__":
    main()

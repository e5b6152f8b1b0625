"""What `netscope run`'s agent adds to a short training loop, measured in one process.

The end-to-end benchmark (bench_run.py) times whole processes; on a shared machine their spread
(0.7-1.3x between pairs) hides a few percent. Here the same 150-step CNN loop
(benchmarks/scripts/train_loop.py: DataLoader, Adam, loss.item() every step, one thread) runs
alternately plain and under a freshly installed agent (its messages written to /dev/null), in one
process. Besides wall time it reads the main thread's CPU time (``time.thread_time``), which other
processes' load does not inflate: the loop is single-threaded, so that ratio is what the agent's
hooks, snapshot, counted step and detectors cost the loop itself.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import torch
from harness import ROOT

sys.path.insert(0, str(ROOT / "benchmarks" / "scripts"))
from loop_kit import train
from train_loop import setup

from netscope.engine.run.channel import Sender
from netscope.engine.run.messages import Steps
from netscope.engine.run.watcher import Watcher

STEPS = int(os.environ.get("NETSCOPE_BENCH_STEPS", "150"))
REPEATS = int(os.environ.get("NETSCOPE_BENCH_REPEATS", "6"))
TARGET = 0.03


def loop(steps: int) -> tuple[float, float]:
    """(wall s, main-thread CPU s) of ``steps`` training steps, from the first batch on."""
    parts = setup(steps)
    wall, cpu = time.perf_counter(), time.thread_time()
    train(*parts)
    return time.perf_counter() - wall, time.thread_time() - cpu


class Kept(Sender):
    """Keeps the agent's messages (no pipe): the step records say which step was counted."""

    def __init__(self) -> None:
        super().__init__(None)  # type: ignore[arg-type]
        self.messages: list[object] = []

    def send(self, message: object) -> None:
        self.messages.append(message)


ONE_TIME: list[tuple[float, float]] = []  # per watched run: (wall, CPU) s of the one-time work


def watched(steps: int) -> tuple[float, float]:
    sender = Kept()
    watcher = Watcher(sender, "train_loop.py")
    spent: list[tuple[float, float]] = []
    for name in ("_take_snapshot", "_finish_watch"):
        original = getattr(watcher, name)

        def timed(*args: object, _original=original) -> None:
            wall, cpu = time.perf_counter(), time.thread_time()
            _original(*args)
            spent.append((time.perf_counter() - wall, time.thread_time() - cpu))

        setattr(watcher, name, timed)
    watcher.install()
    try:
        result = loop(steps)
    finally:
        watcher.finish()
    records = [r for m in sender.messages if isinstance(m, Steps) for r in m.records]
    plain = statistics.median(r[1] for r in records if not r[6]) / 1000.0
    counted = records[1][1] / 1000.0 if len(records) > 1 else 0.0  # step 2 is the counted one
    extra = max(counted - plain, 0.0)  # the counted step's own slowdown (wall)
    ONE_TIME.append((sum(w for w, _ in spent) + extra, sum(c for _, c in spent)))
    return result


def main() -> None:
    torch.set_num_threads(1)
    loop(10)  # warm up torch's kernels and allocator
    watched(10)  # ... and netscope's imports, as `netscope run` does before the script
    plain: list[tuple[float, float]] = []
    under: list[tuple[float, float]] = []
    for i in range(REPEATS):
        order = [(loop, plain), (watched, under)]
        for run, into in order if i % 2 == 0 else order[::-1]:
            into.append(run(STEPS))
    load = os.getloadavg()[0]
    cpu_ratios = [u[1] / p[1] for u, p in zip(under, plain, strict=True)]
    wall_ratios = [u[0] / p[0] for u, p in zip(under, plain, strict=True)]
    cpu = statistics.median(cpu_ratios) - 1.0
    wall = statistics.median(wall_ratios) - 1.0
    print("## netscope run's agent, in process (CPU training loop)\n")
    print(
        "| measure | result | target | verdict |\n|---|---|---|---|\n"
        f"| {STEPS}-step CNN loop, {REPEATS} interleaved pairs in one process: median per-pair "
        f"ratio of the main thread's CPU time, agent vs plain | {cpu:+.1%} (pairs "
        f"{', '.join(f'{r:.3f}' for r in cpu_ratios)}) | <= +{TARGET:.0%} | "
        f"{'met' if cpu <= TARGET else 'NOT met'} |\n"
        f"| ... wall time | {wall:+.1%} (pairs {', '.join(f'{r:.3f}' for r in wall_ratios)}) | "
        f"<= +{TARGET:.0%} | {'met' if wall <= TARGET else 'NOT met'} |"
    )
    one_wall = statistics.median(w for w, _ in ONE_TIME[1:])
    one_cpu = statistics.median(c for _, c in ONE_TIME[1:])
    loop_wall = statistics.median(p[0] for p in plain)
    loop_cpu = statistics.median(p[1] for p in plain)
    print(
        f"| one-time work inside the loop (the snapshot's walk and the counted step's figures; "
        f"wall adds the counted step's own slowdown), median of the runs | wall "
        f"{one_wall * 1000:.1f} ms = {one_wall / loop_wall:.2%} of the plain loop's; CPU "
        f"{one_cpu * 1000:.1f} ms = {one_cpu / loop_cpu:.2%} of its CPU | <= {TARGET:.0%} | "
        f"{'met' if max(one_wall / loop_wall, one_cpu / loop_cpu) <= TARGET else 'NOT met'} |"
    )
    print(
        f"\nPlain loop CPU {statistics.median(p[1] for p in plain):.3f} s, wall "
        f"{statistics.median(p[0] for p in plain):.3f} s (medians); load average {load:.1f}."
    )


if __name__ == "__main__":
    main()

"""Where `netscope run`'s time goes on a framework loop, step by step (issue 22).

    python benchmarks/bench_framework_steps.py {lightning,accelerate,trainer} [STEPS] [PAIRS]

Runs benchmarks/scripts/framework_loop.py plain and under `netscope run -o`, each pair at the
same time on one core (benchmarks/harness.py run_on_one_core), with a
probe (this file, as the script) that reads each step's CPU time from the framework's own step
hooks and, under netscope, what the watcher does on that step (counted, heartbeat, warm-up,
recorded, block-timed, lean, quiet with its phases read, or plain with the global hooks).
Prints each kind of step's count, median CPU time (ms) and extra CPU time over as many of the
plain run's steps at its mean (so the extras add up to the difference of the two totals). Then
counts the
Python calls of a plain step in one process, without and with netscope's watcher
(`sys.setprofile`, 20 steps each): a count the machine's load does not change.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import io
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "scripts"))

import framework_loop  # noqa: E402
from harness import run_on_one_core  # noqa: E402

Marks = list[tuple[float, str]]  # (process CPU time at a step's start, the watcher's step kind)


def _watcher() -> Any:
    if "netscope.engine.run.watcher" not in sys.modules:
        return None
    from netscope.engine.run.watcher import Watcher

    return next((o for o in gc.get_objects() if isinstance(o, Watcher)), None)


def _kind(agent: Any) -> str:
    if agent is None:
        return "plain run"
    if agent.watch is not None:
        return "counted"
    if agent.sampled is not None:
        return "warm-up" if agent.warming else "recorded"
    if agent.block_clock is not None:
        return "block-timed"
    if agent.gil_step:
        return "heartbeat"
    quiet = getattr(agent, "quiet", None)
    if quiet is not None and quiet.on:
        return "lean" if getattr(quiet, "lean", False) else "quiet, phases read"
    return "plain, global hooks"


def probe(framework: str, steps: int, out: str) -> None:
    """Run as the script: each step's start in CPU time and kind, written to ``out``."""
    marks: Marks = []
    found: list[Any] = []

    def begins() -> None:
        if not marks:
            found.append(_watcher())
            framework_loop.Timer.began = time.perf_counter()  # the script checks a step ran
        marks.append((time.process_time(), _kind(found[0])))

    framework_loop.Timer.step_begins = staticmethod(begins)  # type: ignore[method-assign]
    framework_loop.Timer.step_ends = staticmethod(lambda: None)  # type: ignore[method-assign]
    sys.argv = ["framework_loop.py", framework, str(steps)]
    with contextlib.redirect_stdout(io.StringIO()):
        framework_loop.main()
    Path(out).write_text(json.dumps(marks))


def _steps(path: Path) -> list[tuple[float, str]]:
    marks = json.loads(path.read_text())
    return [(b[0] - a[0], a[1]) for a, b in itertools.pairwise(marks)]


def step_kinds(framework: str, steps: int, pairs: int) -> None:
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    env.setdefault("HF_HUB_OFFLINE", "1")
    me = [str(Path(__file__).resolve()), "--probe", framework, str(steps)]
    with tempfile.TemporaryDirectory() as folder:
        for pair in range(pairs):
            plain, watched = Path(folder, "plain.json"), Path(folder, "watched.json")
            report = f"{folder}/r.json"
            runs = [
                [sys.executable, *me, str(plain)],
                [sys.executable, "-m", "netscope", "run", "-o", report, *me, str(watched)],
            ]
            run_on_one_core(runs if pair % 2 == 0 else runs[::-1], env)
            base = _steps(plain)
            median = statistics.median(cpu for cpu, _ in base[10:])
            mean = statistics.fmean(cpu for cpu, _ in base)
            under = _steps(watched)
            load = " ".join(f"{v:.1f}" for v in os.getloadavg())
            print(
                f"\n{framework}, pair {pair + 1} (load {load}): plain run "
                f"{sum(c for c, _ in base):.3f} s CPU, median step {median * 1e3:.2f} ms; "
                f"under netscope {sum(c for c, _ in under):.3f} s"
            )
            kinds: dict[str, list[float]] = collections.defaultdict(list)
            for cpu, kind in under:
                kinds[kind].append(cpu)
            for kind, cpus in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
                extra = sum(cpus) - mean * len(cpus)
                middle = statistics.median(cpus) * 1e3
                print(f"  {kind:20s} {len(cpus):4d} steps, {middle:6.2f} ms, extra {extra:+.3f} s")


def _count_calls(framework: str, watched: bool, steps: int = 120) -> float:
    """Python calls (and C calls) of steps 80-100 of a loop, plain steps only under netscope."""
    from netscope.engine.run import watcher as watcher_module
    from netscope.engine.run.channel import Sender
    from netscope.engine.run.watcher import Watcher

    calls = [0]
    seen = [0]

    def count(frame: Any, event: str, arg: Any) -> None:
        if event in ("call", "c_call"):
            calls[0] += 1

    agent = None
    if watched:
        # the profile slows a step past LEAN_BELOW_MS: count the calls of steps at the loop's speed
        watcher_module.LEAN_BELOW_MS = float("inf")
        agent = Watcher(Sender(os.open(os.devnull, os.O_WRONLY)), "framework_loop.py")
        agent.install()

    def begins() -> None:
        seen[0] += 1
        if agent is not None and seen[0] == 60:  # plain steps from here on
            agent.plan.next_sampled = agent.plan.next_block = agent.plan.next_heartbeat = 10**9
        sys.setprofile(count if 80 <= seen[0] < 100 else None)

    framework_loop.Timer.step_begins = staticmethod(begins)  # type: ignore[method-assign]
    framework_loop.Timer.step_ends = staticmethod(lambda: None)  # type: ignore[method-assign]
    run = getattr(framework_loop, f"run_{framework}")
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            run(steps)
    finally:
        sys.setprofile(None)
        if agent is not None:
            agent.finish()
    return calls[0] / 20


def main() -> None:
    if sys.argv[1:2] == ["--probe"]:
        probe(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return
    framework = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    step_kinds(framework, steps, pairs)
    plain, watched = _count_calls(framework, False), _count_calls(framework, True)
    print(f"\nPython calls in a plain step: {plain:.0f} plain, {watched:.0f} under netscope's "
          f"watcher ({watched - plain:+.0f}, {watched / plain - 1:+.1%})")  # fmt: skip


if __name__ == "__main__":
    main()

"""What each part of `netscope run`'s steady state costs a short-step loop (issue 22).

    python benchmarks/bench_lean_parts.py FRAMEWORK PART[,PART...] [STEPS] [PAIRS]

Each pair runs benchmarks/scripts/framework_loop.py twice, in process with netscope's watcher
installed (its messages to /dev/null), at the same time on one core (harness.run_on_one_core):
in one arm PART is taken away at step 60, in the other nothing is. The measure is the loop's CPU
time over steps 100 to the end, so the early steps (the burst, the counted step) are the same in
both; the difference is what PART costs the steady state. Parts:

- ``opthooks``: the optimizer hooks (every step boundary: lean or full, and all it starts);
- ``leanpath``: a lean boundary that only moves the step clock (never the long way);
- ``memory``: no memory read;  ``phased``: no quiet step with its phases read;
- ``flush``: no batch of steps sent;  ``grads``: no gradient refresh;
- ``patches``: the DataLoader's ``__next__`` and ``backward()`` unpatched;
- ``periodic``: no more sampled, block-timed, heartbeat, global-hook (find) or phased steps: every
  step from here is lean (what the steady state's windows cost, their switches included);
- ``all``: the watcher uninstalled.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import time
from typing import Any

from harness import ROOT, run_on_one_core

sys.path.insert(0, str(ROOT / "benchmarks" / "scripts"))

TAKEN_AT = 60  # the step at whose start PART is taken away
MEASURED_FROM = 100


def take_away(agent: Any, parts: str) -> None:
    """Take ``parts`` (comma-separated) away from a running watcher."""
    import netscope.engine.run.watcher as watcher_module

    for part in parts.split(","):
        if part == "all":
            agent.uninstall()
        elif part == "opthooks":
            for handle in agent._handles[-2:]:  # the optimizer pre and post hooks, last installed
                handle.remove()
        elif part == "leanpath":

            def clock_only(optimizer: Any) -> None:
                clock = agent.phases.clocks[0]
                clock.index += 1
                clock.start = time.perf_counter()

            agent._lean_stepped = clock_only
        elif part == "memory" and agent.memory is not None:
            agent.memory.every = 10**9
        elif part == "phased":
            agent.quiet.next_phased = 10**9
        elif part == "flush":
            watcher_module.FLUSH_S = 1e9
        elif part == "grads":
            agent.grad_refresh_s = 1e9
        elif part == "periodic":
            plan = agent.plan
            plan.next_sampled = plan.next_block = plan.next_heartbeat = 10**9
            watcher_module.FIND_EVERY = 10**9
            agent.quiet.next_phased = 10**9
        elif part == "patches":
            for restore in reversed(agent._restore):
                restore()
            agent._restore = []
        elif part:
            raise SystemExit(f"unknown part: {part}")


def probe(framework: str, steps: int, parts: str) -> None:
    """One arm, in this process: the loop with the watcher, ``parts`` taken away at step 60."""
    import framework_loop

    from netscope.engine.run.channel import Sender
    from netscope.engine.run.watcher import Watcher

    agent = Watcher(Sender(os.open(os.devnull, os.O_WRONLY)), "framework_loop.py")
    agent.install()
    seen = [0]
    span = [0.0, 0.0]

    def begins() -> None:
        seen[0] += 1
        if seen[0] == TAKEN_AT and parts:
            take_away(agent, parts)
        if seen[0] == MEASURED_FROM:
            span[0] = time.process_time()

    def ends() -> None:
        span[1] = time.process_time()

    framework_loop.Timer.step_begins = staticmethod(begins)  # type: ignore[method-assign]
    framework_loop.Timer.step_ends = staticmethod(ends)  # type: ignore[method-assign]
    framework_loop.torch.manual_seed(0)
    getattr(framework_loop, f"run_{framework}")(steps)
    print(f"loop_cpu_s={span[1] - span[0]:.4f}", flush=True)


def main() -> None:
    if sys.argv[1:2] == ["--probe"]:
        probe(sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "")
        return
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    framework, parts = sys.argv[1], sys.argv[2]
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 600
    pairs = int(sys.argv[4]) if len(sys.argv) > 4 else 6
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    arm = [sys.executable, os.path.abspath(__file__), "--probe", framework, str(steps)]
    costs = []
    for pair in range(pairs):
        commands = [[*arm, parts], arm] if pair % 2 == 0 else [arm, [*arm, parts]]
        outputs = run_on_one_core(commands, env)
        if pair % 2:
            outputs.reverse()
        without, watched = (
            float(re.search(r"loop_cpu_s=([0-9.]+)", out).group(1))  # type: ignore[union-attr]
            for out in outputs
        )
        costs.append(watched / without - 1.0)
        print(
            f"{framework}, pair {pair + 1}: without {parts} {without:.3f} s CPU, "
            f"watched {watched:.3f} s ({costs[-1]:+.2%})",
            flush=True,
        )
    print(
        f"{framework}: {parts} costs steps {MEASURED_FROM}-{steps} a median "
        f"{statistics.median(costs):+.2%} (pairs {min(costs):+.2%} to {max(costs):+.2%})"
    )


if __name__ == "__main__":
    main()

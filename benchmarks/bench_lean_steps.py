"""What a lean step costs with no `netscope run` parent: the watcher installed in the loop's own
process (issue 22).

    python benchmarks/bench_lean_steps.py {lightning,accelerate,trainer} [STEPS] [PAIRS]
        [--variants lean,removed] [--remove-at STEP]

Each pair runs two copies of benchmarks/scripts/framework_loop.py at the same time on one core
(harness.run_on_one_core), their loops started together: a plain one, and one with netscope's
watcher installed in process (its messages to /dev/null). From step 60 the watched one samples
nothing more, finds no model and reads no phases: its steps are lean. Prints the CPU time of
steps 100 on of each, for two watched variants: ``lean`` (the watcher on) and ``removed`` (the
watcher uninstalled at step 60: what its early steps leave behind in the process).
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "scripts"))

import framework_loop  # noqa: E402
from harness import run_on_one_core  # noqa: E402
from loop_kit import wait_for_the_other  # noqa: E402

FROM_STEP = 100  # steps counted from here (the watcher's early steps and the burst are over)
LEAN_AT = 60  # the step from which the watched loop's steps are all lean (--remove-at: removed)


def probe(variant: str, framework: str, steps: int, folder: str, lean_at: int) -> None:
    """Run as the loop: wait for the other copy, then print the CPU time of steps FROM_STEP on."""
    from netscope.engine.run import watcher as watcher_module
    from netscope.engine.run.channel import Sender

    agent = None
    if variant != "plain":
        sink = Sender(os.open(os.devnull, os.O_WRONLY))
        agent = watcher_module.Watcher(sink, "framework_loop.py")
        agent.install()
    marks: list[float] = []

    def begins() -> None:
        if not marks:  # both loops start together
            wait_for_the_other(folder)
            framework_loop.Timer.began = time.perf_counter()
        marks.append(time.process_time())
        if agent is not None and len(marks) == lean_at:
            agent.plan.next_sampled = agent.plan.next_block = agent.plan.next_heartbeat = 10**9
            watcher_module.FIND_EVERY = 10**9
            if agent.quiet is not None:
                agent.quiet.next_phased = 10**9
            if variant == "removed":
                agent.uninstall()

    framework_loop.Timer.step_begins = staticmethod(begins)  # type: ignore[method-assign]
    framework_loop.Timer.step_ends = staticmethod(lambda: None)  # type: ignore[method-assign]
    sys.argv = ["framework_loop.py", framework, str(steps)]
    with contextlib.redirect_stdout(io.StringIO()):
        framework_loop.main()
    lean = agent is not None and agent.lean
    print(f"cpu_s={marks[-1] - marks[FROM_STEP]:.4f} lean={lean}")


def cpu_seconds(output: str) -> float:
    return float(output.split("cpu_s=")[1].split()[0])


def main() -> None:
    if sys.argv[1:2] == ["--probe"]:
        probe(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6]))
        return
    options = sys.argv[1:]
    variants, lean_at = ["lean", "removed"], LEAN_AT
    for flag in ("--variants", "--remove-at"):
        if flag in options:
            at = options.index(flag)
            value = options[at + 1]
            del options[at : at + 2]
            if flag == "--variants":
                variants = value.split(",")
            else:
                lean_at = int(value)
    sys.argv = [sys.argv[0], *options]
    framework = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    env.setdefault("HF_HUB_OFFLINE", "1")
    me = [sys.executable, str(Path(__file__).resolve()), "--probe"]
    for variant in variants:
        ratios = []
        for pair in range(pairs):
            with tempfile.TemporaryDirectory() as folder:
                runs = [
                    [*me, name, framework, str(steps), folder, str(lean_at)]
                    for name in ("plain", variant)
                ]
                order = runs if pair % 2 == 0 else runs[::-1]
                outputs = run_on_one_core(order, env)
                if pair % 2:
                    outputs.reverse()
            plain, watched = cpu_seconds(outputs[0]), cpu_seconds(outputs[1])
            ratios.append(watched / plain - 1.0)
            print(f"{framework} {variant}, pair {pair + 1}: steps {FROM_STEP}-{steps} plain "
                  f"{plain:.3f} s CPU, watched {watched:.3f} s ({ratios[-1]:+.1%})")  # fmt: skip
        print(f"{framework} {variant}: median {statistics.median(ratios):+.1%} "
              f"(pairs {min(ratios):+.1%} to {max(ratios):+.1%})\n")  # fmt: skip


if __name__ == "__main__":
    main()

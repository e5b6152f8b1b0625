"""Where `netscope run`'s overhead on a short-step loop goes, by kind of step (issue 22).

    python benchmarks/bench_step_kinds.py FRAMEWORK [STEPS] [PAIRS] [WITHOUT]

Each pair runs benchmarks/scripts/framework_loop.py twice at the same time on one core
(harness.run_on_one_core): in one arm with netscope's watcher installed in process (its messages
to /dev/null), in the other without. Each arm records the process's CPU time at every step's
start; the watched arm also records what kind of step the watcher made of it:

- ``first``: step 0 (the model found, the hooks' first calls);
- ``S`` sampled (the detectors' warm-up or recorded steps: the early burst, later samples);
- ``W`` the counted step (FLOPs, memory);  ``B`` the block clock's step;
- ``H`` a heartbeat window (interpreter-lock lateness);
- ``F`` every module hooked (phases and calls read);  ``Q`` quiet (the roots hooked);
- ``L`` lean (no module hook: the step's time only).

A kind's extra is the sum over its steps of (watched step - the plain arm's step of the same
index: the loop does the same work at the same step in both arms, its logging included); the
kinds add up to the whole difference. The lean steps' extra is mostly the pairing's own spread
(two processes sharing a core do not run alike); the other kinds are what the watcher spends
once or now and then.

WITHOUT (``function``, ``dispatch`` or ``function,dispatch``) takes the sampled steps' Python
modes out of the watched arm (the detectors then see nothing: an experiment on what the modes
themselves cost, not a way to run netscope).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from typing import Any

from harness import ROOT, run_on_one_core

sys.path.insert(0, str(ROOT / "benchmarks" / "scripts"))

KINDS = ["first", "S", "W", "B", "H", "F", "Q", "L"]


def kind_of(agent: Any) -> str:
    """What the watcher makes of the step about to start."""
    if agent.sampled is not None:
        return "S"
    if agent.watch is not None:
        return "W"
    if agent.block_clock is not None:
        return "B"
    if agent.gil_step:
        return "H"
    if agent.lean:
        return "L"
    quiet = agent.quiet
    return "Q" if quiet is not None and quiet.on else "F"


class _NoMode:
    """Stands in for a detector mode taken out: enters and exits, intercepts nothing."""

    def __init__(self, *_args: Any) -> None:
        pass

    def __enter__(self) -> _NoMode:
        return self

    def __exit__(self, *_exc: Any) -> None:
        return None


def take_out(modes: str) -> None:
    """The sampled steps' ``function`` and/or ``dispatch`` mode replaced by ``_NoMode``."""
    import netscope.engine.run.loop_detect as loop_detect

    for mode in filter(None, modes.split(",")):
        if mode == "function":
            loop_detect.FunctionLevel = _NoMode  # type: ignore[assignment, misc]
        elif mode == "dispatch":
            loop_detect._DispatchLevel = _NoMode  # type: ignore[assignment, misc]
            loop_detect.skip_dynamo_import = lambda _mode: None  # type: ignore[assignment]
        else:
            raise SystemExit(f"unknown mode: {mode}")


def probe(framework: str, steps: int, watched: bool, without: str = "") -> None:
    """One arm, in this process: per-step CPU marks (and kinds, when watched) as JSON."""
    import framework_loop

    agent = None
    if watched:
        from netscope.engine.run.channel import Sender
        from netscope.engine.run.watcher import Watcher

        take_out(without)
        agent = Watcher(Sender(os.open(os.devnull, os.O_WRONLY)), "framework_loop.py")
        agent.install()
    marks: list[float] = []
    kinds: list[str] = []

    def begins() -> None:
        marks.append(time.process_time())
        kinds.append("first" if agent is None or len(marks) == 1 else kind_of(agent))

    framework_loop.Timer.step_begins = staticmethod(begins)  # type: ignore[method-assign]
    framework_loop.Timer.step_ends = staticmethod(lambda: None)  # type: ignore[method-assign]
    framework_loop.torch.manual_seed(0)
    getattr(framework_loop, f"run_{framework}")(steps)
    marks.append(time.process_time())
    print("MARKS=" + json.dumps({"marks": marks, "kinds": kinds}), flush=True)


def _arm(output: str) -> dict[str, Any]:
    return json.loads(output.split("MARKS=", 1)[1].splitlines()[0])


def main() -> None:
    if sys.argv[1:2] == ["--probe"]:
        probe(sys.argv[2], int(sys.argv[3]), sys.argv[4] == "watched", *sys.argv[5:6])
        return
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    framework = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    without = sys.argv[4] if len(sys.argv) > 4 else ""
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    arm = [sys.executable, os.path.abspath(__file__), "--probe", framework, str(steps)]
    extras: dict[str, list[float]] = {kind: [] for kind in KINDS}
    counts: dict[str, int] = {}
    totals = []
    for pair in range(pairs):
        commands = [[*arm, "watched", without], [*arm, "plain"]]
        if pair % 2:
            commands.reverse()
        outputs = run_on_one_core(commands, env)
        if pair % 2:
            outputs.reverse()
        watched, plain = _arm(outputs[0]), _arm(outputs[1])
        ours = [b - a for a, b in zip(watched["marks"], watched["marks"][1:], strict=False)]
        theirs = [b - a for a, b in zip(plain["marks"], plain["marks"][1:], strict=False)]
        by_kind: dict[str, float] = dict.fromkeys(KINDS, 0.0)
        for kind, seconds, plain_seconds in zip(watched["kinds"], ours, theirs, strict=False):
            by_kind[kind] += (seconds - plain_seconds) * 1000.0
            if pair == 0:
                counts[kind] = counts.get(kind, 0) + 1
        for kind in KINDS:
            extras[kind].append(by_kind[kind])
        totals.append(sum(ours) / sum(theirs) - 1.0)
        print(
            f"{framework}, pair {pair + 1}: plain {sum(theirs):.3f} s CPU, watched "
            f"{sum(ours):.3f} s ({totals[-1]:+.2%}); ms over the plain arm's same steps: "
            + ", ".join(f"{k} {by_kind[k]:+.1f}" for k in KINDS if k in counts),
            flush=True,
        )
    whole = statistics.median(totals)
    taken = f", without the {without} mode(s)" if without else ""
    print(f"\n{framework}, {steps} steps, {pairs} pairs{taken}: whole loop {whole:+.2%}", end=" ")
    print(f"(pairs {min(totals):+.2%} to {max(totals):+.2%})\n")
    print("| kind | steps | ms over the plain arm's same steps, median of pairs (spread) |")
    print("|---|---|---|")
    for kind in KINDS:
        if kind in counts:
            values = extras[kind]
            print(
                f"| {kind} | {counts[kind]} | {statistics.median(values):+.1f} "
                f"({min(values):+.1f} to {max(values):+.1f}) |"
            )


if __name__ == "__main__":
    main()

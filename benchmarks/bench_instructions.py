"""What `netscope run`'s watcher adds to a short-step loop, in instructions, by kind of step.

    python benchmarks/bench_instructions.py FRAMEWORK [STEPS]

The CPU-time benchmarks (bench_frameworks.py, bench_step_kinds.py) move by a point or two
between calls on a shared machine. Instructions do not: callgrind counts the same for the same
binary and inputs whatever else the machine does. Two processes run
benchmarks/scripts/framework_loop.py in process under ``valgrind --tool=callgrind`` (on the two
cores at once): one plain, one with netscope's watcher installed (its messages to /dev/null).
Instructions are counted over the loop only (a client request at the first step's start and the
last step's end) and dumped at every step's start, so each step of the watched arm is compared
with the plain arm's step of the same index, grouped by what the watcher made of it (the kinds of
bench_step_kinds.py). What instructions do not show: cache and thread effects (the heartbeat's
interpreter-lock handovers cost time, not instructions); the CPU-time benchmarks keep measuring
those.

Under callgrind the loop runs ~800 x slower, so the watcher's clock is slowed by ``SLOWDOWN`` in
both arms: what it paces by time (a batch of steps every 0.5 s, gradient statistics every 5 s,
lean steps below 20 ms, memory reads) happens about as often per step as at native speed. Needs
valgrind and a C compiler with valgrind's headers; a 200-step Lightning loop takes ~17 min.
"""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import ROOT

sys.path.insert(0, str(ROOT / "benchmarks" / "scripts"))

# callgrind's slowdown of these loops (a Lightning step: ~5 ms native, ~4 s under callgrind): the
# watcher's clock runs this much slower, so it sees steps of about their native length
SLOWDOWN = float(os.environ.get("NETSCOPE_BENCH_SLOWDOWN", "800"))
KINDS = {  # bench_step_kinds.kind_of's letters, as the table names them
    "first": "first (model found, snapshot with value statistics)",
    "W": "W (the counted step: FLOPs, memory)",
    "H": "H (heartbeat windows)",
    "S": "S (the burst's warm-up and recorded steps)",
    "B": "B (block clock)",
    "F": "F (every module hooked)",
    "Q": "Q (root hooks, phases read)",
    "L": "L (lean)",
}
TOGGLE_C = """
#include <valgrind/callgrind.h>
void collect_on(void) { CALLGRIND_START_INSTRUMENTATION; CALLGRIND_TOGGLE_COLLECT; }
void collect_off(void) { CALLGRIND_TOGGLE_COLLECT; CALLGRIND_STOP_INSTRUMENTATION; }
void dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
"""


def build_toggle(folder: str) -> str:
    """The client requests as a shared library ctypes can call (Python cannot issue them)."""
    source, library = Path(folder, "toggle.c"), Path(folder, "toggle.so")
    source.write_text(TOGGLE_C)
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    return str(library)


def probe(library: str, framework: str, steps: int, watched: bool) -> None:
    """One arm, in this process, under callgrind: a dump named ``stepN`` after each step, and a
    ``KIND N kind`` line per step on stdout."""
    import bench_step_kinds
    import framework_loop

    real_clock = time.perf_counter
    time.perf_counter = lambda: real_clock() / SLOWDOWN  # both arms: the loops stay alike
    requests = ctypes.CDLL(library)
    requests.dump.argtypes = [ctypes.c_char_p]
    agent = None
    if watched:
        from netscope.engine.run.channel import Sender
        from netscope.engine.run.watcher import Watcher

        agent = Watcher(Sender(os.open(os.devnull, os.O_WRONLY)), "framework_loop.py")
        agent.install()
    begun = [0]

    def begins() -> None:
        index = begun[0]
        if index == 0:
            requests.collect_on()
        else:
            requests.dump(f"step{index - 1}".encode())
        kind = "first" if agent is None or index == 0 else bench_step_kinds.kind_of(agent)
        print(f"KIND {index} {kind}", flush=True)
        begun[0] += 1

    def ends() -> None:
        if begun[0] == steps:
            requests.dump(f"step{steps - 1}".encode())
            requests.collect_off()

    framework_loop.Timer.step_begins = staticmethod(begins)  # type: ignore[method-assign]
    framework_loop.Timer.step_ends = staticmethod(ends)  # type: ignore[method-assign]
    framework_loop.torch.manual_seed(0)
    getattr(framework_loop, f"run_{framework}")(steps)


def per_step(prefix: str) -> dict[int, int]:
    """Instructions of each step, from the arm's dumps (``prefix.N``)."""
    counts = {}
    folder, name = os.path.split(prefix)
    for file in Path(folder).glob(name + ".*"):
        head = file.read_text(errors="replace")[:20_000]
        trigger = re.search(r"Client Request: step(\d+)", head)
        total = re.search(r"^(?:totals|summary): (\d+)", head, re.M)
        if trigger and total:
            counts[int(trigger.group(1))] = int(total.group(1))
    return counts


def main() -> None:
    if sys.argv[1:2] == ["--probe"]:
        probe(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "watched")
        return
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    framework = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    with tempfile.TemporaryDirectory() as folder:
        library = build_toggle(folder)
        started, logs = [], {}
        began = time.time()
        for arm in ("plain", "watched"):
            logs[arm] = Path(folder, f"{arm}.log")
            command = [
                "valgrind", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no",
                f"--callgrind-out-file={folder}/{arm}.out", sys.executable,
                os.path.abspath(__file__), "--probe", library, framework, str(steps), arm,
            ]  # fmt: skip
            with logs[arm].open("w") as log:
                started.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log))
        for process, arm in zip(started, ("plain", "watched"), strict=True):
            if process.wait() != 0:
                raise SystemExit(f"the {arm} arm failed:\n{logs[arm].read_text()[-3000:]}")
        plain, watched = per_step(f"{folder}/plain.out"), per_step(f"{folder}/watched.out")
        kinds = dict(
            (int(index), kind)
            for index, kind in re.findall(r"^KIND (\d+) (\S+)$", logs["watched"].read_text(), re.M)
        )
    report(framework, steps, plain, watched, kinds, began)


def report(
    framework: str,
    steps: int,
    plain: dict[int, int],
    watched: dict[int, int],
    kinds: dict[int, str],
    began: float,
) -> None:
    indexes = sorted(set(plain) & set(watched))
    whole = sum(plain[i] for i in indexes)
    extra_by_kind: dict[str, list[int]] = {}
    for index in indexes:
        extra_by_kind.setdefault(kinds.get(index, "?"), []).append(watched[index] - plain[index])
    extra = sum(watched[i] - plain[i] for i in indexes)
    print(
        f"{framework}, {len(indexes)} steps: the plain loop {whole / 1e6:,.0f} M instructions "
        f"({whole / len(indexes) / 1e6:.1f} M a step); the watcher adds {extra / 1e6:,.1f} M "
        f"= {extra / whole:+.2%}\n"
    )
    print("| kind | steps | M instructions added | share of the plain loop | median step |")
    print("|---|---|---|---|---|")
    for kind, values in extra_by_kind.items():
        middle = sorted(values)[len(values) // 2]
        share = sum(values) / whole
        print(
            f"| {KINDS.get(kind, kind)} | {len(values)} | {sum(values) / 1e6:+,.1f} | "
            f"{share:+.2%} | "
            f"{middle / 1e6:+.2f} M ({middle / (whole / len(indexes)):+.1%} of a step) |"
        )
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(began))
    print(f"\nRun {stamp} (took {time.time() - began:.0f} s) with `python "
          f"benchmarks/bench_instructions.py {framework} {steps}`.")  # fmt: skip


if __name__ == "__main__":
    main()

"""Shared by the benchmark scripts: time whole processes, read their peak RSS, print Markdown."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ProcessRun:
    seconds: float
    peak_rss_bytes: int
    returncode: int


def run_process(argv: list[str], cwd: Path = ROOT) -> ProcessRun:
    """Run ``argv`` to completion; wall time and the child's peak RSS (from wait4's rusage)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{err}")
    return ProcessRun(seconds, usage.ru_maxrss * 1024, proc.returncode)


def median_run(argv: list[str], repeats: int) -> ProcessRun:
    runs = [run_process(argv) for _ in range(repeats)]
    return ProcessRun(
        statistics.median(r.seconds for r in runs),
        max(r.peak_rss_bytes for r in runs),
        0,
    )


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def run_on_one_core(commands: list[list[str]], env: dict[str, str]) -> list[str]:
    """Run ``commands`` at the same time, all on one CPU; their stdout, in order.

    On a shared 2-core machine the speed of a core swings by 25-70 % from one second to the next,
    and the two cores differ at the same moment, so runs one after another (or side by side on
    two cores) cannot resolve a few percent. Sharing one core, the processes take turns every few
    milliseconds and see the same swings; each one's CPU time is its own work. How well two plain
    runs agree this way: ``python benchmarks/bench_frameworks.py --same`` (docs/benchmarks.md).
    """
    core = min(os.sched_getaffinity(0))

    def pin() -> None:
        os.sched_setaffinity(0, {core})

    pipe = subprocess.PIPE
    started = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=pipe, stderr=pipe, text=True, preexec_fn=pin
        )
        for command in commands
    ]
    outputs = []
    for command, proc in zip(commands, started, strict=True):
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({proc.returncode}):\n{err[-3000:]}")
        outputs.append(out)
    return outputs

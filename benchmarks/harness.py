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

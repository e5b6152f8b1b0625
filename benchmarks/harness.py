"""Shared by the benchmark scripts: time whole processes, read their peak RSS, print Markdown."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
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


def _pinned_to_one_core() -> Callable[[], None]:
    """A ``preexec_fn`` that pins the child to this process's first allowed CPU."""
    core = min(os.sched_getaffinity(0))
    return lambda: os.sched_setaffinity(0, {core})


def run_on_one_core(
    commands: list[list[str]], env: dict[str, str], launchers: frozenset[int] = frozenset()
) -> list[str]:
    """Run ``commands`` at the same time, all on one CPU; their stdout, in order.

    On a shared 2-core machine the speed of a core swings by 25-70 % from one second to the next,
    and the two cores differ at the same moment, so runs one after another (or side by side on
    two cores) cannot resolve a few percent. Sharing one core, the processes take turns every few
    milliseconds and see the same swings; each one's CPU time is its own work. How well two plain
    runs agree this way: ``python benchmarks/bench_frameworks.py --same`` (docs/benchmarks.md).

    ``launchers``: the indexes of commands that are a launcher of the measured process (``netscope
    run``, whose parent process only reads messages): the launcher runs on another core, as it
    would on any machine with a core to spare, and every thread of its descendants is moved to
    the measured core as soon as it appears (``_PinDescendants``).
    """
    core = min(os.sched_getaffinity(0))
    others = os.sched_getaffinity(0) - {core}
    pipe = subprocess.PIPE
    started = []
    for index, command in enumerate(commands):
        cores = others if index in launchers and others else {core}
        started.append(
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=pipe,
                stderr=pipe,
                text=True,
                preexec_fn=lambda cores=cores: os.sched_setaffinity(0, cores),
            )
        )
    pinners = [
        _PinDescendants(proc.pid, core)
        for index, proc in enumerate(started)
        if index in launchers and others
    ]
    outputs = []
    try:
        for command, proc in zip(commands, started, strict=True):
            out, err = proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError(
                    f"{' '.join(command)} failed ({proc.returncode}):\n{err[-3000:]}"
                )
            outputs.append(out)
    finally:
        for pinner in pinners:
            pinner.stop()
    return outputs


class _PinDescendants:
    """Moves every thread of ``pid``'s descendant processes to ``core``, polling every 2 ms (a
    thread started later inherits its creator's core; the poll catches the rest)."""

    def __init__(self, pid: int, core: int) -> None:
        import threading

        self.pid, self.core = pid, core
        self.pinned: set[int] = set()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self) -> None:
        import psutil

        root = psutil.Process(self.pid)
        while not self.done.wait(0.002):
            try:
                children = root.children(recursive=True)
            except psutil.Error:
                return
            for child in children:
                try:
                    tasks = os.listdir(f"/proc/{child.pid}/task")
                except OSError:
                    continue
                for task in map(int, tasks):
                    if task not in self.pinned:
                        try:
                            os.sched_setaffinity(task, {self.core})
                            self.pinned.add(task)
                        except OSError:
                            pass

    def stop(self) -> None:
        self.done.set()
        self.thread.join()


@dataclass(frozen=True)
class CpuOnCore:
    """One process of ``cpu_on_one_core``: its CPU seconds (user + sys, its waited-for children
    included) and its peak RSS. (Its wall time means little: the processes share one core.)"""

    cpu: float
    peak_rss_bytes: int


def cpu_on_one_core(
    commands: list[list[str]], env: dict[str, str] | None = None
) -> list[CpuOnCore]:
    """Start ``commands`` at the same time, all pinned to one CPU; each one's CPU time, in order.

    ``run_on_one_core``'s method for whole processes: sharing one core, the processes see the
    same swings of its speed, and each one's CPU time (``ru_utime + ru_stime`` from ``wait4``,
    which counts the children it waited for: netscope's worker) is its own work. Output is
    discarded; a failed command raises with the tail of its stderr.
    """
    import tempfile

    pin = _pinned_to_one_core()
    with tempfile.TemporaryDirectory() as tmp:
        errs = [open(Path(tmp) / f"{i}.err", "w+b") for i in range(len(commands))]  # noqa: SIM115
        started = [
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
                preexec_fn=pin,
            )
            for command, err in zip(commands, errs, strict=True)
        ]
        results = []
        for command, proc, err in zip(commands, started, errs, strict=True):
            _pid, status, usage = os.wait4(proc.pid, 0)  # a zombie keeps its rusage till reaped
            proc.returncode = os.waitstatus_to_exitcode(status)
            err.seek(0)
            text = err.read().decode(errors="replace")
            err.close()
            if proc.returncode != 0:
                raise RuntimeError(
                    f"{' '.join(command)} failed ({proc.returncode}):\n{text[-3000:]}"
                )
            results.append(CpuOnCore(usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024))
    return results

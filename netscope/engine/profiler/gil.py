"""Interpreter-lock pressure: how late a heartbeat thread gets to run while the step runs.

The heartbeat sleeps for a fixed interval and notes how much later than asked it woke up and got
the interpreter lock back. Torch ops release the lock while they compute, so lateness grows when
the step spends its time in Python itself (module calls, hooks, many tiny ops, data handling) and
holds the lock for a switch interval (5 ms by default) at a time. It cannot see what happens in
other processes, inside native code that keeps the lock, or whether the device is busy; and the
operating system's own timer slack (tens of microseconds) is part of every reading.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from netscope.engine.model import GilReport
from netscope.engine.profiler.timing import percentile

LATE_MS = 1.0


class Heartbeat:
    """A daemon thread that beats every ``interval_s`` and records its lateness (ms)."""

    def __init__(self, interval_s: float = 0.002) -> None:
        self.interval_s = interval_s
        self.lateness_ms: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="netscope-heartbeat", daemon=True)

    def _beat(self) -> None:
        while not self._stop.is_set():
            asked = time.perf_counter() + self.interval_s
            time.sleep(self.interval_s)
            self.lateness_ms.append(max(time.perf_counter() - asked, 0.0) * 1000.0)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)

    def report(self) -> GilReport:
        return gil_report(self.lateness_ms)


def gil_report(lateness_ms: list[float]) -> GilReport:
    if not lateness_ms:
        return GilReport(None, None, None, None, 0)
    ordered = sorted(lateness_ms)
    return GilReport(
        p50_ms=percentile(ordered, 0.50),
        p99_ms=percentile(ordered, 0.99),
        max_ms=ordered[-1],
        late_share=sum(1 for v in ordered if v > LATE_MS) / len(ordered),
        beats=len(ordered),
    )


def measure_gil(
    run: Callable[[], Any], *, min_seconds: float = 0.3, min_steps: int = 3, max_steps: int = 1000
) -> GilReport:
    """Run the step at least ``min_steps`` times and ``min_seconds`` long under the heartbeat."""
    with Heartbeat() as heartbeat:
        began = time.perf_counter()
        steps = 0
        while steps < max_steps and (
            steps < min_steps or time.perf_counter() - began < min_seconds
        ):
            run()
            steps += 1
    return heartbeat.report()

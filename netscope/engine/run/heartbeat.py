"""Interpreter-lock (GIL) lateness of the script's loop: a thread that sleeps 2 ms at a time and
records how late it wakes, on over a window of plain steps only.

A window opens at a step the sampling plan gives it (the third, then 1 in ``every``) and stays
open over the following steps until it has ``MIN_BEATS`` beats or has spanned ``MAX_STEPS``
steps: a loop of 1 ms steps gives a 2 ms heartbeat no beat in one step. While it is open nothing
else slows those steps (no detectors, no counting, no block clock).
"""

from __future__ import annotations

import threading
import time

INTERVAL_S = 0.002
MAX_BEATS = 20_000
MIN_BEATS = 10  # the window stays open over following steps until it has these many beats
MAX_STEPS = 4  # ... or has spanned this many steps


class Heartbeat:
    """Lateness beats, gated: the thread beats only while a window is open."""

    def __init__(self) -> None:
        self.on = threading.Event()
        # read at every step boundary: a plain attribute, not ``on.is_set()`` (two calls a read)
        self.running = False
        self.lateness_ms: list[float] = []
        self.steps_left = 0
        self.beats_before = 0
        thread = threading.Thread(target=self._beat, name="netscope-heartbeat", daemon=True)
        thread.start()

    def open_window(self) -> None:
        self.steps_left = MAX_STEPS
        self.beats_before = len(self.lateness_ms)
        self.running = True
        self.on.set()

    def step_ended(self) -> None:
        """A step of the open window ended: close it once it has enough beats or steps."""
        if not self.running:
            return
        self.steps_left -= 1
        if self.steps_left <= 0 or len(self.lateness_ms) - self.beats_before >= MIN_BEATS:
            self.close()

    def close(self) -> None:
        self.running = False
        self.on.clear()

    def _beat(self) -> None:
        while True:
            self.on.wait()
            asked = time.perf_counter() + INTERVAL_S
            time.sleep(INTERVAL_S)
            if self.on.is_set():
                late = max(time.perf_counter() - asked, 0.0) * 1000.0
                if len(self.lateness_ms) < MAX_BEATS:
                    self.lateness_ms.append(late)

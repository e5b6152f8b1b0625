"""The garbage collector paused while keys come in.

A full collection scans every object made since the snapshot was frozen (netscope/app/app.py):
Textual's cached strips and the tree's rows, ~60,000 objects on a 10,000-block model, 25-60 ms
that now and then landed on a key (bench_app's key latency while step times stream). While keys
come in the collector waits; it runs again RESUME_AFTER_S after the last key, or once keys have
come without such a pause for MAX_PAUSE_S, so memory is still collected during long runs of
keys. Objects without reference cycles are freed at once either way; Textual's PAUSE_GC_ON_SCROLL
does the same for smooth scrolling.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

RESUME_AFTER_S = 0.2  # the collector runs again this long after the last key
MAX_PAUSE_S = 5.0  # and after this long of keys in a row


class GcPause:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last_key = float("-inf")
        self._run_start = float("-inf")  # the first key after a pause of RESUME_AFTER_S
        self.paused = False  # this object turned the collector off (never someone else's)

    def key(self) -> None:
        """A key arrived: pause the collector unless keys have come for MAX_PAUSE_S already."""
        now = self._clock()
        if now - self._last_key >= RESUME_AFTER_S:
            self._run_start = now
        self._last_key = now
        if not self.paused and now - self._run_start < MAX_PAUSE_S and gc.isenabled():
            gc.disable()
            self.paused = True

    def check(self) -> float | None:
        """Resume the collector when it is due; seconds until the next check, None when it
        runs (again)."""
        if not self.paused:
            return None
        now = self._clock()
        due = min(self._last_key + RESUME_AFTER_S, self._run_start + MAX_PAUSE_S)
        if now >= due:
            self.resume()
            return None
        return due - now

    def resume(self) -> None:
        if self.paused:
            gc.enable()
            self.paused = False

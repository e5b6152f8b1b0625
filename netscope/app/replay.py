"""A data source that replays recorded worker messages: for tests, demos and benchmarks.

It behaves like WorkerSession: messages come out in order, ``pause`` holds back step-time
samples until ``resume``, ``cancel`` ends the stream, and ``finished`` turns true after
Finished or WorkerError. With ``live`` (what the app's real sessions are) the stream goes on
after Finished, as a live worker keeps timing the step: the messages recorded after it come out
too, and the stream ends only at WorkerError or ``cancel``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from netscope.engine.profiler import messages as wm


class ReplaySource:
    def __init__(
        self, messages: Sequence[wm.WorkerMessage], delay_s: float = 0.0, live: bool = False
    ) -> None:
        self.messages = list(messages)
        self.delay_s = delay_s
        self.live_when_profiling = live
        self.live = live  # this session's: as WorkerSession's, live only when profiling
        self.starts = 0
        self.paused = False
        self.cancelled = False
        self._next = 0
        self._ended = False
        self._finished = False

    def for_profile(self, profile: bool) -> ReplaySource:
        """This source as the app's next session: live (when asked for) only if profiling."""
        self.live = self.live_when_profiling and profile
        return self

    def start(self) -> None:
        """(Re)start from the first message, as a fresh worker would."""
        self.starts += 1
        self._next = 0
        self._ended = False
        self._finished = False
        self.cancelled = False
        self.paused = False

    def poll(self, timeout: float) -> wm.WorkerMessage | None:
        if self._ended or self._next >= len(self.messages):
            time.sleep(min(timeout, 0.01))
            return None
        message = self.messages[self._next]
        if self.paused and isinstance(message, (wm.TimingSample, wm.SystemSampled)):
            time.sleep(min(timeout, 0.01))
            return None
        if self.delay_s:
            time.sleep(self.delay_s)
        self._next += 1
        if isinstance(message, (wm.Finished, wm.WorkerError)):
            self._finished = True
            self._ended = isinstance(message, wm.WorkerError) or not self.live
        return message

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def cancel(self) -> None:
        self.cancelled = True
        self._ended = True
        self._finished = True

    @property
    def finished(self) -> bool:
        return self._finished

"""Live updates held back while the user moves around: a live-panel frame that lands just before
a key delays that key's frame (it costs a frame's work, and Textual draws no second frame
sooner than one to two frame periods after the last, ~17-33 ms). So step times and system
samples that arrive within HOLD_S of a key wait until the keys pause, and then all of them are
applied in order (nothing is dropped); while keys keep coming they wait MAX_HOLD_S at most.
On the key-latency benchmark (benchmarks/bench_app.py) live frames added ~10 ms to the p95."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

HOLD_S = 0.2  # after a key, live updates wait this long for the next one
MAX_HOLD_S = 2.0  # and never longer than this in all, so the panels still move while keys repeat

T = TypeVar("T")


class LiveHold(Generic[T]):
    """When to hold live updates back, and the ones held, in arrival order."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last_key = float("-inf")
        self._since: float | None = None  # when the oldest held update arrived
        self._held: list[T] = []

    def key(self) -> None:
        """A key arrived."""
        self._last_key = self._clock()

    def holding(self) -> bool:
        """Whether an update arriving now waits: a key came within HOLD_S, and nothing has been
        held for MAX_HOLD_S already."""
        now = self._clock()
        recent_key = now - self._last_key < HOLD_S
        return recent_key and (self._since is None or now - self._since < MAX_HOLD_S)

    def hold(self, update: T) -> None:
        if self._since is None:
            self._since = self._clock()
        self._held.append(update)

    def due_in(self) -> float:
        """Seconds until the held updates are due (0: now)."""
        if self._since is None:
            return 0.0
        due = min(self._last_key + HOLD_S, self._since + MAX_HOLD_S)
        return max(0.0, due - self._clock())

    def take(self) -> list[T]:
        """The held updates, oldest first; none are held afterwards."""
        held, self._held, self._since = self._held, [], None
        return held

    def __len__(self) -> int:
        return len(self._held)

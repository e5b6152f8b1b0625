"""Where the app's data comes from: any object with the WorkerSession interface, and the pump.

The pump runs in a thread: it polls the source and posts Textual messages; it never touches a
widget. Step-time samples are folded into a per-device window, and they and system samples are
posted at most every 100 ms (the newest wins), so a fast stream never floods the UI.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from textual.message import Message

from netscope.app.messages import SystemUpdate, TimingUpdate, WorkerEvent
from netscope.engine.options import LoadOptions, ProfileOptions
from netscope.engine.profiler import messages as wm

WINDOW = 120  # step times kept per device for the sparkline
# live panels redraw at most 4 times a second: each redraw holds the event loop for a frame (10-30
# ms on a loaded 2-core machine), and a key that lands meanwhile waits for it; 10 a second put one
# in the way of about every fifth key on a 10,000-block model (benchmarks/bench_app.py)
POST_EVERY_S = 0.25
POLL_S = 0.1  # how long a wait for the next message lasts: a stop is seen within it


class DataSource(Protocol):
    """The WorkerSession interface (netscope/engine/worker/session.py)."""

    live: bool  # step times keep streaming after Finished, until cancelled

    def start(self) -> None: ...
    def poll(self, timeout: float) -> wm.WorkerMessage | None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def cancel(self) -> None: ...
    @property
    def finished(self) -> bool: ...


SourceFactory = Callable[[bool], DataSource]  # profile? -> a fresh, unstarted source


def worker_factory(load: LoadOptions, prof: ProfileOptions) -> SourceFactory:
    """Real sessions: the tree's structure first (preview), then the snapshot; profiling ones
    stream live step times until paused or cancelled."""

    def make(profile: bool) -> DataSource:
        from netscope.engine.worker.session import app_session

        return app_session(load, prof, profile)

    return make


def pump(
    source: DataSource,
    post: Callable[[Message], object],
    stop: threading.Event,
    generation: int,
) -> None:
    """Forward the source's messages as Textual messages until the stream ends or ``stop``."""
    windows: dict[str, deque[float]] = {}
    iterations: dict[str, int] = {}
    dirty: set[str] = set()
    system: wm.SystemSampled | None = None  # the newest not yet posted; older ones are dropped
    last_post = 0.0

    def flush() -> None:
        nonlocal last_post, system
        for device in sorted(dirty):
            post(TimingUpdate(device, tuple(windows[device]), iterations[device], generation))
        dirty.clear()
        if system is not None:
            post(SystemUpdate(system.sample, generation))
            system = None
        last_post = time.monotonic()

    while not stop.is_set():
        message = source.poll(POLL_S)
        if isinstance(message, wm.TimingSample):
            windows.setdefault(message.device, deque(maxlen=WINDOW)).append(message.ms)
            iterations[message.device] = message.iteration
            dirty.add(message.device)
        elif isinstance(message, wm.SystemSampled):
            system = message
        elif message is not None:
            flush()
            post(WorkerEvent(message, generation))
        if (dirty or system is not None) and time.monotonic() - last_post >= POST_EVERY_S:
            flush()
        if message is None and source.finished and not source.live:
            break  # a live session keeps streaming step times after Finished, until cancelled
    flush()

"""Textual messages the pump thread posts to the app; frequent ones drop stale predecessors."""

from __future__ import annotations

from textual.message import Message

from netscope.engine.model import SystemSample
from netscope.engine.profiler import messages as wm


class WorkerEvent(Message):
    """A worker message that arrives once (progress, snapshot, results, end, error)."""

    def __init__(self, event: wm.WorkerMessage, generation: int) -> None:
        super().__init__()
        self.event = event
        self.generation = generation


class TimingUpdate(Message):
    """The latest window of step times on one device; a newer one replaces a queued older one."""

    def __init__(
        self, device: str, window: tuple[float, ...], iteration: int, generation: int
    ) -> None:
        super().__init__()
        self.device = device
        self.window = window
        self.iteration = iteration
        self.generation = generation

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TimingUpdate) and message.device == self.device


class SystemUpdate(Message):
    """The latest process/GPU readings; only the newest queued one is drawn."""

    def __init__(self, sample: SystemSample, generation: int) -> None:
        super().__init__()
        self.sample = sample
        self.generation = generation

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SystemUpdate)

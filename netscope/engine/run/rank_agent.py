"""The agent of one rank under torchrun: the one-process agent plus its wait in collectives.

``RankAgent`` is ``Agent`` with ``collectives.Collectives`` installed beside it; each closed step
also records how long the rank waited in collectives during it (``StepWaits``, same step indices
as ``Steps``, sent with each batch of steps).
"""

from __future__ import annotations

from typing import Any

from netscope.engine.run.agent import Agent
from netscope.engine.run.channel import Sender
from netscope.engine.run.collectives import Collectives
from netscope.engine.run.messages import RunNote
from netscope.engine.run.rank_messages import StepWaits, WaitRecord


class RankAgent(Agent):
    def __init__(self, sender: Sender, script: str, every: int | None = None) -> None:
        super().__init__(sender, script, every)
        self.collectives = Collectives()
        self.waits: list[WaitRecord] = []
        self.wait_marks: dict[str, float] = {}

    def install(self) -> None:
        super().install()
        if not self.collectives.install():
            self.sender.send(RunNote("torch.distributed is not available: no wait is measured"))

    def uninstall(self) -> None:
        self.collectives.uninstall()
        super().uninstall()

    def _forked(self) -> None:
        self.collectives.enabled = False
        super()._forked()

    def _close_step(self, clock: Any) -> None:
        waited = self.collectives.clock.read()
        if clock.start is not None and self.enabled:
            mark = self.wait_marks.get(clock.boundary, 0.0)
            self.waits.append((clock.boundary, clock.index + 1, (waited - mark) * 1000.0))
        self.wait_marks[clock.boundary] = waited
        super()._close_step(clock)

    def _flush(self, force: bool = False) -> None:
        before = self.pending
        super()._flush(force)
        if self.pending is not before and self.waits:  # a batch of steps went out
            batch, self.waits = tuple(self.waits), []
            self.sender.send(StepWaits(batch))

    def finish(self) -> None:
        if self.enabled and self.collectives.ddp_skipped:
            self.sender.send(
                RunNote(
                    "DistributedDataParallel had the script's own communication hook: its "
                    "gradient all-reduce is not in wait_ms unless the hook calls "
                    "torch.distributed from Python"
                )
            )
        super().finish()
        if self.waits:
            batch, self.waits = tuple(self.waits), []
            self.sender.send(StepWaits(batch))

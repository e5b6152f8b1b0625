"""The watcher of one rank under torchrun: the one-process agent plus its wait in collectives.

``RankWatcher`` is ``Watcher`` with ``collectives.Collectives`` beside it; each closed step
also records how long the rank waited in collectives during it (``StepWaits``, same step indices
as ``Steps``, sent with each batch of steps) and its collectives by kind and issuing block
(``StepCollectives``).
"""

from __future__ import annotations

from typing import Any

from netscope.engine.run.channel import Sender
from netscope.engine.run.collectives import Collectives
from netscope.engine.run.messages import RunNote
from netscope.engine.run.rank_messages import (
    CollectiveRecord,
    StepCollectives,
    StepWaits,
    WaitRecord,
)
from netscope.engine.run.watcher import Watcher


class RankWatcher(Watcher):
    fast_close = False  # every boundary records the rank's collectives (``_close_step``)

    def __init__(self, sender: Sender, script: str, every: int | None = None) -> None:
        super().__init__(sender, script, every)
        self.collectives = Collectives()
        self.collectives.path_of = self._path_of
        self.collectives.paused = lambda: self.suspended  # the snapshot's own calls: not the loop's
        self.waits: list[WaitRecord] = []
        self.wait_marks: dict[str, float] = {}
        self.collective_records: list[CollectiveRecord] = []
        self._paths: tuple[Any, dict[int, str]] = (None, {})

    def _path_of(self, module: Any) -> str | None:
        """A module's path in the main model (the block a collective came from), else None."""
        root = self.roots.get(self.main) if self.main is not None else None
        model = root.ref() if root is not None else None
        if model is None:
            return None
        if self._paths[0] is not model:
            self._paths = (model, {id(m): p for p, m in model.named_modules()})
        return self._paths[1].get(id(module))

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
        tallies = self.collectives.take()
        if clock.start is not None and self.enabled:
            mark = self.wait_marks.get(clock.boundary, 0.0)
            index = clock.index + 1
            self.waits.append((clock.boundary, index, (waited - mark) * 1000.0))
            for (kind, via, block), (calls, ms, exposed, size) in tallies.items():
                self.collective_records.append(
                    (clock.boundary, index, kind, via, block, calls, ms, exposed, size)
                )
        self.wait_marks[clock.boundary] = waited
        super()._close_step(clock)

    def _send_collectives(self) -> None:
        if self.collective_records:
            batch, self.collective_records = tuple(self.collective_records), []
            self.sender.send(StepCollectives(batch))

    def _flush(self, force: bool = False) -> None:
        before = self.pending
        super()._flush(force)
        if self.pending is not before and self.waits:  # a batch of steps went out
            batch, self.waits = tuple(self.waits), []
            self.sender.send(StepWaits(batch))
            self._send_collectives()

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
        self._send_collectives()

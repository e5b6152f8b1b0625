"""`netscope run`'s Blocks tab: per-step block times over the few timed steps. A mean let one
slowed step (another process on the core, a first call) lift every row far above the step's
own median time (a 0.46 ms step read a 5.39 ms root); rows are per-block medians now."""

from __future__ import annotations

import time

import torch
from torch import nn

from netscope.engine.run.block_clock import BlockClock, BlockTable


class Slowed(nn.Module):
    """A block whose forward sleeps when told to: one step slowed, as by another process."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.sleep_s = 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.sleep_s:
            time.sleep(self.sleep_s)
        return self.fc(x)


def test_one_slow_step_of_five_does_not_lift_the_rows() -> None:
    model = nn.Sequential(Slowed(), nn.ReLU(), nn.Linear(4, 2))
    table = BlockTable()
    x = torch.randn(2, 4)
    for step in range(5):
        model[0].sleep_s = 0.3 if step == 0 else 0.0
        clock = BlockClock(model)
        clock.start()
        model(x)
        table.add_step(clock.stop())
    rows = {row.path: row for row in table.rows("cpu")}
    assert table.steps == 5
    assert rows[""].inclusive_ms < 20.0  # a mean reads over 60 ms: 300 ms / 5
    assert rows["0"].self_ms < 20.0 and rows["0"].calls == 1
    assert rows["2"].calls == 1 and set(rows) == {"", "0", "0.fc", "1", "2"}


def test_a_block_called_in_one_step_of_four_reads_as_its_typical_step_does() -> None:
    """A step that did not call a block counts 0 for it: the row is the typical step's."""
    head, extra = nn.Linear(4, 4), nn.Linear(4, 4)
    model = nn.ModuleDict({"head": head, "extra": extra})
    table = BlockTable()
    for step in range(4):
        clock = BlockClock(model)
        clock.start()
        out = head(torch.randn(2, 4))
        if step == 0:
            extra(out)
        table.add_step(clock.stop())
    rows = {row.path: row for row in table.rows("cpu")}
    assert rows["head"].calls == 1 and rows["head"].inclusive_ms > 0
    assert rows["extra"].calls == 0 and rows["extra"].inclusive_ms == 0.0

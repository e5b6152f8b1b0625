"""The main model's blocks in the running loop: time per step from the block-timed steps."""

from __future__ import annotations

from netscope.app import format as fmt
from netscope.app.widgets.result_table import ResultTable
from netscope.engine.model import BlockTiming

MAX_ROWS = 50  # the heaviest blocks; the report has them all


class LoopBlocksTable(ResultTable):
    COLUMNS = ("block", "self / step", "inclusive / step", "calls")
    EMPTY = "waiting for a block-timed step"

    def show(self, rows: tuple[BlockTiming, ...] | None) -> None:
        if not rows:
            self.shown_rows = None
            return
        self.shown_rows = tuple(
            (b.path or "(root)", fmt.ms(b.self_ms), fmt.ms(b.inclusive_ms), str(b.calls))
            for b in rows[:MAX_ROWS]
        )

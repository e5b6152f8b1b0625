"""Host-device copies: direction, bytes, count and the source line that made them."""

from __future__ import annotations

from textual.reactive import var

from netscope.app import format as fmt
from netscope.app.live_state import LiveState
from netscope.app.widgets.result_table import ResultTable, not_measured
from netscope.engine.model import CopyFinding


class CopiesTable(ResultTable):
    COLUMNS = ("direction", "bytes", "count", "dtype", "block", "location", "note")

    live: var[LiveState] = var(LiveState, always_update=True)  # bound by LivePanels

    def watch_live(self, old: LiveState, new: LiveState) -> None:
        self.say_empty(not_measured(new))
        if old is new or new.copies is not old.copies:
            self.show(new.copies)

    def show(self, rows: tuple[CopyFinding, ...] | None) -> None:
        if rows is None:
            self.shown_rows = None
            return
        self.shown_rows = tuple(
            (
                c.direction,
                fmt.size(c.bytes),
                str(c.count),
                c.dtype.removeprefix("torch."),
                c.block or "(root)",
                c.location or fmt.NA,
                "many small" if c.many_small else ("pinned" if c.pinned else ""),
            )
            for c in rows
        )

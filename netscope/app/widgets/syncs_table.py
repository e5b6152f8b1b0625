"""Sync points: what made the host wait for the device, how often, how long, and where."""

from __future__ import annotations

from textual.reactive import var

from netscope.app import format as fmt
from netscope.app.live_state import LiveState
from netscope.app.widgets.result_table import ResultTable, not_measured
from netscope.engine.model import SyncFinding


class SyncsTable(ResultTable):
    COLUMNS = ("op", "reason", "count", "stall", "block", "location")

    live: var[LiveState] = var(LiveState, always_update=True)  # bound by LivePanels

    def watch_live(self, old: LiveState, new: LiveState) -> None:
        self.say_empty(not_measured(new))
        if old is new or new.syncs is not old.syncs:
            self.show(new.syncs)

    def show(self, rows: tuple[SyncFinding, ...] | None) -> None:
        if rows is None:
            self.shown_rows = None
            return
        self.shown_rows = tuple(
            (
                s.op,
                s.reason,
                str(s.count),
                fmt.ms(s.stall_ms) if s.stall_ms is not None else f"n/a ({s.device})",
                s.block or "(root)",
                s.location or fmt.NA,
            )
            for s in rows
        )

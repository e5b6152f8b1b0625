"""Top blocks by self time, every profiled device."""

from __future__ import annotations

from netscope.app import format as fmt
from netscope.app.widgets.result_table import ResultTable
from netscope.engine.model import BlockTiming

TOP = 50


class BlocksTable(ResultTable):
    COLUMNS = ("block", "device", "self", "inclusive", "calls")

    def show(self, rows: list[BlockTiming] | None) -> None:
        if rows is None:
            self.shown_rows = None
            return
        ranked = sorted(rows, key=lambda r: -(r.self_ms if r.self_ms is not None else -1.0))
        self.shown_rows = tuple(
            (r.path or "(root)", r.device, fmt.ms(r.self_ms), fmt.ms(r.inclusive_ms), str(r.calls))
            for r in ranked[:TOP]
        )

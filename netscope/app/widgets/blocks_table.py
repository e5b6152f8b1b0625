"""Top blocks by self time, every profiled device."""

from __future__ import annotations

import operator
from collections.abc import Mapping

from textual.reactive import var

from netscope.app import format as fmt
from netscope.app.live_state import LiveState
from netscope.app.widgets.result_table import ResultTable, not_measured
from netscope.engine.model import BlockTiming

TOP = 50


class BlocksTable(ResultTable):
    COLUMNS = ("block", "device", "self", "inclusive", "calls")
    live: var[LiveState] = var(LiveState, always_update=True)  # bound by LivePanels

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._ranked_from: list[tuple[BlockTiming, ...]] | None = None  # the tuples ranked last

    def watch_live(self, live: LiveState) -> None:
        self.say_empty(not_measured(live))
        self.show(live.block_timings)

    def show(self, timings: Mapping[str, tuple[BlockTiming, ...]]) -> None:
        """Rank the blocks once per BlockTimings message: later events re-send the same tuples,
        and sorting 10,000 rows on each of them would stall the keys."""
        source = list(timings.values())
        last = self._ranked_from
        if last is not None and len(last) == len(source) and all(map(operator.is_, last, source)):
            return
        self._ranked_from = source
        if not timings:
            self.shown_rows = None
            return
        rows = [r for device_rows in timings.values() for r in device_rows]
        ranked = sorted(rows, key=lambda r: -(r.self_ms if r.self_ms is not None else -1.0))
        self.shown_rows = tuple(
            (r.path or "(root)", r.device, fmt.ms(r.self_ms), fmt.ms(r.inclusive_ms), str(r.calls))
            for r in ranked[:TOP]
        )

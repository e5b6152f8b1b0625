"""The loop's host-device copies over its sampled steps."""

from __future__ import annotations

from netscope.app import format as fmt
from netscope.app.widgets.result_table import ResultTable
from netscope.engine.model import LoopCopy, RunReport
from netscope.units import number


class LoopCopiesTable(ResultTable):
    COLUMNS = ("direction", "bytes", "per step", "seen on", "block", "location")
    EMPTY = "waiting for a sampled step"

    def show_run(self, run: RunReport) -> None:
        """The run's copies over its sampled steps; none: in how many steps of how many."""
        self.say_none(run.none_seen("host-device copies"))
        self.show(run.copies if run.sampled_steps else None)

    def show(self, rows: tuple[LoopCopy, ...] | None) -> None:
        if rows is None:
            self.shown_rows = None
            return
        self.shown_rows = tuple(
            (
                c.finding.direction,
                fmt.size(c.finding.bytes),
                number(c.per_step, 3),
                f"{c.seen_steps} of {c.sampled_steps} sampled",
                c.finding.block or "(root)",
                fmt.location(c.finding.location),
            )
            for c in rows
        )

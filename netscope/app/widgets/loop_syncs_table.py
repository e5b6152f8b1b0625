"""The loop's syncs and copies over its sampled steps: per step, and seen on K of M steps."""

from __future__ import annotations

from netscope.app import format as fmt
from netscope.app.widgets.result_table import ResultTable
from netscope.engine.model import LoopSync, RunReport
from netscope.units import number


class LoopSyncsTable(ResultTable):
    COLUMNS = ("op", "per step", "seen on", "block", "location", "stall", "reason")
    EMPTY = "waiting for a sampled step"

    def show_run(self, run: RunReport) -> None:
        """The run's syncs over its sampled steps; none: in how many steps of how many."""
        self.say_none(run.none_seen("sync points"))
        self.show(run.syncs if run.sampled_steps else None)

    def show(self, rows: tuple[LoopSync, ...] | None) -> None:
        if rows is None:
            self.shown_rows = None
            return
        self.shown_rows = tuple(
            (
                s.finding.op,
                number(s.per_step, 3),
                f"{s.seen_steps} of {s.sampled_steps} sampled",
                s.finding.block or "(root)",
                fmt.location(s.finding.location),
                fmt.ms(s.finding.stall_ms) if s.finding.stall_ms is not None else "n/a (cpu)",
                s.finding.reason,
            )
            for s in rows
        )

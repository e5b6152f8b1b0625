"""The screen of `netscope run --nproc-per-node`: the run screen (rank 0's model, step, phases,
output) plus a Ranks tab; selecting a rank there shows its syncs and copies in their tabs."""

from __future__ import annotations

from textual.widgets import TabbedContent, TabPane

from netscope.app.screens.run import RunScreen
from netscope.app.widgets.loop_copies_table import LoopCopiesTable
from netscope.app.widgets.loop_syncs_table import LoopSyncsTable
from netscope.app.widgets.ranks_table import RanksTable
from netscope.engine.model import RunReport


class RanksRunScreen(RunScreen):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.selected_rank: int | None = None
        self.last_report: RunReport | None = None

    async def on_mount(self) -> None:  # type: ignore[override]  # adds a pane: must await
        tabs = self.query_one("#run-tabs", TabbedContent)
        await tabs.add_pane(TabPane("Ranks", RanksTable(), id="tab-ranks"), before="tab-output")
        tabs.active = "tab-ranks"

    def show_run(self, report: RunReport) -> None:
        super().show_run(report)
        self.last_report = report
        self.query_one(RanksTable).show(report)
        self._show_rank()

    def _show_rank(self) -> None:
        report = self.last_report
        if report is None or self.selected_rank is None:
            return
        for rank in report.ranks:
            if rank.rank == self.selected_rank:
                run = rank.report
                self.query_one(LoopSyncsTable).show_run(run)
                self.query_one(LoopCopiesTable).show_run(run)

    def on_ranks_table_selected(self, message: RanksTable.Selected) -> None:
        self.selected_rank = message.rank
        self._show_rank()
        if message.rank is not None:
            tabs = self.query_one("#run-tabs", TabbedContent)
            tabs.get_tab("tab-loop-syncs").label = f"Syncs (rank {message.rank})"
            tabs.get_tab("tab-loop-copies").label = f"Copies (rank {message.rank})"

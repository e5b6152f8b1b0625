"""The screen of `netscope run`: the main model's tree and details (as `netscope model.py`),
with the run's live panels below instead of the profiler's."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer, Static

from netscope.app.screens.main import MainScreen
from netscope.app.widgets.block_tree import BlockTree
from netscope.app.widgets.compile_panel import CompilePanel
from netscope.app.widgets.details_panel import DetailsPanel
from netscope.app.widgets.filter_bar import FilterBar
from netscope.app.widgets.loop_blocks_table import LoopBlocksTable
from netscope.app.widgets.loop_copies_table import LoopCopiesTable
from netscope.app.widgets.loop_syncs_table import LoopSyncsTable
from netscope.app.widgets.phases_bar import PhasesBar
from netscope.app.widgets.progress_line import ProgressLine
from netscope.app.widgets.quiet_header import QuietHeader
from netscope.app.widgets.run_panels import RunPanels
from netscope.app.widgets.script_log import ScriptLog
from netscope.app.widgets.step_panel import StepPanel
from netscope.app.widgets.system_panel import NO_SAMPLE_TAKEN, SystemPanel
from netscope.engine.model import RunReport
from netscope.engine.run.messages import ScriptOutput


class RunScreen(MainScreen):
    def compose(self) -> ComposeResult:
        yield QuietHeader(icon="◎")
        yield ProgressLine()
        with Horizontal(id="body"):
            yield BlockTree(id="tree")
            yield DetailsPanel(id="details")
        yield RunPanels(id="live")
        yield FilterBar(id="filter")
        yield Footer()

    async def on_resize(self, event: events.Resize) -> None:
        event.prevent_default()  # one layout at every width: MainScreen's relayout is not run

    def show_output(self, lines: list[ScriptOutput]) -> None:
        if lines:
            self.query_one(ScriptLog).add(lines)

    def show_run(self, report: RunReport) -> None:
        """Hand the run's state to the panels (each redraws from its reactive)."""
        self.query_one(StepPanel).report = report
        self.query_one(PhasesBar).phases = report.phases_ms
        self.query_one(LoopSyncsTable).show_run(report)
        self.query_one(LoopBlocksTable).show(report.blocks)
        self.query_one(LoopCopiesTable).show_run(report)
        system = self.query_one(SystemPanel)
        system.gil = report.gil
        ended = report.state not in ("starting", "running")
        if ended:
            system.absent = NO_SAMPLE_TAKEN
        self.query_one(CompilePanel).show(report.compile, ended)
        if report.system is not None:
            system.sample = report.system
        models = "\n".join(
            f"{m.model_class}: {m.total_params:,} parameters ({m.role})" for m in report.models
        )
        notes = "\n".join(f"note: {n}" for n in report.notes)
        self.query_one("#models-text", Static).update(
            "\n".join(t for t in (models, notes) if t) or "no model called yet"
        )

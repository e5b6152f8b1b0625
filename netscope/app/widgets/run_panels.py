"""Bottom panels of `netscope run`: step time, phases and system left; the script's output, the
loop's syncs and copies, torch.compile's story and the models as tabs right."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static, TabbedContent, TabPane

from netscope.app.widgets.compile_panel import CompilePanel
from netscope.app.widgets.loop_blocks_table import LoopBlocksTable
from netscope.app.widgets.loop_copies_table import LoopCopiesTable
from netscope.app.widgets.loop_syncs_table import LoopSyncsTable
from netscope.app.widgets.phases_bar import PhasesBar
from netscope.app.widgets.script_log import ScriptLog
from netscope.app.widgets.step_panel import StepPanel
from netscope.app.widgets.system_panel import SystemPanel


class RunPanels(Horizontal):
    DEFAULT_CSS = """
    RunPanels #run-side { width: 2fr; border-right: vkey $primary 50%; }
    RunPanels #run-side > SystemPanel { border-top: hkey $primary 30%; }
    RunPanels TabbedContent { width: 3fr; height: 1fr; }
    RunPanels ContentSwitcher { height: 1fr; }
    RunPanels TabPane { padding: 0; height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        with Vertical(id="run-side"):
            yield StepPanel()
            yield PhasesBar()
            yield SystemPanel()
        with TabbedContent(id="run-tabs"):
            with TabPane("Output", id="tab-output"):
                yield ScriptLog()
            with TabPane("Blocks", id="tab-loop-blocks"):
                yield LoopBlocksTable()
            with TabPane("Syncs", id="tab-loop-syncs"):
                yield LoopSyncsTable()
            with TabPane("Copies", id="tab-loop-copies"):
                yield LoopCopiesTable()
            with TabPane("Compile", id="tab-compile"):
                yield CompilePanel()
            with TabPane("Models", id="tab-models"):
                yield Static("no model called yet", id="models-text")

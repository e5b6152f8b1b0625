"""Bottom tabs: timing, top blocks, copies, syncs, system."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import TabbedContent, TabPane

from netscope.app.widgets.blocks_table import BlocksTable
from netscope.app.widgets.copies_table import CopiesTable
from netscope.app.widgets.syncs_table import SyncsTable
from netscope.app.widgets.system_panel import SystemPanel
from netscope.app.widgets.timing_panel import TimingPanel


class LivePanels(Vertical):
    DEFAULT_CSS = """
    LivePanels > TabbedContent { height: 1fr; }
    LivePanels ContentSwitcher { height: 1fr; }
    LivePanels TabPane { padding: 0; height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        with TabbedContent(id="live-tabs"):
            with TabPane("Timing", id="tab-timing"):
                yield TimingPanel()
            with TabPane("Blocks", id="tab-blocks"):
                yield BlocksTable()
            with TabPane("Copies", id="tab-copies"):
                yield CopiesTable()
            with TabPane("Syncs", id="tab-syncs"):
                yield SyncsTable()
            with TabPane("System", id="tab-system"):
                yield SystemPanel()

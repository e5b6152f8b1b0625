"""Bottom live panels: tabs on a narrow terminal; on a wide one, timing and system side by side
with the result tables, so nothing hides behind a tab and no rows stay empty."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.widgets import TabbedContent, TabPane

from netscope.app.live_state import LiveState
from netscope.app.widgets.blocks_table import BlocksTable
from netscope.app.widgets.copies_table import CopiesTable
from netscope.app.widgets.syncs_table import SyncsTable
from netscope.app.widgets.system_panel import SystemPanel
from netscope.app.widgets.timing_panel import TimingPanel

WIDE = 140  # columns from which timing and system get their own column


class LivePanels(Vertical):
    DEFAULT_CSS = """
    LivePanels TabbedContent { height: 1fr; }
    LivePanels ContentSwitcher { height: 1fr; }
    LivePanels TabPane { padding: 0; height: 1fr; }
    LivePanels #live-grid { height: 1fr; }
    LivePanels #live-side { width: 2fr; border-right: vkey $primary 50%; }
    LivePanels #live-side > TimingPanel { height: auto; max-height: 60%; }
    LivePanels #live-side > SystemPanel { border-top: hkey $primary 30%; }
    LivePanels #live-grid > TabbedContent { width: 3fr; }
    """

    live: var[LiveState] = var(LiveState, always_update=True)  # bound to the screen's

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.wide = False

    def wants_wide(self, width: int) -> bool:
        return width >= WIDE

    async def on_resize(self, event: events.Resize) -> None:
        """Tabs when narrow, a grid when wide: rebuilt here (the composing node of the bound
        panels), they bind to ``live`` again and show what has arrived."""
        if self.wants_wide(self.app.size.width) != self.wide:
            await self.recompose()

    def compose(self) -> ComposeResult:
        self.wide = self.wants_wide(self.app.size.width)
        if not self.wide:
            with TabbedContent(id="live-tabs"):
                with TabPane("Timing", id="tab-timing"):
                    yield TimingPanel().data_bind(LivePanels.live)
                yield from self._tables()
                with TabPane("System", id="tab-system"):
                    yield SystemPanel().data_bind(LivePanels.live)
            return
        with Horizontal(id="live-grid"):
            with Vertical(id="live-side"):
                yield TimingPanel().data_bind(LivePanels.live)
                yield SystemPanel().data_bind(LivePanels.live)
            with TabbedContent(id="live-tabs"):
                yield from self._tables()

    def _tables(self) -> ComposeResult:
        with TabPane("Blocks", id="tab-blocks"):
            yield BlocksTable().data_bind(LivePanels.live)
        with TabPane("Copies", id="tab-copies"):
            yield CopiesTable().data_bind(LivePanels.live)
        with TabPane("Syncs", id="tab-syncs"):
            yield SyncsTable().data_bind(LivePanels.live)

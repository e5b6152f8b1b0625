"""Timing tab: one DeviceTiming per device as samples stream in, and the GPU speedup."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.reactive import var
from textual.widgets import Static

from netscope.app import format as fmt
from netscope.app.live_state import LiveState
from netscope.app.widgets.device_timing import DeviceTiming
from netscope.engine.model import TimingSummary


class TimingPanel(VerticalScroll):
    DEFAULT_CSS = """
    TimingPanel { padding: 0 1; }
    TimingPanel > #speedup { height: auto; }
    """

    live: var[LiveState] = var(LiveState, always_update=True)  # bound by LivePanels

    def compose(self) -> ComposeResult:
        yield Static(Text("No step timed yet: press p to profile.", style="dim"), id="speedup")

    def device(self, name: str) -> DeviceTiming:
        """The row for ``name``, mounted the first time that device reports."""
        widget_id = "timing-" + "".join(c if c.isalnum() else "-" for c in name)
        try:
            return self.query_one(f"#{widget_id}", DeviceTiming)
        except NoMatches:
            row = DeviceTiming(name, id=widget_id)
            self.mount(row, before="#speedup")
            return row

    def watch_live(self, old: LiveState, new: LiveState) -> None:
        if not self.is_mounted:
            return
        for device, window in new.windows.items():
            if old is new or window is not old.windows.get(device):
                row = self.device(device)
                row.iteration = new.iterations.get(device, 0)
                row.window = window
        if old is new or new.summaries is not old.summaries:
            self._show_summaries(new.summaries)

    def on_mount(self) -> None:
        self.watch_live(self.live, self.live)

    def _show_summaries(self, summaries: Mapping[str, TimingSummary]) -> None:
        for name, summary in summaries.items():
            self.device(name).summary = summary
        cpu = summaries.get("cpu")
        gpus = [s for n, s in summaries.items() if n.startswith("cuda")]
        text = Text()
        if cpu is not None and gpus:
            for gpu in gpus:
                speedup = cpu.median_ms / gpu.median_ms if gpu.median_ms else None
                text.append(
                    f"{gpu.device} vs cpu: {fmt.num(speedup, 3)}× faster (median)\n", style="bold"
                )
        elif cpu is not None:
            text.append("GPU speedup: not available (no GPU timed)", style="dim")
        self.query_one("#speedup", Static).update(text)

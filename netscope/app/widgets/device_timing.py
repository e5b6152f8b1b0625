"""Step times of one device: a sparkline of the streaming window and its summary numbers."""

from __future__ import annotations

import statistics

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static

from netscope.app import format as fmt
from netscope.app.widgets.step_sparkline import StepSparkline
from netscope.engine.model import TimingSummary


class DeviceTiming(Vertical):
    DEFAULT_CSS = """
    DeviceTiming { height: auto; }
    DeviceTiming > Static { height: 2; }  /* fixed: a new sample repaints, never relayouts */
    DeviceTiming > StepSparkline { height: 2; margin: 0 0 0 7; }
    """

    window: reactive[tuple[float, ...]] = reactive(())
    iteration: reactive[int] = reactive(0)
    summary: reactive[TimingSummary | None] = reactive(None)

    def __init__(self, device: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.device = device

    def compose(self) -> ComposeResult:
        yield Static(self._line(), classes="timing-line")
        yield StepSparkline()

    def on_mount(self) -> None:
        # is_mounted is still False here, and samples may have arrived before the mount
        self.query_one(StepSparkline).data = tuple(self.window)
        self.query_one(".timing-line", Static).update(self._line(), layout=False)

    def watch_window(self, window: tuple[float, ...]) -> None:
        if self.is_mounted:
            self.query_one(StepSparkline).data = tuple(window)
            self._redraw()

    def watch_summary(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        if self.is_mounted:
            self.query_one(".timing-line", Static).update(self._line(), layout=False)

    def _line(self) -> Text:
        text = Text(f"{self.device:<6}", style="bold")
        if self.window:
            text.append(f" last {fmt.ms(self.window[-1])}")
            text.append(
                f" (#{self.iteration}, window median {fmt.ms(statistics.median(self.window))})",
                style="dim",
            )
        summary = self.summary
        if summary is not None:
            text.append(
                f"\n       median {fmt.ms(summary.median_ms)} p10 {fmt.ms(summary.p10_ms)} "
                f"p90 {fmt.ms(summary.p90_ms)} ({summary.runs} runs)",
                style="green",
            )
            if summary.noise:
                text.append(" ⚠ noisy", style="bold yellow")
        if not self.window and summary is None:
            text.append(" waiting for samples…", style="dim italic")
        return text

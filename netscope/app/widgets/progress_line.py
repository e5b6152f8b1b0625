"""One line under the header: what the worker is doing now, and the profiling state."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static


class ProgressLine(Static):
    DEFAULT_CSS = """
    ProgressLine { height: 1; padding: 0 1; background: $boost; }
    """

    stage: reactive[str] = reactive("starting worker")
    summary: reactive[str] = reactive("")
    profiling: reactive[str] = reactive("")

    def render(self) -> Text:
        text = Text()
        if self.summary:
            text.append(self.summary, style="bold")
            text.append("  ")
        if self.stage:
            text.append("⋯ " + self.stage, style="italic yellow")
            text.append("  ")
        if self.profiling:
            text.append(f"profiling: {self.profiling}", style="cyan")
        return text

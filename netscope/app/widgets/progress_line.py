"""One line under the header: the model, the profiling state, and what the worker is doing now
(in that order: a narrow terminal cuts the passing stage, with an ellipsis, not the state)."""

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
        text = Text(no_wrap=True, overflow="ellipsis")
        parts = [
            (self.summary, "bold"),
            (f"profiling: {self.profiling}" if self.profiling else "", "cyan"),
            ("⋯ " + self.stage if self.stage else "", "italic yellow"),
        ]
        for part, style in parts:
            if part:
                text.append("  " if text else "")
                text.append(part, style=style)
        return text

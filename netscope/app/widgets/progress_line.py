"""One line under the header: the model, the profiling state, and what the worker is doing now
(in that order: a narrow terminal cuts the passing stage, with an ellipsis, not the state; where
the model's class and count would crowd out the state, the class, which heads the tree, goes)."""

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
    # profiling paused: the worker's last stage ("live", "profiling") is not what it does now
    paused: reactive[bool] = reactive(False)

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        summary = self.summary
        state = f"profiling: {self.profiling}" if self.profiling else ""
        width = self.content_size.width
        if width and " · " in summary and len(summary) + 2 + len(state) > width:
            summary = summary.split(" · ", 1)[1]  # "Class · 7,946 params": the count stays
        parts = [
            (summary, "bold"),
            (state, "cyan"),
            ("⋯ " + self.stage if self.stage and not self.paused else "", "italic yellow"),
        ]
        for part, style in parts:
            if part:
                text.append("  " if text else "")
                text.append(part, style=style)
        return text

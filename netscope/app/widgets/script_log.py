"""The script's own output, newest at the bottom; scrolls back over the last lines. A line with
carriage returns (tqdm's progress bar) shows as a terminal shows it."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import RichLog

from netscope.app import format as fmt
from netscope.engine.run.messages import ScriptOutput

MAX_LINES = 2000


class ScriptLog(RichLog):
    DEFAULT_CSS = """
    ScriptLog { height: 1fr; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(max_lines=MAX_LINES, wrap=False, markup=False, highlight=False, **kwargs)
        self.lines_seen = 0

    def add(self, lines: Iterable[ScriptOutput]) -> None:
        for line in lines:
            self.lines_seen += 1
            style = "red" if line.stream == "stderr" else ""
            self.write(Text(fmt.terminal_line(line.line), style=style))

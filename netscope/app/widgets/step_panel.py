"""Step time of the script's loop: a rolling sparkline and median / p10 / p90 over the steps."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive

from netscope.app.widgets.step_sparkline import StepSparkline
from netscope.app.widgets.step_text import WAITING, StepText, step_lines
from netscope.engine.model import RunReport


def step_text(report: RunReport | None) -> Text:
    """The whole line, as a wide panel shows it on one line."""
    if report is None or report.step_ms is None:
        return Text(WAITING, style="dim")
    return Text(" · ".join(step_lines(report, 10_000)))


class StepPanel(Vertical):
    DEFAULT_CSS = """
    StepPanel { height: auto; }
    """

    report: reactive[RunReport | None] = reactive(None)

    def compose(self) -> ComposeResult:
        yield StepText(id="step-text")
        yield StepSparkline()

    def watch_report(self, report: RunReport | None) -> None:
        if not self.is_mounted:
            return
        self.query_one(StepText).report = report
        if report is not None:
            self.query_one(StepSparkline).data = report.recent_step_ms

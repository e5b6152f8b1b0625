"""Step time of the script's loop: a rolling sparkline and median / p10 / p90 over the steps."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static

from netscope.app import format as fmt
from netscope.app.widgets.step_sparkline import StepSparkline
from netscope.engine.model import RunReport


def step_text(report: RunReport | None) -> Text:
    if report is None or report.step_ms is None:
        return Text("Step time: waiting for the first step", style="dim")
    s = report.step_ms
    ends = "optimizer.step()" if report.step_boundary == "optimizer.step" else "model call"
    line = (  # the median and its spread first: a narrow panel cuts the rest
        f"Step time: median {fmt.ms(s.median)} · p10 {fmt.ms(s.p10)} · p90 {fmt.ms(s.p90)}"
        f" · {report.steps:,} steps (a step ends at each {ends})"
    )
    return Text(line)


class StepPanel(Vertical):
    DEFAULT_CSS = """
    StepPanel { height: auto; }
    StepPanel > Static { height: 1; }
    """

    report: reactive[RunReport | None] = reactive(None)

    def compose(self) -> ComposeResult:
        yield Static(step_text(None), id="step-text")
        yield StepSparkline()

    def watch_report(self, report: RunReport | None) -> None:
        if not self.is_mounted:
            return
        self.query_one("#step-text", Static).update(step_text(report))
        if report is not None:
            self.query_one(StepSparkline).data = report.recent_step_ms

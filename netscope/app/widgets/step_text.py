"""The step-time line of `netscope run`, fitted to its panel: the median, p10, p90 and the step
count whole at any width, on at most two lines; what ends a step is said where it fits."""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget

from netscope.app import format as fmt
from netscope.engine.model import RunReport

MAX_LINES = 2
WAITING = "Step time: waiting for the first step"


def _pack(items: list[str], width: int) -> list[str]:
    """``items`` joined by " · ", a new line where the next one would not fit (never split)."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + 3 + len(item) <= width:
            lines[-1] += " · " + item
        else:
            lines.append(item)
    return lines


def step_lines(report: RunReport | None, width: int) -> list[str]:
    """The richest wording whose items fit ``width`` in at most two lines; the plainest one (its
    lines cut by the panel) where none does."""
    if report is None or report.step_ms is None:
        return [WAITING]
    s = report.step_ms
    median, p10, p90 = fmt.ms(s.median), fmt.ms(s.p10), fmt.ms(s.p90)
    steps = f"{report.steps:,} steps"
    ends = "optimizer.step()" if report.step_boundary == "optimizer.step" else "model call"
    wordings = [  # the spread and the count before the words on what a step is
        [f"Step time: median {median}", f"p10 {p10}", f"p90 {p90}",
         f"{steps} (a step ends at each {ends})"],
        [f"Step time: median {median}", f"p10 {p10}", f"p90 {p90}", steps, f"ends at {ends}"],
        [f"{steps}, median {median}", f"p10 {p10}", f"p90 {p90}"],
        [f"median {median}", steps, f"p10 {p10}", f"p90 {p90}"],
    ]  # fmt: skip
    for items in wordings:
        lines = _pack(items, width)
        if len(lines) <= MAX_LINES:
            return lines
    return _pack(wordings[-1], width)[:MAX_LINES]


class StepText(Widget):
    """One or two lines, as many as the wording that fits the width needs."""

    DEFAULT_CSS = """
    StepText { height: auto; }
    """

    report: reactive[RunReport | None] = reactive(None, layout=True)

    def lines(self, width: int | None = None) -> list[str]:
        return step_lines(self.report, self.size.width if width is None else width)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines(width)) if width else 1

    def render(self) -> Text:
        waiting = self.report is None or self.report.step_ms is None
        return Text(
            "\n".join(self.lines()), style="dim" if waiting else "", no_wrap=True, overflow="crop"
        )

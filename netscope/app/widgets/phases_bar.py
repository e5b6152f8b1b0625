"""Where a step's time goes: one stacked bar (data, forward, backward, optimizer, other)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from netscope.app import format as fmt
from netscope.engine.model import StepPhases

PHASE_STYLES = (
    ("data", "magenta"),
    ("forward", "green"),
    ("backward", "yellow"),
    ("optimizer", "cyan"),
    ("other", "bright_black"),
)


def phase_values(phases: StepPhases) -> list[tuple[str, float, str]]:
    return [(name, float(getattr(phases, name)), style) for name, style in PHASE_STYLES]


def bar_cells(values: list[float], width: int) -> list[int]:
    """Cells per segment summing to ``width`` (largest remainders), every nonzero part >= 1."""
    total = sum(values)
    if total <= 0 or width <= 0:
        return [0] * len(values)
    exact = [v / total * width for v in values]
    cells = [int(x) for x in exact]
    order = sorted(range(len(values)), key=lambda i: -(exact[i] - cells[i]))
    for i in order[: width - sum(cells)]:
        cells[i] += 1
    return cells


class PhasesBar(Static):
    DEFAULT_CSS = """
    PhasesBar { height: auto; max-height: 5; }
    """

    phases: reactive[StepPhases | None] = reactive(None, layout=True)

    def render(self) -> Text:
        phases = self.phases
        if phases is None:
            return Text("Phases of a step: waiting for the first step", style="dim")
        values = phase_values(phases)
        total = sum(v for _, v, _ in values)
        width = max(self.size.width, 10)
        text = Text("Phases of a step (median ms)\n")
        cells = bar_cells([v for _, v, _ in values], width)
        for (_, _, style), count in zip(values, cells, strict=True):
            text.append("█" * count, style=style)
        used = 0  # the legend wraps at the panel's width rather than losing its last phases
        for name, value, style in values:
            share = f"{value / total:.0%}" if total > 0 else fmt.NA
            item = f"{name} {fmt.ms(value)} {share}"
            if used and used + 2 + len(item) + 2 <= width:
                text.append("  ")
                used += 2
            else:
                text.append("\n")
                used = 0
            text.append("■ ", style=style)
            text.append(item)
            used += len(item) + 2
        return text

"""Where a step's time goes: one stacked bar (data, forward, backward, optimizer, other)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from netscope.app import format as fmt
from netscope.engine.model import StepPhases

LEGEND_LINES = 3  # under the title and the bar (max-height 5)
SHORT = {"forward": "fwd", "backward": "bwd", "optimizer": "opt"}
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
        shares = [f"{value / total:.0%}" if total > 0 else fmt.NA for _, value, _ in values]
        items = [f"{n} {fmt.ms(v)} {p}" for (n, v, _), p in zip(values, shares, strict=True)]
        lines = legend_lines(items, width)
        if len(lines) > LEGEND_LINES:  # a narrow panel: every phase's share, times left out
            items = [f"{SHORT.get(n, n)} {p}" for (n, _, _), p in zip(values, shares, strict=True)]
            lines = legend_lines(items, width)
        styles = dict(zip(items, (style for _, _, style in values), strict=True))
        for line in lines:
            text.append("\n")
            for at, item in enumerate(line):
                text.append("  " if at else "")
                text.append("■ ", style=styles[item])
                text.append(item)
        return text


def legend_lines(items: list[str], width: int) -> list[list[str]]:
    """The legend's items ("■ " before each, two spaces between) in lines of ``width``."""
    lines: list[list[str]] = []
    used = 0
    for item in items:
        size = len(item) + 2
        if lines and used + 2 + size <= width:
            lines[-1].append(item)
            used += 2 + size
        else:
            lines.append([item])
            used = size
    return lines

"""The phases bar of `netscope run`: every phase stays visible on a narrow panel."""

from __future__ import annotations

from textual.app import App, ComposeResult

from netscope.app.widgets.phases_bar import PhasesBar
from netscope.engine.model import StepPhases


class _Host(App[None]):
    def compose(self) -> ComposeResult:
        yield PhasesBar()


async def _legend(width: int, phases: StepPhases) -> tuple[list[str], int]:
    """The bar's lines on a panel ``width`` wide, and the height it took."""
    app = _Host()
    async with app.run_test(size=(width, 10)) as pilot:
        bar = app.query_one(PhasesBar)
        bar.phases = phases
        await pilot.pause()
        return bar.render().plain.splitlines(), bar.size.height


async def test_the_legend_wraps_instead_of_dropping_phases() -> None:
    phases = StepPhases(data=0.348, forward=1.40, backward=1.46, optimizer=0.9, other=0.4)
    lines, height = await _legend(63, phases)
    assert len(lines[1]) == 63  # the bar spans the panel
    legend = " ".join(lines[2:])
    for phase in ("data", "forward", "backward", "optimizer", "other"):
        assert f"■ {phase} " in legend
    assert all(len(line) <= 63 for line in lines)
    assert height == len(lines)


async def test_an_80_column_panel_keeps_every_phase_within_the_panels_height() -> None:
    """At 80x24 the side panel is ~31 columns: one phase a line would not fit its five lines,
    so every phase keeps its share, short names, times left out."""
    phases = StepPhases(data=0.348, forward=392.0, backward=682.0, optimizer=0.9, other=4)
    lines, height = await _legend(31, phases)
    assert len(lines) <= 5 and height == len(lines)
    legend = " ".join(lines[2:])
    for phase in ("data", "fwd", "bwd", "opt", "other"):
        assert f"■ {phase} " in legend
    assert "fwd 36%" in legend and all(len(line) <= 31 for line in lines)

"""The phases bar of `netscope run`: every phase stays visible on a narrow panel."""

from __future__ import annotations

from textual.app import App, ComposeResult

from netscope.app.widgets.phases_bar import PhasesBar
from netscope.engine.model import StepPhases


class _Host(App[None]):
    def compose(self) -> ComposeResult:
        yield PhasesBar()


async def test_the_legend_wraps_instead_of_dropping_phases() -> None:
    app = _Host()
    async with app.run_test(size=(63, 10)) as pilot:
        bar = app.query_one(PhasesBar)
        bar.phases = StepPhases(data=0.348, forward=1.40, backward=1.46, optimizer=0.9, other=0.4)
        await pilot.pause()
        lines = bar.render().plain.splitlines()
        assert len(lines[1]) == 63  # the bar spans the panel
        legend = " ".join(lines[2:])
        for phase in ("data", "forward", "backward", "optimizer", "other"):
            assert f"■ {phase} " in legend
        assert all(len(line) <= 63 for line in lines)
        assert bar.size.height == len(lines)

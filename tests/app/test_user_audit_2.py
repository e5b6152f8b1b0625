"""More defects a user met driving the app in a terminal on real models (a training script under
`netscope run`, a model file with a syntax error, a checkpoint alone, the sample MLP): each test
runs the real app under Pilot and reads what the terminal shows."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

SCRIPTS = Path(__file__).parent / "run_scripts"


def _shown(widget) -> list[str]:
    """The widget's lines as the terminal shows them (cut where the widget cuts them)."""
    return [widget.render_line(y).text.rstrip() for y in range(widget.size.height)]


async def test_the_step_time_line_fits_at_160_and_at_80_columns(monkeypatch):
    """At 160 columns the run screen's step line read "Step time: median 1.20 ms · p10 430.9 µs
    · p90 26.96 ms · 200 ", the step count's words and what a step is cut; at 80 columns even
    p90 was gone. Each part is whole: on two lines, in fewer words where the panel is narrow."""
    from netscope.app.run_app import RunApp
    from netscope.engine.run.session import RunSession

    monkeypatch.chdir(SCRIPTS)
    session = RunSession("adamw_loop.py", capture_output=True, system=False)
    app = RunApp(session)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            began = time.monotonic()
            while app.recorder.exit_code is None and time.monotonic() - began < 120:
                await asyncio.sleep(0.3)
            await pilot.pause(0.6)
            assert app.recorder.exit_code == 0
            report = app.recorder.report()
            assert report.steps == 200 and report.step_ms is not None
            step = app.main.query_one("#step-text")
            wide = _shown(step)
            text = " ".join(wide)
            for part in ("Step time: median", "p10 ", "p90 ", "200 steps"):
                assert part in text, wide
            assert "(a step ends at each optimizer.step())" in text, wide
            assert all(len(line) < step.size.width for line in wide), wide  # nothing cut
            await pilot.resize_terminal(80, 24)
            await pilot.pause(0.3)
            narrow = _shown(step)
            text = " ".join(narrow)
            assert 1 <= len(narrow) <= 2, narrow
            for part in ("200 steps", "median ", "p10 ", "p90 "):
                assert part in text, narrow
            assert text.split("p90 ")[1].split()[1] in ("ms", "µs", "s"), narrow  # p90's unit
            await pilot.press("q")
            await pilot.pause(0.2)
    finally:
        session.close()

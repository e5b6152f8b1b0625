"""The run app's Compile tab fills while the script runs (Textual's Pilot driving the real run
app on a real compiled script): the script's own graph break shows at its line before the script
ends, then the tab holds the final story (tests/app/run_scripts/compile_live.py)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from rich.console import Console

from netscope.app.run_app import RunApp
from netscope.app.widgets.compile_panel import SO_FAR, CompilePanel
from netscope.engine.run.session import RunSession

pytestmark = pytest.mark.slow
SCRIPTS = Path(__file__).parent / "run_scripts"


def _shown(app: RunApp) -> str:
    console = Console(width=200, record=True)
    console.print(app.main.query_one(CompilePanel).render())
    return console.export_text()


def _break_line() -> int:
    lines = (SCRIPTS / "compile_live.py").read_text().splitlines()
    return next(n for n, line in enumerate(lines, start=1) if 'print("forward ran")' in line)


async def test_the_compile_tab_shows_a_graph_break_before_the_script_ends(tmp_path, monkeypatch):
    monkeypatch.chdir(SCRIPTS)
    flag = tmp_path / "stop"
    session = RunSession("compile_live.py", [str(flag)], capture_output=True, system=False)
    app = RunApp(session)
    where = f"compile_live.py:{_break_line()}"
    try:
        async with app.run_test(size=(200, 50)) as pilot:
            began = time.monotonic()
            while where not in _shown(app) and time.monotonic() - began < 90:
                await asyncio.sleep(0.2)
            shown = _shown(app)
            # the script waits for the flag up to 300 s: the break was shown while it ran
            assert app.recorder.exit_code is None and app.recorder.state == "running"
            assert where in shown and "print" in shown, shown
            assert SO_FAR in shown and "1 graph break(s)" in shown
            flag.write_text("")  # the script may end now
            while app.recorder.exit_code is None and time.monotonic() - began < 150:
                await asyncio.sleep(0.2)
            await pilot.pause(0.6)
            assert app.recorder.exit_code == 0
            shown = _shown(app)
            assert where in shown and SO_FAR not in shown
            await pilot.press("q")
            await pilot.pause(0.2)
    finally:
        session.close()

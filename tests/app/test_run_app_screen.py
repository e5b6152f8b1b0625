"""The run screen over a real ``netscope run`` of a short script (Textual's Pilot): locations in
an installed package read from the package, a progress bar's carriage returns shown as a terminal
shows them, the system panel's words once the job ended without a sample, and the Compile tab."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import until_the_script_exits
from rich.console import Console
from textual.widgets import Static

from netscope.app.run_app import RunApp
from netscope.app.screens.help import HelpScreen
from netscope.app.widgets.compile_panel import NOTHING, CompilePanel
from netscope.app.widgets.loop_copies_table import LoopCopiesTable
from netscope.app.widgets.loop_syncs_table import LoopSyncsTable
from netscope.app.widgets.script_log import ScriptLog
from netscope.app.widgets.system_panel import NO_SAMPLE_TAKEN, SystemPanel
from netscope.engine.run.session import RunSession
from tests.run.helpers import line_of

SCRIPTS = Path(__file__).parent / "run_scripts"
RUN_SCRIPTS = Path(__file__).parents[1] / "run" / "scripts"
STEPLIB = "def log_loss(loss):\n    return float(loss.item())  # a sync, inside a package\n"


def _text(renderable: object) -> str:
    console = Console(width=200, record=True)
    console.print(renderable)
    return console.export_text()


async def test_the_run_screen_after_a_real_run(tmp_path, monkeypatch):
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    (site / "steplib").mkdir(parents=True)
    (site / "steplib" / "__init__.py").write_text(STEPLIB)
    monkeypatch.setenv("PYTHONPATH", f"{site}:{Path.cwd()}")
    monkeypatch.chdir(SCRIPTS)
    session = RunSession("progress_loop.py", every=2, capture_output=True, system=False)
    app = RunApp(session)
    try:
        async with app.run_test(size=(200, 50)) as pilot:
            assert await until_the_script_exits(app, pilot) == 0
            report = app.recorder.report()
            assert report.syncs, report.notes
            syncs = app.main.query_one(LoopSyncsTable).data_rows
            locations = [row[4] for row in syncs]
            assert "steplib/__init__.py:2" in locations, syncs  # not .../venv/lib/pyt
            assert any(str(site) in (s.finding.location or "") for s in report.syncs)  # JSON: all
            # no copy here: the tab says in how many sampled steps of how many, not "none found"
            assert not report.copies and report.sampled_steps
            copies = app.main.query_one(LoopCopiesTable).data_rows
            assert copies[0][0] == report.none_seen("host-device copies")
            assert copies[0][0].startswith(f"No host-device copies in the {report.sampled_steps} ")
            log = app.main.query_one(ScriptLog)
            shown = ["".join(segment.text for segment in strip) for strip in log.lines]
            bars = [line for line in shown if "training" in line]
            assert [b.rstrip() for b in bars] == [f"training 30/30 |{'#' * 30}|"]
            assert "done" in [line.rstrip() for line in shown]
            system = _text(app.main.query_one(SystemPanel).render())
            assert NO_SAMPLE_TAKEN in system and "yet" not in system
            assert NOTHING in _text(app.main.query_one(CompilePanel).render())
            await pilot.press("question_mark")  # run's own keys: the tab bar, no profiling key
            assert isinstance(app.screen, HelpScreen)
            shown = _text(app.screen.query_one("#help-keys", Static).content)
            assert "on the tab bar: Output, Blocks, Syncs" in shown and "profiling" not in shown
            assert "top blocks by FLOPs" in shown  # b, as on the model app's main screen
            await pilot.press("escape")
            await pilot.press("q")
            await pilot.pause(0.2)
    finally:
        session.close()


@pytest.mark.slow
async def test_the_compile_tab_tells_the_scripts_own_compile_story(monkeypatch):
    monkeypatch.chdir(RUN_SCRIPTS)
    args = ["--case", "limit", "--steps", "12"]
    session = RunSession("compiled_loop.py", args, capture_output=True, system=False)
    app = RunApp(session)
    try:
        async with app.run_test(size=(200, 50)) as pilot:
            assert await until_the_script_exits(app, pilot, timeout=180) == 0
            shown = _text(app.main.query_one(CompilePanel).render())
            assert "frame(s) compiled" in shown
            forward = line_of("compiled_loop.py", "def forward(self, x: torch.Tensor, scale")
            assert f"forward at {forward} hit dynamo's recompile limit (2)" in shown
            assert "scale == 1.0" in shown  # the recompile's failed guard
            await pilot.press("q")
            await pilot.pause(0.2)
    finally:
        session.close()

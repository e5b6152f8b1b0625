"""Filter, matches, live panels, profiling toggle, export, screenshot, help, error and quit."""

from __future__ import annotations

import json
import os

from conftest import build_app, measured, toy_messages, wait_for
from rich.console import Console
from textual.widgets import Static

from netscope.app.messages import SystemUpdate, TimingUpdate
from netscope.app.screens.error import ErrorScreen
from netscope.app.screens.export import ExportScreen
from netscope.app.screens.help import HelpScreen
from netscope.app.widgets.block_tree import BlockTree
from netscope.app.widgets.blocks_table import BlocksTable
from netscope.app.widgets.copies_table import CopiesTable
from netscope.app.widgets.device_timing import DeviceTiming
from netscope.app.widgets.progress_line import ProgressLine
from netscope.app.widgets.step_sparkline import StepSparkline
from netscope.app.widgets.syncs_table import SyncsTable
from netscope.app.widgets.system_panel import SystemPanel
from netscope.engine.model import SystemSample
from netscope.engine.profiler import messages as wm


def _selected(app) -> str:
    return app.main.query_one(BlockTree).selected_key.name


async def test_filter_by_marker_and_step_through_matches(toy_app):
    app, _ = toy_app
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.press("slash", *"tied", "enter")
        assert [k.name for k in app.main.matches] == ["embed.weight", "head.weight"]
        assert _selected(app) == "embed.weight"
        await pilot.press("n")
        assert _selected(app) == "head.weight"
        await pilot.press("n")
        assert _selected(app) == "embed.weight"
        await pilot.press("N")
        assert _selected(app) == "head.weight"
        shown = [n.data.name for n in app.main.query_one(BlockTree).root.children]
        assert shown == ["embed", "head"]  # only matches and their ancestors
        await pilot.press("slash", "escape")
        shown = [n.data.name for n in app.main.query_one(BlockTree).root.children]
        assert len(shown) == 5 and app.main.matches == []
        assert _selected(app) == "head.weight"  # the user's place is kept, not the root
        assert app.main.query_one(BlockTree).cursor_node.data.name == "head.weight"


async def test_filter_by_class_and_by_lazy(toy_app):
    app, _ = toy_app
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.press("slash", *"lazy", "enter")
        assert [k.name for k in app.main.matches] == ["body.0.weight", "body.0.bias"]
        assert _selected(app) == "body.0.weight"
        app.main.apply_filter("linear")
        await pilot.pause()
        assert [k.name for k in app.main.matches] == ["body.0", "shared", "head"]
        app.main.apply_filter("nothing-like-this")
        assert app.main.matches == []


async def test_live_panels_fill_from_the_stream(toy_app):
    app, _ = toy_app
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: measured(app))
        timing = app.main.query_one(DeviceTiming)
        assert timing.device == "cpu" and len(timing.window) == 12
        assert timing.summary.median_ms == 1.2
        line = str(timing.query_one(".timing-line").render())
        assert "median 1.20 ms p10 1.00 ms p90 1.40 ms (12 runs)" in line
        spark = timing.query_one(StepSparkline)
        bottom = str(spark.render()).split("\n")[1]
        assert len(bottom) == spark.size.width and bottom.endswith("▁▅███▁▅")  # one cell a step
        assert bottom[: spark.size.width - 12].strip() == ""  # a rolling window, not stretched
        assert app.main.query_one(BlocksTable).data_rows[0] == ("shared", "cpu", "600.0 µs",
                                                                "600.0 µs", "2")  # fmt: skip
        copies = app.main.query_one(CopiesTable).data_rows
        assert copies == [("H2D", "4.0 KiB", "3", "float32", "body.0", "toy.py:22", "")]
        syncs = app.main.query_one(SyncsTable).data_rows
        assert syncs[0][:4] == (".item()", "Tensor.item() reads", "1", "n/a (cpu)")
        system = app.main.query_one(SystemPanel)
        assert system.sample.process_cpu_percent == 97.0
        await pilot.press("tab", "tab", "right", "right", "right", "right")  # to the System tab
        text = str(system.render().renderables[-1])
        assert "not available" in text


async def test_profiling_pause_resume_and_start():
    stream = [m for m in toy_messages() if not isinstance(m, wm.Finished)]  # keeps streaming
    stream.append(wm.Progress("live"))  # the worker goes on timing the step
    app, source = build_app(stream)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        progress = app.main.query_one(ProgressLine)
        await wait_for(pilot, lambda: progress.stage == "live")
        assert app.status == "running" and "⋯ live" in str(progress.render())
        await pilot.press("p")
        assert app.status == "paused" and source.paused
        line = str(progress.render())  # paused: the worker is not timing anything now
        assert "paused (p)" in line and "⋯" not in line
        await pilot.press("p")
        assert app.status == "running" and not source.paused
        assert "⋯ live" in str(progress.render())
    app, source = build_app(autostart=False)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        assert app.status == "off" and source.starts == 1
        await pilot.press("p")
        assert source.starts == 2 and app.status == "running" and source.live
        await wait_for(pilot, lambda: measured(app))
        assert app.status == "running"  # a live session keeps timing the step after Finished
        assert "measurements complete" in app.main.query_one("ProgressLine").profiling


async def test_export_html_and_json(toy_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app, _ = toy_app
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: measured(app))
        await pilot.press("e")
        assert isinstance(app.screen, ExportScreen)
        await pilot.press("enter")
        html = tmp_path / "netscope-toy.html"
        assert app.last_export == str(html) and html.exists()
        assert "ToyNet" in html.read_text()
        await pilot.press("e", "shift+tab", "right")  # to the formats; an arrow picks JSON
        path = app.screen.query_one("#export-path").value
        assert app.screen.fmt == "json" and path == str(tmp_path / "netscope-toy.json")
        await pilot.press("enter")  # Enter on the formats writes too
        report = json.loads((tmp_path / "netscope-toy.json").read_text())
        assert "ToyNet" in json.dumps(report)
        assert not isinstance(app.screen, ExportScreen)
        assert app.last_export == str(tmp_path / "netscope-toy.json")


async def test_export_format_renames_the_file_and_escape_cancels(toy_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app, _ = toy_app
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.press("e")
        path_input = app.screen.query_one("#export-path")
        path_input.value = str(tmp_path / "mine.html")
        await pilot.press("shift+tab", "left")  # wraps round to Chrome trace
        assert app.screen.fmt == "chrome-trace"
        assert path_input.value == str(tmp_path / "mine.trace.json")
        await pilot.press("left")
        assert path_input.value == str(tmp_path / "mine.md")
        await pilot.press("escape")
        assert not isinstance(app.screen, ExportScreen)
        assert app.last_export is None and list(tmp_path.iterdir()) == []


async def test_screenshot_and_help(toy_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app, _ = toy_app
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.press("s")
        assert app.last_screenshot and os.path.dirname(app.last_screenshot) == str(tmp_path)
        with open(app.last_screenshot) as shot:
            assert shot.read().startswith("<svg")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=160, record=True)
        console.print(app.screen.query_one("#help-markers", Static).content)
        assert "holds [local] of the [global] shape" in console.export_text()  # not markup
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_error_screen_retry_then_quit():
    failing = [
        wm.Progress("building"),
        wm.WorkerError("build_model() raised: ValueError: bad width", "building", "toy.py:7",
                       'File "toy.py", line 7\nValueError: bad width'),
    ]  # fmt: skip
    app, source = build_app(failing)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "bad width" in text and "toy.py:7" in text and "line 7" in text
        source.messages = toy_messages()  # the user fixed the file
        await pilot.press("r")
        await wait_for(pilot, lambda: app.snapshot is not None)
        assert source.starts == 2 and not isinstance(app.screen, ErrorScreen)
    app, source = build_app(failing)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 2


async def test_error_title_names_profiling_or_loading():
    failing = [wm.WorkerError("step() raised", "timing the step on cpu", "toy.py:9")]
    app, _ = build_app(failing)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        title = str(app.screen.query_one("#error-title").render())
        assert title == "Profiling failed (timing the step on cpu)"
    app, _ = build_app([wm.WorkerError("bad", "building")])
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        title = str(app.screen.query_one("#error-title").render())
        assert title == "Loading the model failed (building)"


async def test_quit_stops_the_worker():
    app, source = build_app([wm.Progress("building")])  # a worker that never finishes
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: source.starts == 1)
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None)
    assert source.cancelled and app.return_code == 0


def test_frequent_messages_replace_stale_ones():
    sample = SystemSample(0.0, None, None)
    assert TimingUpdate("cpu", (1.0,), 1, 1).can_replace(TimingUpdate("cpu", (1.0, 2.0), 2, 1))
    assert not TimingUpdate("cpu", (), 1, 1).can_replace(TimingUpdate("cuda:0", (), 1, 1))
    assert SystemUpdate(sample, 1).can_replace(SystemUpdate(sample, 1))


async def test_wide_terminal_shows_timing_beside_the_tables_and_narrow_uses_tabs(toy_app):
    app, _ = toy_app
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: measured(app))
        timing, blocks = app.main.query_one(DeviceTiming), app.main.query_one(BlocksTable)
        assert timing.region.height and blocks.region.height  # both on screen at once
        assert app.main.query_one(SystemPanel).region.height
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: not app.main.query_one("LivePanels").wide)
        await pilot.pause()
        timing = app.main.query_one(DeviceTiming)  # rebuilt, and refilled from what arrived
        assert len(timing.window) == 12 and timing.summary.median_ms == 1.2
        assert app.main.query_one(BlocksTable).data_rows[0][0] == "shared"
        assert not app.main.query_one(BlocksTable).region.height  # behind its tab now

"""More defects a user met driving the app in a terminal on real models (a training script under
`netscope run`, a model file with a syntax error, a checkpoint alone, the sample MLP): each test
runs the real app under Pilot and reads what the terminal shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import build_app, until_the_script_exits, wait_for

from netscope.engine import api  # a broken engine fails these tests, never skips them
from netscope.engine.options import LoadOptions
from netscope.engine.profiler import messages as wm

SCRIPTS = Path(__file__).parent / "run_scripts"
MLP = str(Path(__file__).parents[2] / "sample_models" / "mlp.py")


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
            assert await until_the_script_exits(app, pilot) == 0
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


BROKEN_FILE = (
    "import torch\nfrom torch import nn\n\n\ndef build_model(:\n    return nn.Linear(2, 2)\n"
)


async def test_a_syntax_errors_traceback_shows_the_users_file_not_netscopes(tmp_path):
    """A model file with a syntax error, loaded by the real worker: the error screen's traceback
    began at netscope/engine/load/modelfile.py:47 (netscope's import of the file) and went
    through importlib's frozen frames before reaching the user's file and line."""
    from multiprocessing import resource_tracker

    from textual.widgets import Static

    from netscope.app.app import make_app
    from netscope.app.screens.error import ErrorScreen
    from netscope.engine.options import LoadOptions, ProfileOptions

    resource_tracker.ensure_running()  # as run_app does: the app's stderr cannot spawn it
    path = tmp_path / "broken_model.py"
    path.write_text(BROKEN_FILE)
    app = make_app(LoadOptions(str(path)), ProfileOptions())
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen), timeout=60)
        await pilot.pause()
        error = app.screen.error
        assert "modelfile.py" not in error.traceback_tail  # the worker leaves netscope's out
        shown = str(app.screen.query_one("#error-traceback", Static).content)
        assert "netscope" not in shown and "importlib" not in shown, shown
        assert f'File "{path}", line 5' in shown, shown
        assert "def build_model(:" in shown and shown.endswith("SyntaxError: invalid syntax")
        where = str(app.screen.query_one("#error-location", Static).content)
        assert where.endswith("broken_model.py:5"), where
        await pilot.press("q")


@pytest.fixture(scope="module")
def mlp_snapshot():
    return api.take_snapshot(LoadOptions(MLP))


async def test_an_export_that_failed_keeps_the_path_the_user_typed(mlp_snapshot, tmp_path):
    """Exporting the sample MLP to a path that cannot be written: a notification said so and the
    dialog was gone; `e` opened it at the default path, the typed one to be typed again. The
    dialog comes back at once with the path as typed, the format kept and the error in it."""
    from textual.widgets import Input, Label

    from netscope.app.screens.export import ExportScreen

    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file, not a folder")
    typed = str(blocker / "mlp_report.md")
    app, _ = build_app([wm.SnapshotReady(mlp_snapshot), wm.Finished(None)], load=LoadOptions(MLP))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.press("e")
        assert isinstance(app.screen, ExportScreen)
        app.screen.query_one("#export-path", Input).value = str(blocker / "mlp_report.html")
        await pilot.press("shift+tab", "right", "right")  # HTML → JSON → Markdown
        assert app.screen.fmt == "markdown"
        await pilot.press("tab", "enter")
        await pilot.pause(0.2)
        assert app.last_export is None and not (blocker / "mlp_report.md").exists()
        assert any(n.severity == "error" for n in app._notifications)
        assert isinstance(app.screen, ExportScreen), "the dialog closed: the path is lost"
        assert app.screen.query_one("#export-path", Input).value == typed
        assert app.screen.fmt == "markdown"
        assert "Not written" in str(app.screen.query_one("#export-error", Label).content)
        await pilot.press("escape")  # given up for now: `e` still offers what was typed
        assert not isinstance(app.screen, ExportScreen)
        await pilot.press("e")
        assert app.screen.query_one("#export-path", Input).value == typed
        fixed = tmp_path / "mlp_report.md"
        app.screen.query_one("#export-path", Input).value = str(fixed)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.last_export == str(fixed) and "Sequential" in fixed.read_text()


GPT2_FILE = """
import torch
import transformers

def build_model():
    torch.manual_seed(0)
    config = transformers.GPT2Config(n_layer=2, n_embd=16, n_head=2, vocab_size=50, n_positions=16)
    return transformers.GPT2LMHeadModel(config)

def example_input():
    return {"input_ids": torch.zeros(1, 4, dtype=torch.long)}
"""


@pytest.fixture(scope="module")
def gpt2_snapshot(tmp_path_factory):
    path = tmp_path_factory.mktemp("gpt2") / "gpt2_file.py"
    path.write_text(GPT2_FILE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        return api.take_snapshot(LoadOptions(str(path)))


async def test_j_and_k_move_in_the_top_blocks_dialog_as_in_the_tree(gpt2_snapshot):
    """In the top-blocks dialog of a real GPT-2, `j` `j` Enter jumped to the first row's block:
    j and k did nothing there, though they move the tree's cursor."""
    from textual.widgets import DataTable

    from netscope.app.screens.top_blocks import TopBlocksScreen
    from netscope.app.widgets.block_tree import BlockTree

    app, _ = build_app([wm.SnapshotReady(gpt2_snapshot), wm.Finished(None)], autostart=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.press("b")
        assert isinstance(app.screen, TopBlocksScreen)
        rows = app.screen.rows
        assert len(rows) > 3
        await pilot.press("j", "j", "j", "k")
        assert app.screen.query_one(DataTable).cursor_row == 2
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, TopBlocksScreen)
        node = app.main.query_one(BlockTree).cursor_node
        assert node is not None and node.data.kind == "block" and node.data.name == rows[2].path


async def test_at_80_columns_the_status_and_the_top_blocks_figures_are_whole(gpt2_snapshot):
    """A real GPT-2 at 80x24: the status line read "GPT2LMHeadModel · 7,648 params  profiling:
    running (p pauses) · measurements" (the class, which heads the tree, crowding out the
    state), and the top-blocks table's inclusive column was cut to "24.6" (its long paths
    pushed it off the dialog)."""
    from textual.widgets import DataTable

    from netscope.app import format as fmt
    from netscope.app.screens.top_blocks import TopBlocksScreen
    from netscope.app.widgets.progress_line import ProgressLine

    app, _ = build_app([wm.SnapshotReady(gpt2_snapshot), wm.Finished(None)])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot, lambda: "measurements complete" in app.main.query_one(ProgressLine).profiling
        )
        await pilot.pause()
        status = _shown(app.main.query_one(ProgressLine))[0]
        assert "profiling: running (p pauses) · measurements complete" in status, status
        assert "7,648 params" in status, status
        await pilot.press("b")
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, TopBlocksScreen) and len(screen.rows) > 5
        table = screen.query_one(DataTable)
        lines = _shown(table)
        assert "inclusive" in lines[0], lines[0]
        for row, line in zip(screen.rows, lines[1:], strict=False):
            assert line.endswith(fmt.flops(row.inclusive)), (line, row)
            assert row.path.rsplit(".", 1)[-1] in line  # the path's end tells rows apart
        assert table.virtual_size.width <= table.size.width  # nothing to scroll sideways to
        await pilot.press("j", "j", "enter")  # the full path is still what Enter jumps to
        await pilot.pause()
        node = app.main.query_one("BlockTree").cursor_node
        assert node.data.name == screen.rows[2].path


async def test_a_checkpoint_alone_claims_no_class_module_or_source(tmp_path):
    """`netscope ckpt.pt` on a torch.save of the sample MLP's state_dict: the root's details
    read "module" (empty) and "source built-in", as if a built-in module had been found; a
    checkpoint alone holds tensors by name, no module at all. Its groups said the same."""
    import torch

    from netscope.app.tree_index import NodeKey
    from netscope.app.widgets.details_panel import DetailsPanel

    ckpt = tmp_path / "mlp.pt"
    torch.save(api.load_target(LoadOptions(MLP)).model.state_dict(), ckpt)
    load = LoadOptions(str(ckpt))
    snapshot = api.take_snapshot(load)
    assert snapshot.kind == "checkpoint"
    app, _ = build_app([wm.SnapshotReady(snapshot)], load=load)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        group = next(b.path for b in snapshot.blocks if b.path)
        for path in ("", group):
            app.main.jump(NodeKey("block", path, ""))
            await pilot.pause()
            panel = app.main.query_one(DetailsPanel)
            rows = {line.split()[0] for line in panel.plain_text.splitlines() if line.strip()}
            assert "source" not in rows and "module" not in rows, panel.plain_text
            assert "built-in" not in panel.plain_text
            shown = panel.plain_text.splitlines()
            kind = next(line for line in shown if line.lstrip().startswith("class"))
            assert "none: a checkpoint alone holds tensors" in kind, shown
